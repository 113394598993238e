/**
 * The instances of WebSocket web functions, as SCF runs them (seed 002): one connection is one
 * invocation, and one instance serves one connection. Each connection gets a new process (a cold
 * start, logged); the connection's end is the invocation's end, logged with the platform's status
 * code; then the process is stopped. An instance that crashes ends only its own connection.
 *
 * Starts run at most `maxConcurrentStarts` at a time (twice the cores), the rest waiting in
 * arrival order: a burst of connections then gets its first instances in a fraction of a second,
 * rather than every start sharing the CPU and all of them finishing late together.
 *
 * After the end the instance lingers for `lingerMs` (1 s) before it gets SIGTERM, and SIGKILL
 * `stopGraceMs` (2 s) later: SCF does not document how long an instance lives on after its
 * connection, and a server's close handler (leaving its rooms on Redis) needs a moment.
 */
import type { Socket } from 'node:net';
import { availableParallelism } from 'node:os';
import type { Stream } from './output';
import type { Gauge } from './pool';
import { type WebInstanceConfig, type WebInstanceExit, WebInstance, WebInstanceStartError } from './web-instance';

/** Seed 002's status codes of a web function's invocation. */
export const WebStatus = {
  /** The connection closed with 1000, 1010 or 1011, whoever closed it. */
  NORMAL: 200,
  /** The function (server) side closed with another code, or its instance went away. */
  SERVER_ABNORMAL: 439,
  /** The client side closed with another code, or its connection dropped. */
  CLIENT_ABNORMAL: 456,
  /** No frame either way for the idle timeout. */
  IDLE_TIMEOUT: 455,
  /** The connection lasted the function's timeout. */
  MAX_DURATION: 433,
} as const;

/** One connection's instance, as the gateway holds it. */
export interface WebSession {
  requestId: string;
  functionName: string;
  /** Connected to the instance's port: the gateway writes the client's handshake on it. */
  socket: Socket;
  /** The instance's `PORT`. */
  port: number;
  /** `ProtocolParams.WSParams.IdleTimeOut`. */
  idleTimeoutSeconds: number;
  /** The function's timeout: the longest a connection may last. */
  timeoutSeconds: number;
  /** How long starting the instance took (every connection's is a cold start). */
  coldStartMs: number;
  /** Resolves when the instance's process exits, for whatever reason. */
  exited: Promise<WebInstanceExit>;
  /**
   * The invocation's end: logs `status` (see {@link WebStatus}, or the HTTP status of a refused
   * handshake) with `detail`, then stops the instance. Only the first call counts.
   */
  end(status: number, detail: string): void;
}

/** What opening a session gave. */
export type WebConnectResult =
  | { ok: true; session: WebSession }
  | {
      ok: false;
      /** `not-found`: no such function; `not-web`: not a WebSocket web function; `busy`: at the instance limit; `timeout`, `crash`: it did not start. */
      kind: 'not-found' | 'not-web' | 'busy' | 'timeout' | 'crash';
      message: string;
    };

/** What a function's instances are started from. */
export interface WebVersionConfig extends WebInstanceConfig {
  timeoutSeconds: number;
  idleTimeoutSeconds: number;
  initTimeoutSeconds: number;
}

export interface WebInstancesOptions {
  /** Most web-function instances running at once, over all functions. */
  maxInstances: number;
  /** Where the instances' output and the invocation lines go, labelled `[<function> <request id>]`. */
  emit: (functionName: string, label: string, line: string, stream: Stream) => void;
  /** How long an instance lives on after its connection ended, before SIGTERM. Default 1000 ms. */
  lingerMs?: number;
  /** SIGKILL this long after SIGTERM. Default 2000 ms. */
  stopGraceMs?: number;
  /** Instances starting at once; more wait their turn. Default twice the cores. */
  maxConcurrentStarts?: number;
}

/**
 * The default instance limit: each instance is a Node.js process (about 50 MB resident, much of it
 * shared), so the limit follows the machine's memory, and is at least 256.
 */
export function defaultMaxWebInstances(totalMemoryBytes: number): number {
  return Math.max(256, Math.floor(totalMemoryBytes / (48 * 1024 * 1024)));
}

