/**
 * A benchmark server's process tree (Linux /proc): the local cloud's own process and every process
 * below it, such as web-function instances (one per connection in web mode), redis-server, and
 * esbuild's service. Memory is read per process as VmRSS, and as Pss where the kernel gives it
 * (shared pages split between the processes that share them).
 */
import { readdir, readFile } from 'node:fs/promises';

export interface ProcessInfo {
  pid: number;
  ppid: number;
  /** The executable's short name (`node`, `redis-server`). */
  comm: string;
  /** The command line, arguments joined by spaces. */
  cmdline: string;
  /** Resident set size in bytes. */
  rss: number;
  /** Proportional set size in bytes: shared pages divided among their sharers. NaN when unreadable. */
  pss: number;
}

async function readOrEmpty(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    // the process exited between listing and reading
    return '';
  }
}

/** Parent pid and short name from /proc/<pid>/stat (the name is in parentheses and may hold spaces). */
function parseStat(stat: string): { ppid: number; comm: string } | undefined {
  const open = stat.indexOf('(');
  const close = stat.lastIndexOf(')');
  if (open < 0 || close < 0) return undefined;
  const fields = stat.slice(close + 2).split(' ');
  return { comm: stat.slice(open + 1, close), ppid: Number(fields[1]) };
}

const kbField = (text: string, name: string) => {
  const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text);
  return match ? Number(match[1]) * 1024 : NaN;
};

/** `root` and all its descendants, with their memory; processes gone meanwhile are left out. */
export async function processTree(root: number): Promise<ProcessInfo[]> {
  const parents = new Map<number, { ppid: number; comm: string }>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = parseStat(await readOrEmpty(`/proc/${entry}/stat`));
    if (stat) parents.set(Number(entry), stat);
  }
  const children = new Map<number, number[]>();
  for (const [pid, { ppid }] of parents) {
    const list = children.get(ppid) ?? [];
    list.push(pid);
    children.set(ppid, list);
  }
  const pids: number[] = [];
  const queue = parents.has(root) ? [root] : [];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    pids.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  const infos = await Promise.all(
    pids.map(async (pid): Promise<ProcessInfo | undefined> => {
      const [status, rollup, cmdline] = await Promise.all([
        readOrEmpty(`/proc/${pid}/status`),
        readOrEmpty(`/proc/${pid}/smaps_rollup`),
        readOrEmpty(`/proc/${pid}/cmdline`),
      ]);
      const rss = kbField(status, 'VmRSS');
      // a zombie has no VmRSS: it holds no memory any more
      if (Number.isNaN(rss)) return undefined;
      return {
        pid,
        ppid: parents.get(pid)!.ppid,
        comm: parents.get(pid)!.comm,
        cmdline: cmdline.split('\0').join(' ').trim(),
        rss,
        pss: kbField(rollup, 'Pss'),
      };
    }),
  );
  return infos.filter((info): info is ProcessInfo => info !== undefined);
}

/** A local cloud's tree split by role. */
export interface CloudProcesses {
  /** The local cloud's own process (gateway, SCF runtime, COS, Cloud API) and helpers such as esbuild. */
  cloud: ProcessInfo[];
  /** Web-function instances: node processes started with the local runtime's watchdog. */
  instances: ProcessInfo[];
  redis: ProcessInfo[];
}

/** Reads the tree below `root` and sorts it into the cloud itself, web-function instances and Redis. */
export async function cloudProcesses(root: number): Promise<CloudProcesses> {
  const split: CloudProcesses = { cloud: [], instances: [], redis: [] };
  for (const p of await processTree(root)) {
    if (p.comm.startsWith('redis-server')) split.redis.push(p);
    else if (p.cmdline.includes('web-watchdog.cjs')) split.instances.push(p);
    else split.cloud.push(p);
  }
  return split;
}

/** Sum of RSS (or PSS) over processes, in bytes. */
export function sumOf(processes: readonly ProcessInfo[], field: 'rss' | 'pss' = 'rss'): number {
  return processes.reduce((total, p) => total + p[field], 0);
}
