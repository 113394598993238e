/**
 * The servers a benchmark measures, each in its own process so the clients' work is not counted
 * against them: the local cloud (`local/start.ts`) and a raw `ws` broadcast server, the floor.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface RunningServer {
  wsUrl: string;
  pid: number;
  /** Milliseconds from spawn to ready. */
  readyMs: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => reject(new Error(`server not ready after ${timeoutMs} ms:\n${buffer.slice(-2000)}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString();
      const match = buffer.match(pattern);
      if (match) {
        clearTimeout(timer);
        resolve(match);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before it was ready:\n${buffer.slice(-2000)}`));
    });
  });
}

function stopper(child: ChildProcess): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGINT');
      setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
    });
}

/**
 * Starts `npm start`'s script with free ports and a fresh data folder unless one is given, with the
 * default limits (10 messages/s per connection) unless `args` says otherwise (e.g. `--limits off`).
 */
export async function startLocalCloud(options: { dataDir?: string; args?: string[] } = {}): Promise<RunningServer> {
  const ownDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(os.tmpdir(), 'bench-cloud-')));
  const started = Date.now();
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(ROOT, 'local', 'start.ts'),
      '--port',
      '0',
      '--gateway-port',
      '0',
      '--cos-port',
      '0',
      '--cloud-api-port',
      '0',
      '--data-dir',
      dataDir,
      ...(process.env.BENCH_VERBOSE ? [] : ['--quiet']),
      ...(options.args ?? []),
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const match = await waitForLine(child, /WebSocket:\s+(ws:\/\/\S+)/, 120_000);
  const readyMs = Date.now() - started;
  // Keep draining output so the child never blocks on a full pipe.
  child.stdout!.resume();
  child.stderr!.resume();
  const stop = stopper(child);
  return {
    wsUrl: match[1],
    pid: child.pid!,
    readyMs,
    child,
    stop: async () => {
      await stop();
      if (ownDataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Starts the raw ws broadcast server (the floor). */
export async function startRawServer(): Promise<RunningServer> {
  const started = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench', 'raw-server.ts')], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const match = await waitForLine(child, /listening (ws:\/\/\S+)/, 30_000);
  child.stdout!.resume();
  child.stderr!.resume();
  return { wsUrl: match[1], pid: child.pid!, readyMs: Date.now() - started, child, stop: stopper(child) };
}

/** Measures the raw floor, then the local cloud, each server stopped after its measurement. */
export async function measureBoth<T>(measure: (server: RunningServer) => Promise<T>): Promise<{ floor: T; local: T }> {
  const run = async (start: () => Promise<RunningServer>) => {
    const server = await start();
    try {
      return await measure(server);
    } finally {
      await server.stop();
    }
  };
  const floor = await run(startRawServer);
  const local = await run(() => startLocalCloud());
  return { floor, local };
}
