/**
 * The instances of one version of a function (its code and configuration): warm ones are reused,
 * new ones start only when none is idle and fewer than the limit run, and invocations beyond the
 * limit wait their turn in arrival order.
 */
import type { Instance } from './instance';

/** Live and busy instances, shared by every pool of one function (old versions drain into it too). */
export interface Gauge {
  instances: number;
  busy: number;
}

/** An instance handed to one invocation until {@link InstancePool.release}. */
export interface Lease {
  instance: Instance;
  /** Set when the instance was started for this invocation: how long starting it took. */
  coldStartMs?: number;
}

interface Waiter {
  label: string;
  resolve: (lease: Lease | undefined) => void;
  reject: (err: unknown) => void;
}

export class InstancePool {
  readonly #start: (label: string, signal: AbortSignal) => Promise<Instance>;
  readonly #max: number;
  readonly #gauge: Gauge;
  readonly #onDrained: () => void;
  /** Idle instances, the most recently used last: reusing it keeps the others free to be reclaimed. */
  readonly #idle: Instance[] = [];
  readonly #live = new Set<Instance>();
  readonly #busy = new Set<Instance>();
  readonly #waiters: Waiter[] = [];
  /** Instances being started: counted against the limit, and stopped by terminateAll. */
  readonly #starting = new Set<{ abort: AbortController; settled: Promise<void> }>();
  /** No new invocations: the function was replaced or deleted. */
  #retired = false;
  /** Everything terminated: instances still starting are stopped when they come up. */
  #closed = false;
  #drained = false;

  /**
   * @param start starts and loads one instance; `label` names the invocation that needed it, and
   *   `signal` aborts the start (the instance is terminated and the start rejects).
   * @param onDrained called once the pool is retired and its last instance is gone.
   */
  constructor(options: { start: (label: string, signal: AbortSignal) => Promise<Instance>; maxInstances: number; gauge: Gauge; onDrained: () => void }) {
    this.#start = options.start;
    this.#max = options.maxInstances;
    this.#gauge = options.gauge;
    this.#onDrained = options.onDrained;
  }

  /**
   * An instance for one invocation: an idle one, a new one, or the next one freed (FIFO).
   * Resolves `undefined` when the pool is retired before that: the caller asks the current version.
   * @throws InstanceStartError when the instance started for it cannot load the handler.
   */
  acquire(label: string): Promise<Lease | undefined> {
    if (this.#retired) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
      this.#waiters.push({ label, resolve, reject });
      this.#pump();
    });
  }

  /** Gives the instance back after its invocation: it serves the next waiter, or waits warm. */
  release(instance: Instance): void {
    if (!this.#busy.delete(instance)) return; // it died meanwhile and was already forgotten
    this.#gauge.busy--;
    if (this.#retired) {
      void instance.terminate('replaced by a new version');
      return;
    }
    this.#idle.push(instance);
    this.#pump();
  }

  /**
   * Stops taking invocations: idle instances are terminated now, busy ones when their invocation
   * ends, and waiters are sent to the current version.
   */
  async retire(): Promise<void> {
    this.#retired = true;
    for (const waiter of this.#waiters.splice(0)) waiter.resolve(undefined);
    await Promise.all(this.#idle.splice(0).map((instance) => instance.terminate('replaced by a new version')));
    this.#checkDrained();
  }

  /** Terminates every instance, busy ones too: their invocations end as crashes with `reason`. */
  async terminateAll(reason: string): Promise<void> {
    this.#closed = true;
    this.#retired = true;
    for (const waiter of this.#waiters.splice(0)) waiter.resolve(undefined);
    this.#idle.length = 0;
    const starting = [...this.#starting];
    for (const { abort } of starting) abort.abort(reason);
    await Promise.all([...this.#live].map((instance) => instance.terminate(reason)).concat(starting.map(({ settled }) => settled)));
  }

  #pump(): void {
    while (this.#waiters.length > 0 && !this.#retired) {
      const idle = this.#idle.pop();
      if (idle) {
        this.#markBusy(idle);
        this.#waiters.shift()!.resolve({ instance: idle });
      } else if (this.#live.size + this.#starting.size < this.#max) {
        this.#launch(this.#waiters.shift()!);
      } else {
        return;
      }
    }
  }

  #launch(waiter: Waiter): void {
    const abort = new AbortController();
    const started = performance.now();
    // a synchronous throw (a worker that cannot be created) must free the slot too
    const start = new Promise<Instance>((resolve) => resolve(this.#start(waiter.label, abort.signal)));
    const entry = {
      abort,
      settled: start.then(
        () => undefined,
        () => undefined,
      ),
    };
    this.#starting.add(entry);
    start.then(
      (instance) => {
        this.#starting.delete(entry);
        if (this.#closed) {
          void instance.terminate('the runtime stopped');
          waiter.resolve(undefined);
          return;
        }
        this.#live.add(instance);
        this.#gauge.instances++;
        instance.onDeath(() => this.#forget(instance));
        this.#markBusy(instance);
        waiter.resolve({ instance, coldStartMs: performance.now() - started });
      },
      (err: unknown) => {
        this.#starting.delete(entry);
        waiter.reject(err);
        this.#pump(); // its slot is free again
        this.#checkDrained();
      },
    );
  }

  #markBusy(instance: Instance): void {
    this.#busy.add(instance);
    this.#gauge.busy++;
  }

  /** Drops an instance that died or was terminated, and lets a waiter start another in its place. */
  #forget(instance: Instance): void {
    if (!this.#live.delete(instance)) return;
    this.#gauge.instances--;
    if (this.#busy.delete(instance)) this.#gauge.busy--;
    const index = this.#idle.indexOf(instance);
    if (index >= 0) this.#idle.splice(index, 1);
    this.#pump();
    this.#checkDrained();
  }

  #checkDrained(): void {
    if (this.#drained || !this.#retired || this.#live.size > 0 || this.#starting.size > 0) return;
    this.#drained = true;
    this.#onDrained();
  }
}
