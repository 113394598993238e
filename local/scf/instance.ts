/**
 * One function instance: a worker thread with its own `process.env` and heap limit that loads the
 * handler once and runs one invocation at a time. Its output is read line by line and handed on with
 * the request id current when it was written.
 */
import { Worker } from 'node:worker_threads';
import { CodedError } from '../coded-error';
import { type LineSplitter, type Stream, readLines } from './output';

/** The worker script: plain CommonJS, so an instance starts without a TypeScript loader. */
const WORKER_SCRIPT = new URL('./instance.worker.cjs', import.meta.url);

/** What an instance runs, and with what. */
export interface InstanceConfig {
  functionName: string;
  /** Real path of the unpacked code (symlinks resolved: module paths are compared to it). */
  codeRoot: string;
  /** Real, absolute path of the handler's file. */
  handlerFile: string;
  exportName: string;
  /** The instance's whole `process.env`. */
  env: Record<string, string>;
  /** Becomes the V8 old-generation limit, so a function past its memory dies as on SCF. */
  memoryMb: number;
}

/** Receives every line an instance writes, with the request id (or other label) current at the time. */
export type LineSink = (line: string, stream: Stream, label: string) => void;

/** How one invocation on an instance ended. */
export type RunOutcome = { ok: true; value: unknown } | { ok: false; kind: 'error' | 'timeout' | 'crash'; message: string; stack?: string };

/** Why an instance could not start. */
export class InstanceStartError extends CodedError<'ERR_INSTANCE_START'> {
  /** `missing-export`: no such exported function; `load-failed`: the file threw while loading. */
  readonly reason: 'missing-export' | 'load-failed' | 'timeout' | 'crash';
  /** The matching invocation failure. */
  readonly kind: 'error' | 'timeout' | 'crash';
  readonly detailStack: string | undefined;

  constructor(reason: InstanceStartError['reason'], message: string, stack?: string) {
    super('ERR_INSTANCE_START', message);
    this.reason = reason;
    this.kind = reason === 'timeout' ? 'timeout' : reason === 'crash' ? 'crash' : 'error';
    this.detailStack = stack;
  }
}

interface ErrorInfo {
  name: string;
  message: string;
  stack?: string;
}

type WorkerMessage =
  | { type: 'ready' }
  | { type: 'init-error'; reason: 'missing-export' | 'load-failed'; error: ErrorInfo }
  | { type: 'result'; requestId: string; ok: true; json: string }
  | { type: 'result'; requestId: string; ok: false; error: ErrorInfo };

type InstanceEvent = { type: 'message'; message: WorkerMessage } | { type: 'death'; message: string };

export class Instance {
  /** The worker's thread id, unique in this process. */
  readonly threadId: number;
  readonly #config: InstanceConfig;
  readonly #sink: LineSink;
  readonly #worker: Worker;
  readonly #splitters: LineSplitter[];
  readonly #exited: Promise<void>;
  #state: 'starting' | 'idle' | 'running' | 'dead' = 'starting';
  #label: string;
  #pending: ((event: InstanceEvent) => void) | undefined;
  #terminationReason: string | undefined;
  readonly #deathListeners: Array<() => void> = [];

