/**
 * What a benchmark's figures were measured on: the commit, the open-files limit, the load.
 */
import { execSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

/** The commit measured, and how many files under local/ and functions/ differ from it. */
export function codeVersion(): string {
  try {
    const commit = execSync('git rev-parse --short HEAD', { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
    const changed = execSync('git status --porcelain -- local functions', { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
    const count = changed === '' ? 0 : changed.split('\n').length;
    return count === 0 ? commit : `${commit} with ${count} files changed under local/ and functions/`;
  } catch {
    return 'unknown (not a git checkout)';
  }
}

/** `ulimit -n` of this shell. */
export function fdLimit(): string {
  try {
    return execSync('ulimit -n', { shell: '/bin/sh' }).toString().trim();
  } catch {
    return 'unknown';
  }
}

/** The one-minute load average: the machine may be shared, so figures are read beside it. */
export const load = (): number => os.loadavg()[0]!;

/** The three load averages, for a header or footer line. */
export const loads = (): string =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

/** CPU time so far, in clock ticks: the machine's busy time, and this process's with everything below it. */
export interface CpuSample {
  at: number;
  machineBusy: number;
  ours: number;
}

/** Ticks of a process and of its children that it reaped, from /proc/<pid>/stat; 0 once it is gone. */
function ticksOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime, stime, cutime, cstime: fields 14-17 of stat, 12-15 after the name
    return [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0);
  } catch {
    return 0;
  }
}

/**
 * Samples the CPU time of the machine and of this process with `tree` (the bench's servers and
 * their instances; those that exited count in their parent once reaped), to tell how much of the
 * machine others used meanwhile.
 */
export function sampleCpu(tree: readonly number[] = []): CpuSample {
  const [, ...values] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
  const [user, nice, system, , , irq, softirq, steal] = values.map(Number);
  const machineBusy = user! + nice! + system! + irq! + softirq! + steal!;
  const pids = new Set([process.pid, ...tree]);
  return { at: performance.now(), machineBusy, ours: [...pids].reduce((sum, pid) => sum + ticksOf(pid), 0) };
}

/** Cores other processes kept busy on average between two samples (of `os.cpus().length`). */
export function othersCores(from: CpuSample, to: CpuSample, ticksPerSecond = 100): number {
  const seconds = (to.at - from.at) / 1000;
  if (seconds <= 0) return NaN;
  return Math.max(0, (to.machineBusy - from.machineBusy - (to.ours - from.ours)) / ticksPerSecond / seconds);
}
