/**
 * The context handlers get: sends, closes and broadcasts through the push address, with the 256 KB
 * check, the registry read at most once per invocation, and the gateway's answers acted on.
 */
import { log, type Level } from '../lib/log';
import { readRegistryConfig } from '../lib/config';
import type { PushClient, PushOutcome } from '../lib/push-client';
import type { ConnectionRegistry, RegistryEntry } from '../lib/registry';
import { storeFor, type Store } from '../lib/store';
import { AppError } from './errors';
import { checkedFrame, deliveryOf, settleOutcomes } from './pushes';
import type { BroadcastResult, Connection, ConnectionRecord, Context, Delivery, Logger, Outgoing } from './types';

export { deliveredSize, frameOf } from './pushes';

/** A logger for one function and connection. */
export function loggerFor(fn: string, connectionId: string | undefined): Logger {
  const at =
    (level: Level) =>
    (message: string, fields: Record<string, unknown> = {}) =>
      log(level, fn, message, connectionId ? { id: connectionId, ...fields } : fields);
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

  /** The app's own objects, in the registry's bucket under `app/`; read from the same configuration. */
  get store(): Store {
    return storeFor(readRegistryConfig());
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

  /** Counts the gateway's answers for the invocation's result, then acts on them (see {@link settleOutcomes}). */
  async #settle(outcomes: PushOutcome[]): Promise<Delivery[]> {
    // What reached others: pushes to the connection itself (an ack, an error) are not counted.
    this.tally.delivered += outcomes.filter((o) => o.status === 'delivered' && o.id !== this.connectionId).length;
    this.tally.failed += outcomes.filter((o) => o.status === 'failed' && o.id !== this.connectionId).length;
    this.tally.refused += outcomes.filter((o) => o.status === 'refused').length;
    this.tally.removed += await settleOutcomes(outcomes, { push: () => this.#push(), registry: this.#options.registry, log: this.log });
    return outcomes.map(deliveryOf);
  }
}
