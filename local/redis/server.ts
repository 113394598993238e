/**
 * A real Redis for web-mode stacks: Debian's `redis-server`, one process per stack, bound to
 * loopback on a free port, with its data (append-only file on) in `<dataDir>/redis/<stack>/`, so
 * what the functions kept survives a restart of the local cloud, as a TencentDB for Redis
 * instance's data survives a restart of its clients.
 *
 * - The configuration is a file in that folder (owner-only), so the password is never on a
 *   command line that `ps` shows.
 * - The port used last is used again when it is free, so a re-deploy sees the same address.
 * - A server left running by a local cloud that was killed (its pid file names it, and its command
 *   line names this folder's configuration) is stopped before a new one starts.
 * - Ready means it answers PING (after AUTH when it has a password), which it does only once its
 *   data is loaded.
 * - The process gets a process group of its own, so Ctrl-C in a terminal reaches the local cloud,
 *   which stops it in order, rather than Redis directly.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { connect } from 'node:net';
import path from 'node:path';
import { CodedError, describeError } from '../coded-error';
import { makePrivateDir, writePrivateFile } from '../cos/private-files';
import { readJsonFile, writePrivateJsonFile } from '../json-file';
import { freePort, isFreePort } from '../scf/free-port';
import { readLines } from '../scf/output';

/** Codes of {@link RedisError}. */
export type RedisErrorCode =
  /** No `redis-server` on the PATH (or at the path given). */
  | 'ERR_REDIS_MISSING'
  /** It exited, or did not answer PING, before it was ready. */
  | 'ERR_REDIS_START'
  /** A stack name or password it cannot use. */
  | 'ERR_REDIS_ARGUMENT'
  /** The service is stopped. */
  | 'ERR_REDIS_STOPPED';

export class RedisError extends CodedError<RedisErrorCode> {}

/** The Debian package that has the binary, which the error for a missing one names. */
export const REDIS_PACKAGE = 'redis-server';

/** Where a running Redis listens. */
export interface RedisAddress {
  host: string;
  port: number;
}

export interface LocalRedisOptions {
  /** The folder the servers' data goes in: `<dataDir>/redis/` (one subfolder per stack). */
  directory: string;
  /** The binary: a path, or a name looked up on `env.PATH`. Default `redis-server`. */
  binary?: string;
  /** Where the binary is looked up (`PATH`). Default: this process's environment. */
  env?: NodeJS.ProcessEnv;
  /** How long a start may take, loading its data included. Default 30 000 ms. */
  startTimeoutMs?: number;
  /** Redis's own warnings and the start and stop lines, prefixed `[redis <stack>]`. */
  log?: (line: string) => void;
}

/** What {@link LocalRedis.ensure} takes. */
export interface RedisRequest {
  /** `requirepass`: clients must AUTH with it. None: no password (loopback only). */
  password?: string;
}

/** A stack's name is a folder name here. */
const STACK_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const STOP_GRACE_MS = 5000;
/**
 * Lines every start and stop prints (at `loglevel warning` too), and the overcommit warning, which
 * matters to background saves of a loaded server, not to a local one: kept for a failed start's
 * error, not logged.
 */
const ROUTINE_LINE =
  /Redis is starting|Redis version=|Configuration loaded|Server initialized|Received SIG|User requested shutdown|ready to exit|Memory overcommit|Saving the final|DB saved on disk|Removing the pid file/;

/**
 * Finds the `redis-server` binary: a path is checked as it is, a bare name looked up on `PATH`.
 * @throws RedisError `ERR_REDIS_MISSING`, naming the Debian package to install.
 */
export function findRedisServer(binary = 'redis-server', env: NodeJS.ProcessEnv = process.env): string {
  const candidates = binary.includes('/')
    ? [path.resolve(binary)]
    : (env.PATH ?? '')
        .split(path.delimiter)
        .filter(Boolean)
        .map((dir) => path.join(dir, binary));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not this one
    }
  }
  const where = binary.includes('/') ? `at ${binary}` : `on the PATH (${env.PATH || 'empty'})`;
  throw new RedisError(
    'ERR_REDIS_MISSING',
    `web mode needs Redis, and there is no ${binary} ${where}: install Debian's package ${REDIS_PACKAGE} (sudo apt-get install ${REDIS_PACKAGE}); event mode needs none`,
  );
}

/** The Redis servers of a data folder, one per stack, started on demand. */
export class LocalRedis {
  readonly #options: LocalRedisOptions;
  readonly #servers = new Map<string, RedisServer>();
  /** Starts and restarts per stack, one after another. */
  readonly #queues = new Map<string, Promise<unknown>>();
  #stopped = false;

  constructor(options: LocalRedisOptions) {
    this.#options = options;
  }