  private constructor(config: InstanceConfig, sink: LineSink, label: string) {
    this.#config = config;
    this.#sink = sink;
    this.#label = label;
    this.#worker = new Worker(WORKER_SCRIPT, {
      workerData: { codeRoot: config.codeRoot, handlerFile: config.handlerFile, exportName: config.exportName },
      env: { ...config.env },
      // the host's flags (a TypeScript loader, inspector) would slow every cold start
      execArgv: [],
      stdout: true,
      stderr: true,
      resourceLimits: { maxOldGenerationSizeMb: config.memoryMb },
      name: `scf:${config.functionName}`,
    });
    this.threadId = this.#worker.threadId;
    this.#splitters = [
      readLines(this.#worker.stdout, (line) => this.#sink(line, 'stdout', this.#label)),
      readLines(this.#worker.stderr, (line) => this.#sink(line, 'stderr', this.#label)),
    ];
    this.#worker.on('message', (message: WorkerMessage) => this.#pending?.({ type: 'message', message }));
    this.#worker.on('error', (err: unknown) => {
      const e = (err !== null && typeof err === 'object' ? err : {}) as Partial<Error> & { code?: string };
      if (e.code === 'ERR_WORKER_OUT_OF_MEMORY') {
        this.#die(`out of memory (limit ${config.memoryMb} MB)`);
      } else {
        // whatever the handler left unhandled (a throw in a timer, a rejection nobody awaited)
        this.#emitLines(typeof e.stack === 'string' ? e.stack : String(err), 'stderr');
        this.#die(`uncaught ${e.name ?? 'exception'}: ${e.message ?? String(err)}`);
      }
    });
    this.#exited = new Promise((resolve) => {
      this.#worker.once('exit', (code) => {
        this.#die(`the instance exited with code ${code}`);
        resolve();
      });
    });
  }

  /**
   * Starts an instance and loads the handler.
   * @param label labels the output written while loading (the request id that caused the cold start).
   * @throws InstanceStartError when the handler is missing, its file throws, the instance dies, or
   *   loading takes longer than `timeoutMs` (the instance is then terminated).
   */
  static start(config: InstanceConfig, sink: LineSink, options: { label: string; timeoutMs: number; signal?: AbortSignal }): Promise<Instance> {
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(new InstanceStartError('crash', `function ${config.functionName}: ${String(signal.reason)}`));
    const instance = new Instance(config, sink, options.label);
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        instance.#pending = undefined;
      };
      const timer = setTimeout(() => {
        done();
        void instance.terminate('initialization timed out');
        reject(new InstanceStartError('timeout', `function ${config.functionName} timed out after ${seconds(options.timeoutMs)} s while initializing`));
      }, options.timeoutMs);
      const onAbort = () => {
        done();
        const reason = String(signal!.reason);
        void instance.terminate(reason).then(() => reject(new InstanceStartError('crash', `function ${config.functionName}: ${reason}`)));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      instance.#pending = (event) => {
        if (event.type === 'message' && event.message.type !== 'ready' && event.message.type !== 'init-error') return;
        done();
        if (event.type === 'death') {
          reject(new InstanceStartError('crash', `function ${config.functionName} crashed while initializing: ${event.message}`));
        } else if (event.message.type === 'ready') {
          instance.#state = 'idle';
          resolve(instance);
        } else if (event.message.type === 'init-error') {
          const { reason, error } = event.message;
          void instance.terminate('initialization failed');
          reject(new InstanceStartError(reason, error.message, error.stack));
        }
      };
    });
  }

  /** False once the instance died or was terminated. */
  get alive(): boolean {
    return this.#state !== 'dead';
  }

  /** Calls `listener` once when the instance dies or is terminated. */
  onDeath(listener: () => void): void {
    if (this.#state === 'dead') listener();
    else this.#deathListeners.push(listener);
  }

  /**
   * Runs one invocation. Never rejects. Past `timeoutSeconds` the instance is terminated, as SCF
   * kills it, and the outcome is a timeout.
   * @param eventJson the event as JSON text: handlers receive what SCF would deliver, a parsed copy.
   */
  run(requestId: string, eventJson: string, context: object, timeoutSeconds: number): Promise<RunOutcome> {
    if (this.#state !== 'idle') {
      return Promise.resolve({ ok: false, kind: 'crash', message: `function ${this.#config.functionName} has no usable instance (it is ${this.#state})` });
    }
    this.#state = 'running';
    this.#label = requestId;
    const timeoutMs = timeoutSeconds * 1000;
    const name = this.#config.functionName;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#pending = undefined;
        void this.terminate('timed out');
        resolve({ ok: false, kind: 'timeout', message: `function ${name} timed out after ${seconds(timeoutMs)} s` });
      }, timeoutMs);
      this.#pending = (event) => {
        if (event.type === 'message' && (event.message.type !== 'result' || event.message.requestId !== requestId)) return;
        clearTimeout(timer);
        this.#pending = undefined;
        if (event.type === 'death') {
          resolve({ ok: false, kind: 'crash', message: `function ${name} crashed: ${event.message}` });
          return;
        }
        this.#state = 'idle';
        const result = event.message as Extract<WorkerMessage, { type: 'result' }>;
        // the worker drained its output before answering: what is left is a line without a newline
        for (const splitter of this.#splitters) splitter.flush();
        if (result.ok) resolve({ ok: true, value: JSON.parse(result.json) });
        else resolve({ ok: false, kind: 'error', message: result.error.message, stack: result.error.stack });
      };
      this.#worker.postMessage({ type: 'invoke', requestId, eventJson, context, deadline: Date.now() + timeoutMs });
    });
  }

  /**
   * Stops the instance at once. An invocation in flight ends as a crash with `reason`.
   * Resolves when the thread has exited; safe to call again.
   */
  async terminate(reason = 'terminated'): Promise<void> {
    if (this.#state !== 'dead') {
      this.#terminationReason = reason;
      this.#die(reason);
    }
    await this.#worker.terminate();
    await this.#exited;
  }

  #die(message: string): void {
    if (this.#state === 'dead') return;
    this.#state = 'dead';
    for (const splitter of this.#splitters) splitter.flush();
    const pending = this.#pending;
    this.#pending = undefined;
    pending?.({ type: 'death', message: this.#terminationReason ?? message });
    for (const listener of this.#deathListeners.splice(0)) listener();
  }

  #emitLines(text: string, stream: Stream): void {
    for (const line of text.split('\n')) this.#sink(line, stream, this.#label);
  }
}

/** `1`, `0.5`: seconds as configured, without trailing zeros. */
function seconds(ms: number): string {
  return String(Math.round(ms) / 1000);
}