/** Every web-function instance of one runtime. */
export class WebInstances {
  readonly #options: Required<WebInstancesOptions>;
  readonly #live = new Set<WebInstance>();
  /** Starts in flight, counted against the limit. */
  #starting = 0;
  #stopping: Promise<void> | undefined;
  readonly #stopController = new AbortController();
  /** Starts running now, and those waiting for a slot (FIFO). */
  #running = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(options: WebInstancesOptions) {
    const given = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as WebInstancesOptions;
    this.#options = { lingerMs: 1000, stopGraceMs: 2000, maxConcurrentStarts: 2 * availableParallelism(), ...given };
  }

  /** Instances running (or starting). */
  get count(): number {
    return this.#live.size + this.#starting;
  }

  /** Starts an instance for one connection. Never throws. */
  async open(config: WebVersionConfig, requestId: string, gauge: Gauge): Promise<WebConnectResult> {
    const name = config.functionName;
    if (this.#stopping) return { ok: false, kind: 'not-found', message: `function ${name}: the local SCF runtime is stopped` };
    if (this.count >= this.#options.maxInstances) {
      return {
        ok: false,
        kind: 'busy',
        message: `function ${name}: ${this.count} web-function instances run already, the local limit (--max-web-instances)`,
      };
    }
    this.#starting++;
    gauge.instances++;
    const queued = performance.now();
    let instance: WebInstance;
    let started = queued;
    let slotted = false;
    try {
      await this.#slot();
      slotted = true;
      if (this.#stopping) throw new WebInstanceStartError('crash', `function ${name}: the local SCF runtime stopped`);
      started = performance.now();
      instance = await WebInstance.start(config, (line, stream, label) => this.#options.emit(name, label, line, stream), {
        label: requestId,
        timeoutMs: config.initTimeoutSeconds * 1000,
        signal: this.#stopController.signal,
      });
    } catch (err) {
      gauge.instances--;
      if (!(err instanceof WebInstanceStartError)) throw err;
      this.#options.emit(name, requestId, err.message, 'stderr');
      return { ok: false, kind: err.kind, message: err.message };
    } finally {
      this.#starting--;
      if (slotted) this.#release();
    }
    const coldStartMs = performance.now() - started;
    const waitedMs = started - queued;
    this.#live.add(instance);
    gauge.busy++;
    void instance.exited.then(() => {
      this.#live.delete(instance);
      gauge.instances--;
    });
    const waited = waitedMs >= 1 ? `; waited ${Math.round(waitedMs)} ms for other instances to start first` : '';
    this.#options.emit(name, requestId, `cold start: ${Math.round(coldStartMs)} ms (instance pid ${instance.pid}, PORT ${instance.port}${waited})`, 'stdout');

    let ended = false;
    const session: WebSession = {
      requestId,
      functionName: name,
      socket: instance.takeSocket(),
      port: instance.port,
      idleTimeoutSeconds: config.idleTimeoutSeconds,
      timeoutSeconds: config.timeoutSeconds,
      coldStartMs,
      exited: instance.exited,
      end: (status, detail) => {
        if (ended) return;
        ended = true;
        gauge.busy--;
        const ms = Math.round(performance.now() - started - coldStartMs);
        const stream = status === WebStatus.NORMAL ? 'stdout' : 'stderr';
        this.#options.emit(name, requestId, `invocation ended with status ${status}: ${detail} (connection lasted ${ms} ms)`, stream);
        void this.#retire(instance);
      },
    };
    return { ok: true, session };
  }

  /**
   * Starts one instance and stops it once it listens, so a deploy of code that cannot start fails
   * then rather than at the first connection.
   * @throws WebInstanceStartError
   */
  async check(config: WebVersionConfig, label: string): Promise<void> {
    const instance = await WebInstance.start(config, (line, stream) => this.#options.emit(config.functionName, label, line, stream), {
      label,
      timeoutMs: config.initTimeoutSeconds * 1000,
      signal: this.#stopController.signal,
    });
    await instance.stop(this.#options.stopGraceMs);
  }

  /** Stops every instance at once (SIGTERM, then SIGKILL). Safe twice. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#stopController.abort(new Error('the local SCF runtime stopped'));
      await Promise.all([...this.#live].map((instance) => instance.stop(this.#options.stopGraceMs)));
    })();
    return this.#stopping;
  }

  /** Waits for a start slot (FIFO). */
  #slot(): Promise<void> {
    if (this.#running < this.#options.maxConcurrentStarts) {
      this.#running++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  /** Frees a start slot: the next waiting start takes it. */
  #release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#running--;
  }

  async #retire(instance: WebInstance): Promise<void> {
    if (!instance.alive) return;
    let timer: NodeJS.Timeout | undefined;
    const linger = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.#options.lingerMs)));
    await Promise.race([linger, instance.exited]);
    clearTimeout(timer);
    await instance.stop(this.#options.stopGraceMs);
  }
}
