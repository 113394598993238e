/**
 * An in-process {@link Invoker} over a table of async handlers: the local gateway's functions
 * without an SCF runtime, for tests and quick experiments. It records every invocation.
 */
import { randomUUID } from 'node:crypto';
import type { FunctionRef, InvocationResult, Invoker } from '../invoker';

/** What a handler receives beside its event: the fields of SCF's Node.js context it may read. */
export interface InvocationContext {
  request_id: string;
  function_name: string;
  namespace: string;
  function_version: string;
  time_limit_in_ms: number;
}

/** A function body, e.g. a module's `main_handler`. */
export type Handler = (event: any, context: InvocationContext) => unknown;

/** A handler with its own timeout. */
export interface TableEntry {
  handler: Handler;
  /** Default: the invoker's `timeoutMs`. */
  timeoutMs?: number;
}

/** One invocation as recorded. */
export interface RecordedInvocation {
  fn: FunctionRef;
  /** The event as the function received it (a JSON copy). */
  event: any;
  requestId: string;
  /** Set when the invocation has ended. */
  result?: InvocationResult;
}

/** SCF's default function timeout. */
export const DEFAULT_TABLE_TIMEOUT_MS = 3000;

interface Waiter {
  name: string;
  count: number;
  resolve: (calls: RecordedInvocation[]) => void;
}

/**
 * Runs handlers looked up by `namespace/name`, or by bare name in the `default` namespace. The
 * qualifier is not part of the key: every version runs the one handler.
 */
export class TableInvoker implements Invoker {
  /** Every invocation, in the order they started. */
  readonly calls: RecordedInvocation[] = [];
  readonly #table = new Map<string, TableEntry>();
  readonly #timeoutMs: number;
  #waiters: Waiter[] = [];

  constructor(table: Record<string, Handler | TableEntry> = {}, options: { timeoutMs?: number } = {}) {
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TABLE_TIMEOUT_MS;
    for (const [name, entry] of Object.entries(table)) this.set(name, entry);
  }

  /** A reference to a function of this table, for an API's bindings. */
  static ref(name: string, namespace = 'default', qualifier = '$LATEST'): FunctionRef {
    return { name, namespace, qualifier };
  }

  /** Adds or replaces a function; `name` is `fn` or `namespace/fn`. */
  set(name: string, entry: Handler | TableEntry): this {
    this.#table.set(name, typeof entry === 'function' ? { handler: entry } : entry);
    return this;
  }

  /** Removes a function: invoking it then ends `not-found`. */
  delete(name: string): this {
    this.#table.delete(name);
    return this;
  }

  /** Invocations of one function (`name` or `namespace/name`), in the order they started. */
  callsTo(name: string): RecordedInvocation[] {
    return this.calls.filter((c) => matches(c.fn, name));
  }

  /** Events one function received, in order. */
  eventsOf(name: string): any[] {
    return this.callsTo(name).map((c) => c.event);
  }

  /**
   * Resolves once `count` invocations of `name` have ended, with all of its invocations so far.
   * Rejects after `timeoutMs` saying how many there were.
   */
  waitForCalls(name: string, count = 1, timeoutMs = 5000): Promise<RecordedInvocation[]> {
    if (this.#ended(name) >= count) return Promise.resolve(this.callsTo(name));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(new Error(`waited ${timeoutMs} ms for ${count} ended invocation(s) of ${name}; saw ${this.#ended(name)}`));
      }, timeoutMs);
      const waiter: Waiter = {
        name,
        count,
        resolve: (calls) => {
          clearTimeout(timer);
          resolve(calls);
        },
      };
      this.#waiters.push(waiter);
    });
  }

  /** Forgets recorded invocations. */
  clear(): void {
    this.calls.length = 0;
  }

  async invoke(fn: FunctionRef, event: unknown, options: { requestId?: string } = {}): Promise<InvocationResult> {
    const started = performance.now();
    const requestId = options.requestId ?? randomUUID();
    // Functions receive JSON, as from the platform: a handler cannot mutate the caller's object.
    const record: RecordedInvocation = { fn: { ...fn }, event: event === undefined ? null : JSON.parse(JSON.stringify(event)), requestId };
    this.calls.push(record);
    const entry = this.#table.get(`${fn.namespace}/${fn.name}`) ?? (fn.namespace === 'default' ? this.#table.get(fn.name) : undefined);
    const durationMs = () => Math.round(performance.now() - started);
    let result: InvocationResult;
    if (!entry) {
      result = { ok: false, kind: 'not-found', message: `function ${fn.namespace}/${fn.name} not found`, durationMs: durationMs() };
    } else {
      const timeoutMs = entry.timeoutMs ?? this.#timeoutMs;
      const context: InvocationContext = {
        request_id: requestId,
        function_name: fn.name,
        namespace: fn.namespace,
        function_version: fn.qualifier,
        time_limit_in_ms: timeoutMs,
      };
      result = await run(entry.handler, JSON.parse(JSON.stringify(record.event)), context, timeoutMs, durationMs);
    }
    record.result = result;
    this.#notify();
    return result;
  }

  #ended(name: string): number {
    return this.calls.filter((c) => c.result && matches(c.fn, name)).length;
  }

  #notify(): void {
    const ready = this.#waiters.filter((w) => this.#ended(w.name) >= w.count);
    if (ready.length === 0) return;
    this.#waiters = this.#waiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.resolve(this.callsTo(w.name));
  }
}

function matches(fn: FunctionRef, name: string): boolean {
  return name === `${fn.namespace}/${fn.name}` || (fn.namespace === 'default' && name === fn.name);
}

async function run(handler: Handler, event: unknown, context: InvocationContext, timeoutMs: number, durationMs: () => number): Promise<InvocationResult> {
  let timer: NodeJS.Timeout | undefined;
  // An in-process handler cannot be stopped: past its timeout it runs on, and its answer is ignored.
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    const outcome = await Promise.race([Promise.resolve().then(() => handler(event, context)), timedOut]);
    if (outcome === 'timeout') {
      return { ok: false, kind: 'timeout', message: `function ${context.function_name} timed out after ${timeoutMs} ms`, durationMs: durationMs() };
    }
    let value: unknown;
    try {
      value = outcome === undefined ? null : JSON.parse(JSON.stringify(outcome));
    } catch (err) {
      return {
        ok: false,
        kind: 'error',
        message: `function ${context.function_name} returned a value that is not JSON: ${(err as Error).message}`,
        durationMs: durationMs(),
      };
    }
    return { ok: true, value, durationMs: durationMs() };
  } catch (err) {
    const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    return { ok: false, kind: 'error', message, durationMs: durationMs() };
  } finally {
    clearTimeout(timer);
  }
}
