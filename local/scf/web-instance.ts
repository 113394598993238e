/**
 * One instance of a WebSocket web function: a process running `node index.js` from the unpacked
 * code, with only the function's environment, the platform's variables and `PORT`, a free port
 * of its own. It is ready once that port accepts a connection; that connection is the one the
 * gateway then speaks the client's handshake on, so readiness costs no extra connection.
 *
 * SCF starts a web function from its `scf_bootstrap` (`exec /var/lang/node18/bin/node index.js`);
 * the local runtime runs this machine's `node` on `index.js` directly, with the function's memory
 * as the V8 heap limit. The process gets a process group of its own (Ctrl-C in a terminal reaches
 * the local cloud, which ends connections in order, not every instance at once), and a preloaded
 * watchdog that ends it if the local cloud that started it is killed without stopping it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { CodedError, describeError } from '../coded-error';
import { freePort } from './free-port';
import { type LineSplitter, type Stream, readLines } from './output';

/** Ends the instance when its parent is gone; plain CommonJS, loaded with `--require`. */
const WATCHDOG = fileURLToPath(new URL('./web-watchdog.cjs', import.meta.url));

/** What an instance runs, and with what. */
export interface WebInstanceConfig {
  functionName: string;
  /** The unpacked code: the process's working folder. */
  codeRoot: string;
  /** The file `node` runs, relative to the code root: `index.js`. */
  entry: string;
  /** The environment, without `PORT` (added here). */
  env: Record<string, string>;
  /** The V8 old-generation limit. */
  memoryMb: number;
}

/** Receives every line an instance writes, with its label (the request id of its connection). */
export type WebLineSink = (line: string, stream: Stream, label: string) => void;

/** Why an instance could not start. */
export class WebInstanceStartError extends CodedError<'ERR_INSTANCE_START'> {
  /** `timeout`: it did not accept connections in time; `crash`: it exited (or could not be run) first. */
  readonly kind: 'timeout' | 'crash';

  constructor(kind: 'timeout' | 'crash', message: string) {
    super('ERR_INSTANCE_START', message);
    this.kind = kind;
  }
}

/** How the process ended. */
export interface WebInstanceExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** `exited with code 1`, `killed by SIGKILL`. */
  description: string;
}

export class WebInstance {
  readonly port: number;
  readonly pid: number | undefined;
  /** Resolves once the process has exited and its output is read. */
  readonly exited: Promise<WebInstanceExit>;
  readonly #child: ChildProcess;
  readonly #splitters: LineSplitter[];
  #socket: Socket | undefined;
  #exit: WebInstanceExit | undefined;
  /** Set once the runtime asked it to stop: its exit is then no crash. */
  #stopRequested = false;

  private constructor(config: WebInstanceConfig, port: number, sink: WebLineSink, label: string) {
    this.port = port;
    this.#child = spawn(process.execPath, [`--max-old-space-size=${config.memoryMb}`, '--require', WATCHDOG, config.entry], {
      cwd: config.codeRoot,
      env: { ...config.env, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    this.pid = this.#child.pid;
    this.#splitters = [
      readLines(this.#child.stdout!, (line) => sink(line, 'stdout', label)),
      readLines(this.#child.stderr!, (line) => sink(line, 'stderr', label)),
    ];
    this.exited = new Promise((resolve) => {
      const done = (code: number | null, signal: NodeJS.Signals | null, description?: string) => {
        if (this.#exit) return;
        for (const splitter of this.#splitters) splitter.flush();
        this.#exit = { code, signal, description: description ?? (signal ? `killed by ${signal}` : `exited with code ${code}`) };
        resolve(this.#exit);
      };
      this.#child.once('error', (err) => done(null, null, `could not be run: ${describeError(err)}`));
      this.#child.once('close', (code, signal) => done(code, signal));
    });
  }

  /**
   * Starts a process and waits until its port accepts a connection, which it keeps (see
   * {@link takeSocket}).
   * @param options.label labels its output (the request id of the connection it is for)
   * @throws WebInstanceStartError when it exits first, or is not listening within `timeoutMs` (it is then killed)
   */
  static async start(config: WebInstanceConfig, sink: WebLineSink, options: { label: string; timeoutMs: number; signal?: AbortSignal }): Promise<WebInstance> {
    const instance = new WebInstance(config, await freePort(), sink, options.label);
    const deadline = performance.now() + options.timeoutMs;
    const name = config.functionName;
    let delay = 5;
    for (;;) {
      if (instance.#exit) {
        throw new WebInstanceStartError('crash', `function ${name}: its instance ${instance.#exit.description} before it listened on PORT ${instance.port}`);
      }
      if (options.signal?.aborted) {
        await instance.kill();
        throw new WebInstanceStartError('crash', `function ${name}: ${String(options.signal.reason)}`);
      }
      const socket = await tryConnect(instance.port);
      if (socket) {
        instance.#socket = socket;
        return instance;
      }
      if (performance.now() >= deadline) {
        await instance.kill();
        throw new WebInstanceStartError(
          'timeout',
          `function ${name}: its instance did not listen on PORT ${instance.port} within ${Math.round(options.timeoutMs) / 1000} s (the function's init timeout)`,
        );
      }
      await Promise.race([sleep(delay), instance.exited]);
      delay = Math.min(Math.ceil(delay * 1.5), 50);
    }
  }

  /** The connection made when it became ready; once. */
  takeSocket(): Socket {
    const socket = this.#socket;
    if (!socket) throw new Error('the instance socket was taken already');
    this.#socket = undefined;
    return socket;
  }

  /** Whether the process still runs. */
  get alive(): boolean {
    return this.#exit === undefined;
  }

  /** Whether the runtime asked it to stop (its exit is then expected). */
  get stopRequested(): boolean {
    return this.#stopRequested;
  }

  /** SIGTERM to its process group, SIGKILL after `graceMs`. Resolves once it has exited. */
  async stop(graceMs: number): Promise<WebInstanceExit> {
    this.#stopRequested = true;
    this.#socket?.destroy();
    if (this.#exit) return this.#exit;
    this.#signal('SIGTERM');
    const timer = setTimeout(() => this.#signal('SIGKILL'), graceMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }

  /** SIGKILL at once. */
  kill(): Promise<WebInstanceExit> {
    this.#stopRequested = true;
    this.#socket?.destroy();
    if (!this.#exit) this.#signal('SIGKILL');
    return this.exited;
  }

  #signal(sig: NodeJS.Signals): void {
    try {
      if (this.pid) process.kill(-this.pid, sig);
    } catch {
      // the group is gone; the process itself may linger as a zombie until reaped
      this.#child.kill(sig);
    }
  }
}

function tryConnect(port: number): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const refused = () => {
      socket.destroy();
      resolve(undefined);
    };
    socket.once('error', refused);
    socket.once('connect', () => {
      socket.off('error', refused);
      // until the gateway takes it over: an instance dying now must not throw here
      socket.on('error', () => undefined);
      resolve(socket);
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