  /** Throws {@link RedisError} `ERR_REDIS_MISSING` now rather than at the first {@link ensure}. */
  checkInstalled(): string {
    return findRedisServer(this.#options.binary, this.#options.env);
  }

  /**
   * The stack's Redis, started if it is not running, and restarted (data kept) if it runs with
   * another password. Returns where it listens.
   * @throws RedisError `ERR_REDIS_MISSING`, `ERR_REDIS_START`, `ERR_REDIS_ARGUMENT`, `ERR_REDIS_STOPPED`
   */
  ensure(stack: string, request: RedisRequest = {}): Promise<RedisAddress> {
    return this.#serialized(stack, async () => {
      this.#assertRunning();
      checkRequest(stack, request);
      const current = this.#servers.get(stack);
      if (current?.running && current.password === request.password) return current.address;
      if (current) await current.stop();
      const server = new RedisServer(stack, {
        ...this.#options,
        directory: path.join(this.#options.directory, stack),
        binary: this.checkInstalled(),
        password: request.password,
      });
      this.#servers.set(stack, server);
      await server.start();
      return server.address;
    });
  }

  /** The stack's running server, if any. */
  server(stack: string): RedisServer | undefined {
    return this.#servers.get(stack);
  }

  /** Where the stack's Redis listens, when it runs. */
  address(stack: string): RedisAddress | undefined {
    const server = this.#servers.get(stack);
    return server?.running ? server.address : undefined;
  }

  /**
   * Stops the stack's Redis and starts it again on the same port with the same data, as a
   * failover or a maintenance restart would: clients see their connections drop and come back.
   * @throws RedisError `ERR_REDIS_ARGUMENT` when it was never started
   */
  restart(stack: string): Promise<RedisAddress> {
    return this.#serialized(stack, async () => {
      this.#assertRunning();
      const server = this.#servers.get(stack);
      if (!server) throw new RedisError('ERR_REDIS_ARGUMENT', `no Redis was started for ${stack}`);
      await server.restart();
      return server.address;
    });
  }

  /** Stops every server (their data stays on disk). Safe twice. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.allSettled([...this.#queues.values()]);
    await Promise.all([...this.#servers.values()].map((server) => server.stop()));
  }

  #assertRunning(): void {
    if (this.#stopped) throw new RedisError('ERR_REDIS_STOPPED', 'the local Redis service is stopped');
  }

  #serialized<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#queues.get(key) ?? Promise.resolve();
    const next = previous.then(task, task);
    const settled = next.catch(() => undefined);
    this.#queues.set(key, settled);
    void settled.then(() => {
      if (this.#queues.get(key) === settled) this.#queues.delete(key);
    });
    return next;
  }
}

function checkRequest(stack: string, request: RedisRequest): void {
  if (!STACK_NAME.test(stack)) throw new RedisError('ERR_REDIS_ARGUMENT', `"${stack}" is not a stack name (letters, digits, ".", "_", "-")`);
  const { password } = request;
  if (password !== undefined && (password === '' || /[\s"'\\]/.test(password) || password.length > 512)) {
    throw new RedisError('ERR_REDIS_ARGUMENT', `the Redis password for ${stack} must be 1-512 characters without spaces, quotes or backslashes`);
  }
}

interface ServerOptions {
  directory: string;
  binary: string;
  password?: string;
  startTimeoutMs?: number;
  log?: (line: string) => void;
}

/** What the folder keeps besides the data: the port used last. */
interface SavedState {
  port: number;
}

/** One `redis-server` process and its folder. */
export class RedisServer {
  readonly stack: string;
  readonly password: string | undefined;
  readonly host = '127.0.0.1';
  readonly #options: ServerOptions;
  readonly #log: (line: string) => void;
  #child: ChildProcess | undefined;
  #exited: Promise<void> | undefined;
  #port = 0;
  #stopping = false;

  constructor(stack: string, options: ServerOptions) {
    this.stack = stack;
    this.password = options.password;
    this.#options = options;
    const log = options.log ?? ((line: string) => console.log(line));
    this.#log = (line) => log(`[redis ${stack}] ${line}`);
  }

  get port(): number {
    return this.#port;
  }

