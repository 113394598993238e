/**
 * A real `redis-server` for a test file (Debian's `redis-server` package), on a free port with its
 * data in a temporary folder and the append-only file on, so what it held survives a restart.
 *
 *   const redis = await startRedis();
 *   // redis.env: { REDIS_HOST, REDIS_PORT }
 *   await redis.restart();   // stopped (data flushed), then started again on the same port
 *   await redis.stop();
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** The binary; `REDIS_SERVER` overrides it. */
export const REDIS_SERVER = process.env.REDIS_SERVER || 'redis-server';

/** Thrown when `redis-server` is not installed. */
export class RedisMissing extends Error {
  readonly code = 'ERR_REDIS_MISSING';
  constructor(binary: string) {
    super(`${binary} was not found: install Debian's redis-server package (sudo apt-get install redis-server), or set REDIS_SERVER to its path`);
  }
}

export interface RedisFixture {
  host: string;
  /** Stays the same across restarts. */
  port: number;
  /** The data folder (the append-only file is in it). */
  dir: string;
  /** What the web functions read: `REDIS_HOST`, `REDIS_PORT`. */
  env: { REDIS_HOST: string; REDIS_PORT: string };
  /** Whether the server is running. */
  readonly running: boolean;
  /** Stops the server (SIGTERM: it flushes its append-only file first); the data folder stays. */
  down(): Promise<void>;
  /** Starts it again on the same port with the same data. */
  up(): Promise<void>;
  /** {@link down}, then {@link up}. */
  restart(): Promise<void>;
  /** Stops the server and removes its data. */
  stop(): Promise<void>;
}

/** A port nothing listens on just now. */
export async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** Resolves once `host:port` answers PING with PONG, or rejects after `timeoutMs`. */
async function waitForPong(host: string, port: number, timeoutMs: number, exited: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const why = exited();
    if (why) throw new Error(why);
    const pong = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, host);
      let data = '';
      socket.setTimeout(500, () => socket.destroy());
      socket.on('connect', () => socket.write('PING\r\n'));
      socket.on('data', (chunk) => {
        data += chunk.toString();
        if (data.includes('\r\n')) {
          socket.destroy();
          resolve(data.startsWith('+PONG'));
        }
      });
      socket.on('error', () => resolve(false));
      socket.on('close', () => resolve(false));
    });
    if (pong) return;
    if (Date.now() > deadline) throw new Error(`redis-server on ${host}:${port} did not answer PING within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts `redis-server` (or `binary`) on a free port (or `port`) with its data in a new temporary folder. @throws RedisMissing */
export async function startRedis(options: { port?: number; binary?: string } = {}): Promise<RedisFixture> {
  const binary = options.binary ?? REDIS_SERVER;
  const host = '127.0.0.1';
  const port = options.port ?? (await freePort());
  const dir = await mkdtemp(path.join(os.tmpdir(), 'redis-test-'));
  let child: ChildProcess | undefined;
  let output = '';

  const up = async () => {
    if (child) return;
    output = '';
    const args = ['--port', String(port), '--bind', host, '--dir', dir, '--save', '', '--appendonly', 'yes', '--daemonize', 'no', '--protected-mode', 'no'];
    const started = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = started;
    let failure: string | undefined;
    started.stdout!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
    started.stderr!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
    started.once('error', (err: NodeJS.ErrnoException) => {
      failure = err.code === 'ENOENT' ? new RedisMissing(binary).message : `${binary} failed to start: ${err.message}`;
    });
    started.once('exit', (code, signal) => {
      failure ??= `${binary} exited (${signal ?? code}) before answering:\n${output}`;
      if (child === started) child = undefined;
    });
    try {
      await waitForPong(host, port, 15_000, () => failure);
    } catch (err) {
      started.kill('SIGKILL');
      child = undefined;
      if (failure?.includes('was not found')) throw new RedisMissing(binary);
      throw err;
    }
  };

  const down = async () => {
    const running = child;
    if (!running) return;
    child = undefined;
    if (running.exitCode !== null || running.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      running.once('exit', () => resolve());
      running.kill('SIGTERM');
    });
  };

  try {
    await up();
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    host,
    port,
    dir,
    env: { REDIS_HOST: host, REDIS_PORT: String(port) },
    get running() {
      return child !== undefined;
    },
    down,
    up,
    async restart() {
      await down();
      await up();
    },
    async stop() {
      await down();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A TCP proxy in front of Redis, for one instance's view of it: `block()` cuts every connection
 * through it and refuses new ones (that instance has lost Redis while others have not), `unblock()`
 * lets them through again.
 */
export interface RedisProxy {
  port: number;
  env: { REDIS_HOST: string; REDIS_PORT: string };
  block(): void;
  unblock(): void;
  stop(): Promise<void>;
}

export async function startRedisProxy(target: { host: string; port: number }): Promise<RedisProxy> {
  let blocked = false;
  const open = new Set<net.Socket>();
  const server = net.createServer((client) => {
    if (blocked) return client.destroy();
    const upstream = net.connect(target.port, target.host);
    open.add(client).add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  const block = () => {
    blocked = true;
    for (const socket of open) socket.destroy();
    open.clear();
  };
  return {
    port,
    env: { REDIS_HOST: '127.0.0.1', REDIS_PORT: String(port) },
    block,
    unblock() {
      blocked = false;
    },
    async stop() {
      block();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
