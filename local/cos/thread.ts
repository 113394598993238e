/**
 * The local COS store on a thread of its own, so the store's disk and signature work runs beside
 * the gateway instead of taking turns with it.
 */
import { Worker } from 'node:worker_threads';
import { CosServerError } from './errors';
import type { CosServerOptions } from './server';

/** What the local cloud needs from a COS store. */
export interface CosStore {
  readonly endpoint: string;
  /** The SDK's Domain template, `http://127.0.0.1:PORT/{Bucket}`. */
  readonly domain: string;
  createBucket(name: string): Promise<void>;
  stop(): Promise<void>;
}

/** A CosServer running in a worker thread, with the same start/stop/createBucket surface. */
export class CosServerThread implements CosStore {
  private worker?: Worker;
  private nextId = 0;
  private pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  private address?: { port: number; endpoint: string; domain: string };

  constructor(private readonly options: CosServerOptions) {}

  async start(): Promise<void> {
    this.worker = new Worker(new URL('./thread.worker.mjs', import.meta.url), { workerData: this.options });
    this.worker.on('message', (reply: { id: number; ok: boolean; value?: unknown; message?: string; code?: string }) => {
      const waiter = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (!waiter) return;
      if (reply.ok) waiter.resolve(reply.value);
      // The server's own code when it threw a coded error (EADDRINUSE, ERR_NO_CREDENTIALS, ...).
      else waiter.reject(new CosServerError(reply.code ?? 'ERR_COS_THREAD', reply.message ?? 'the COS store thread failed'));
    });
    this.worker.on('error', (err) => this.failAll(err));
    this.worker.on('exit', (code) => this.failAll(new CosServerError('ERR_COS_THREAD', `the COS store thread exited (${code})`)));
    this.address = await this.call({ op: 'start' });
  }

  get port(): number {
    return this.started().port;
  }

  get endpoint(): string {
    return this.started().endpoint;
  }

  get domain(): string {
    return this.started().domain;
  }

  createBucket(name: string): Promise<void> {
    return this.call({ op: 'createBucket', name });
  }

  async stop(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    try {
      await this.call({ op: 'stop' });
    } finally {
      this.worker = undefined;
      this.address = undefined;
      await worker.terminate();
    }
  }

  private started() {
    if (!this.address) throw new CosServerError('ERR_NOT_STARTED', 'the COS store is not started');
    return this.address;
  }

  private call<T>(request: Record<string, unknown>): Promise<T> {
    const worker = this.worker;
    if (!worker) return Promise.reject(new CosServerError('ERR_NOT_STARTED', 'the COS store thread is not running'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, ...request });
    });
  }

  private failAll(err: Error): void {
    for (const waiter of this.pending.values()) waiter.reject(err);
    this.pending.clear();
  }
}