  get address(): RedisAddress {
    return { host: this.host, port: this.#port };
  }

  /** The process runs (it may still be loading its data during {@link start}). */
  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** The process id while it runs. */
  get pid(): number | undefined {
    return this.running ? this.#child!.pid : undefined;
  }

  /** The data folder. */
  get directory(): string {
    return this.#options.directory;
  }

  async start(): Promise<void> {
    const dir = this.#options.directory;
    await makePrivateDir(dir);
    await stopLeftover(dir, this.#log);
    const saved = readJsonFile<SavedState>(path.join(dir, 'state.json'));
    this.#port = this.#port || (saved?.port && (await isFreePort(saved.port)) ? saved.port : await freePort());
    const config = path.join(dir, 'redis.conf');
    await writePrivateFile(config, configText(dir, this.#port, this.password));
    writePrivateJsonFile(path.join(dir, 'state.json'), { port: this.#port } satisfies SavedState);

    const started = performance.now();
    const child = spawn(this.#options.binary, [config], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: {} });
    this.#child = child;
    this.#stopping = false;
    const output: string[] = [];
    const keep = (line: string) => {
      output.push(line);
      if (output.length > 20) output.shift();
      if (line.trim() && !ROUTINE_LINE.test(line)) this.#log(line);
    };
    readLines(child.stdout!, keep);
    readLines(child.stderr!, keep);
    const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
    this.#exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
    void this.#exited.then(() => {
      if (this.#child === child && !this.#stopping) this.#log(`exited unexpectedly (${describeExit(child)})`);
    });

    const timeoutMs = this.#options.startTimeoutMs ?? 30_000;
    const failure = await Promise.race([
      waitForPing(this.#port, this.password, timeoutMs).then(() => undefined),
      spawnError.then((err) => `could not run ${this.#options.binary}: ${describeError(err)}`),
      this.#exited.then(() => `exited before it was ready (${describeExit(child)})${output.length ? `: ${output.join(' | ')}` : ''}`),
    ]).catch((err: unknown) => describeError(err));
    if (failure !== undefined) {
      await this.stop();
      throw new RedisError('ERR_REDIS_START', `redis-server for ${this.stack} on port ${this.#port}: ${failure}`);
    }
    this.#log(`ready on ${this.host}:${this.#port} in ${Math.round(performance.now() - started)} ms (data in ${dir})`);
  }

  /** Stops and starts again on the same port and data. */
  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** SIGTERM (Redis writes its append-only file and exits), SIGKILL if it takes over 5 s. Safe twice. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (!child || !this.#exited) return;
    this.#stopping = true;
    if (this.running) {
      signal(child, 'SIGTERM');
      const timer = setTimeout(() => signal(child, 'SIGKILL'), STOP_GRACE_MS);
      await this.#exited;
      clearTimeout(timer);
      this.#log('stopped');
    }
    await this.#exited;
    await rm(path.join(this.#options.directory, 'redis.pid'), { force: true });
  }
}

/** The configuration file: loopback, the port, AOF on, no RDB snapshots, warnings only. */
function configText(dir: string, port: number, password: string | undefined): string {
  return [
    `port ${port}`,
    'bind 127.0.0.1',
    'protected-mode yes',
    'daemonize no',
    `dir "${dir}"`,
    `pidfile "${path.join(dir, 'redis.pid')}"`,
    'logfile ""',
    'loglevel warning',
    'appendonly yes',
    'appendfsync everysec',
    'save ""',
    ...(password !== undefined ? [`requirepass "${password}"`] : []),
    '',
  ].join('\n');
}

/** Stops a server a previous run left behind in this folder (the local cloud was killed). */
async function stopLeftover(dir: string, log: (line: string) => void): Promise<void> {
  const pidFile = path.join(dir, 'redis.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  let cmdline = '';
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    // gone already
  }
  if (Number.isInteger(pid) && pid > 1 && cmdline.includes('redis-server')) {
    log(`stopping the redis-server (pid ${pid}) a previous run left running`);
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // gone meanwhile
    }
    for (let waited = 0; waited < STOP_GRACE_MS && existsSync(`/proc/${pid}`); waited += 50) await sleep(50);
    if (existsSync(`/proc/${pid}`)) process.kill(pid, 'SIGKILL');
  }
  await rm(pidFile, { force: true });
}

/** Sends a signal to the process group (Redis has no children, but its group is its own). */
function signal(child: ChildProcess, sig: NodeJS.Signals): void {
  try {
    if (child.pid) process.kill(-child.pid, sig);
  } catch {
    child.kill(sig);
  }
}

function describeExit(child: ChildProcess): string {
  return child.signalCode ? `signal ${child.signalCode}` : `code ${child.exitCode}`;
}

/** Resolves once the server answers PING, retrying while it refuses connections or loads its data. */
async function waitForPing(port: number, password: string | undefined, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let last = 'no answer';
  for (let delay = 10; performance.now() < deadline; delay = Math.min(delay * 2, 100)) {
    const answer = await ping(port, password).catch((err: unknown) => `error: ${describeError(err)}`);
    if (answer === '+PONG') return;
    last = answer;
    // a wrong password will not get better
    if (/^-(WRONGPASS|NOAUTH|ERR AUTH)/.test(answer)) throw new Error(`it answered ${answer}`);
    await sleep(delay);
  }
  throw new Error(`no PONG within ${timeoutMs} ms (last: ${last})`);
}

/** One connection: AUTH (when there is a password) and PING; the last reply line. */
function ping(port: number, password: string | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const command = (...args: string[]) => `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
    const expected = password === undefined ? 1 : 2;
    let text = '';
    socket.setTimeout(2000, () => socket.destroy(new Error('timed out')));
    socket.on('connect', () => socket.write((password === undefined ? '' : command('AUTH', password)) + command('PING')));
    socket.on('data', (chunk) => {
      text += chunk.toString('latin1');
      const lines = text.split('\r\n').filter(Boolean);
      // an error to AUTH is the answer, whatever PING says after it
      if (lines.length >= 1 && password !== undefined && lines[0].startsWith('-')) {
        socket.destroy();
        resolve(lines[0]);
      } else if (lines.length >= expected) {
        socket.destroy();
        resolve(lines[expected - 1]);
      }
    });
    socket.on('error', reject);
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
