/**
 * The context handlers get: sends, closes and broadcasts through the push address, with the 256 KB
 * check, the registry read at most once per invocation, and the gateway's answers acted on.
 */
import { log, type Level } from '../lib/log';
import { MAX_PUSH_BYTES } from '../lib/limits';
import { describeError } from '../lib/errors';
import type { PushClient, PushFrame, PushOutcome } from '../lib/push-client';
import type { ConnectionRegistry, RegistryEntry } from '../lib/registry';
import { AppError } from './errors';
import type { BroadcastResult, Connection, ConnectionRecord, Context, Delivery, Logger, Outgoing } from './types';

/** Turns what a handler sends into a push frame. */
export function frameOf(data: Outgoing): PushFrame {
  if (typeof data === 'string') return { dataType: 'text', data };
  if (data instanceof Uint8Array) return { dataType: 'binary', data: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64') };
  return { dataType: 'text', data: JSON.stringify(data) };
}

/** Size in bytes of the message a client receives for this frame. */
export function deliveredSize(frame: PushFrame): number {
  return frame.dataType === 'binary' ? Buffer.byteLength(frame.data, 'base64') : Buffer.byteLength(frame.data, 'utf8');
}

function checkedFrame(data: Outgoing): PushFrame {
  const frame = frameOf(data);
  const size = deliveredSize(frame);
  if (size > MAX_PUSH_BYTES) {
    throw new AppError('MESSAGE_TOO_LARGE', `message is ${size} bytes once wrapped, over the ${MAX_PUSH_BYTES}-byte limit; it was not sent`, { errNo: 103 });
  }
  return frame;
}

/** A logger for one function and connection. */
export function loggerFor(fn: string, connectionId: string | undefined): Logger {
  const at = (level: Level) => (message: string, fields: Record<string, unknown> = {}) => log(level, fn, message, connectionId ? { id: connectionId, ...fields } : fields);
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** What an invocation did, for its result and log line. */
export interface Tally {
  /** Pushes to other connections that the gateway took. */
  delivered: number;
  removed: number;
  refused: number;
  failed: number;
}

export interface ContextOptions {
  fn: string;
  connectionId: string;
  requestId?: string;
  /** Undefined where there is no push address (register, cleanup without `url`): sends then fail. */
  push: PushClient | undefined;
  registry: () => ConnectionRegistry;
  /** Called once, with the listing, the first time the handler lists the connections. */
  onListing?: (entries: Promise<RegistryEntry[]>) => void;
}

/** The {@link Context} of one invocation. */
export class InvocationContext implements Context {
  readonly connectionId: string;
  readonly requestId?: string;
  readonly log: Logger;
  readonly tally: Tally = { delivered: 0, removed: 0, refused: 0, failed: 0 };
  #listing: Promise<RegistryEntry[]> | undefined;
  readonly #options: ContextOptions;

  constructor(options: ContextOptions) {
    this.#options = options;
    this.connectionId = options.connectionId;
    this.requestId = options.requestId;
    this.log = loggerFor(options.fn, options.connectionId);
  }

  /** Whether connections() was called: the listing it read is then reused. */
  get listing(): Promise<RegistryEntry[]> | undefined {
    return this.#listing;
  }

  connections(): Promise<readonly Connection[]> {
    if (!this.#listing) {
      this.#listing = this.#options.registry().entries();
      this.#options.onListing?.(this.#listing);
    }
    return this.#listing;
  }

  async connection(): Promise<ConnectionRecord | undefined> {
    return this.#options.registry().get(this.connectionId);
  }

  async send(connectionId: string, data: Outgoing): Promise<Delivery> {
    const frame = checkedFrame(data);
    const [outcome] = await this.#settle([await this.#push().send(connectionId, frame)]);
    return outcome!;
  }

  async close(connectionId: string): Promise<Delivery> {
    const outcome = await this.#push().close(connectionId);
    if (outcome.status === 'delivered') return 'delivered';
    // A connection that cannot be asked to close is gone, or will be cut by the gateway anyway.
    return outcome.status === 'failed' ? 'failed' : (await this.#settle([outcome]))[0]!;
  }

  async broadcast(data: Outgoing, options: { except?: string | readonly string[] } = {}): Promise<BroadcastResult> {
    const frame = checkedFrame(data);
    const except = new Set(typeof options.except === 'string' ? [options.except] : (options.except ?? []));
    const ids = (await this.connections()).flatMap((c) => (except.has(c.id) ? [] : [c.id]));
    const deliveries = await this.#settle(await this.#push().broadcast(ids, frame));
    return {
      attempted: ids.length,
      delivered: deliveries.filter((d) => d === 'delivered').length,
      removed: deliveries.filter((d) => d === 'removed').length,
      failed: deliveries.filter((d) => d === 'failed').length,
    };
  }

  #push(): PushClient {
    if (!this.#options.push) throw new AppError('MISCONFIGURED', 'no push address (the function has no `url`): nothing can be sent', { errNo: 500 });
    return this.#options.push;
  }

  /**
   * Acts on the gateway's answers. A non-200 answer means the gateway is closing that client: its
   * record is removed. A non-zero errNo is undocumented and may not mean gone, yet nothing reached
   * the client: the errNo is logged, the gateway is asked to close the connection (the client then
   * reconnects and registers again) and its record is removed, so no open client silently receives nothing.
   */
  async #settle(outcomes: PushOutcome[]): Promise<Delivery[]> {
    const refused = outcomes.flatMap((o) => (o.status === 'refused' ? [o] : []));
    const forgotten = outcomes.flatMap((o) => (o.status === 'gone' || o.status === 'refused' ? [o.id] : []));
    const failed = outcomes.filter((o) => o.status === 'failed');
    // What reached others: pushes to the connection itself (an ack, an error) are not counted.
    this.tally.delivered += outcomes.filter((o) => o.status === 'delivered' && o.id !== this.connectionId).length;
    this.tally.failed += failed.filter((o) => o.id !== this.connectionId).length;
    this.tally.refused += refused.length;
    if (failed.length > 0) this.log.warn('some pushes failed', { count: failed.length, first: (failed[0] as { error: string }).error, id: failed[0]!.id });
    if (forgotten.length > 0) {
      // One line per errNo, not per connection: a broadcast can reach thousands.
      const byErrNo = new Map<number, typeof refused>();
      for (const o of refused) byErrNo.set(o.errNo, [...(byErrNo.get(o.errNo) ?? []), o]);
      for (const [errNo, some] of byErrNo) {
        this.log.warn('push refused: closing the connection so that it registers again', { errNo, errMsg: some[0]!.errMsg, count: some.length, id: some[0]!.id });
      }
      const closes = await this.#push().closeAll(refused.map((o) => o.id));
      const unclosed = closes.filter((o) => o.status !== 'delivered');
      if (unclosed.length > 0) this.log.debug('close requests not accepted', { count: unclosed.length, id: unclosed[0]!.id });
      try {
        this.tally.removed += await this.#options.registry().removeMany(forgotten);
      } catch (err) {
        this.log.warn('could not prune connections', { count: forgotten.length, errMsg: describeError(err) });
      }
    }
    return outcomes.map((o) => (o.status === 'delivered' ? 'delivered' : o.status === 'failed' ? 'failed' : 'removed'));
  }
}
