/**
 * Transport function: runs for every frame a client sends, and broadcasts it to every other
 * connection through the gateway's reverse-push address.
 */
import { readPushConfig, readRegistryConfig, readRegistryExpiryDays } from './lib/config';
import { ChatError, ErrNo, describeError } from './lib/errors';
import { connectionIdIfAny, parseDataEvent } from './lib/event';
import { MAX_PUSH_BYTES, deliveredSize, envelopeFrame, readIncoming, shortId, type ErrorEnvelope } from './lib/envelope';
import { log } from './lib/log';
import { PushClient, type PushFrame, type PushOutcome } from './lib/push-client';
import { registryFor, type ConnectionRegistry, type RegistryEntry } from './lib/registry';

/** What a transport invocation did; the gateway ignores it, logs and tests read it. */
export interface TransportResult {
  errNo: number;
  errMsg: string;
  online?: number;
  delivered?: number;
  /** Records removed: connections the gateway closed (non-200) or was asked to close (non-zero errNo). */
  pruned?: number;
  /** Pushes answered with a non-zero errNo; those connections were asked to close. */
  refused?: number;
  failed?: number;
  /** What was done to the sender's own record: rewritten to keep it from expiring, or written back. */
  senderRecord?: 'kept' | 'refreshed' | 'restored';
}

const DAY_MS = 86_400_000;

function errorCode(err: unknown): ErrorEnvelope['code'] {
  const code = err instanceof ChatError ? err.code : '';
  return code === 'MALFORMED_EVENT' || code === 'MESSAGE_TOO_LARGE' ? code : 'REGISTRY_UNAVAILABLE';
}

/**
 * Acts on the gateway's answers. A non-200 answer means the gateway is closing that client: its
 * record is removed. A non-zero errNo is undocumented and may not mean gone, yet nothing reached the
 * client: the errNo is logged, the gateway is asked to close the connection (the client then
 * reconnects and registers again) and its record is removed, so no open client silently receives nothing.
 * Returns the ids removed and how many records were.
 */
async function settle(push: PushClient, outcomes: PushOutcome[], registry: () => ConnectionRegistry): Promise<{ forgotten: Set<string>; pruned: number; refused: number }> {
  const gone = outcomes.flatMap((o) => (o.status === 'gone' ? [o.id] : []));
  const refused = outcomes.flatMap((o) => (o.status === 'refused' ? [o] : []));
  const forgotten = new Set([...gone, ...refused.map((o) => o.id)]);
  if (forgotten.size === 0) return { forgotten, pruned: 0, refused: 0 };

  // One line per errNo, not per connection: a broadcast can reach thousands.
  const byErrNo = new Map<number, typeof refused>();
  for (const o of refused) byErrNo.set(o.errNo, [...(byErrNo.get(o.errNo) ?? []), o]);
  for (const [errNo, some] of byErrNo) {
    log('warn', 'transport', 'push refused: closing the connection so that it registers again', { errNo, errMsg: some[0].errMsg, count: some.length, id: some[0].id });
  }
  const closes = await push.closeAll(refused.map((o) => o.id));
  const unclosed = closes.filter((o) => o.status !== 'delivered');
  if (unclosed.length > 0) log('debug', 'transport', 'close requests not accepted', { count: unclosed.length, id: unclosed[0].id });

  let pruned = 0;
  try {
    pruned = await registry().removeMany([...forgotten]);
  } catch (err) {
    log('warn', 'transport', 'could not prune connections', { count: forgotten.size, errMsg: describeError(err) });
  }
  return { forgotten, pruned, refused: refused.length };
}

/**
 * Keeps the sender registered: the lifecycle rule expires records by their last write, so a record
 * the listing shows older than half the expiry is rewritten, and one the listing lacks (expired or
 * pruned while the client stayed connected: it just sent a frame) is written back.
 */
async function keepSender(registry: ConnectionRegistry, from: string, entry: RegistryEntry | undefined, expiryDays: number): Promise<TransportResult['senderRecord']> {
  try {
    if (!entry) {
      await registry.add({ id: from, connectedAt: new Date().toISOString(), restored: true });
      log('info', 'transport', 'sender record restored', { id: from });
      return 'restored';
    }
    // NaN (no usable time in the listing) counts as old: a needless rewrite is cheaper than a lost record.
    if (!(Date.now() - entry.lastModified <= (expiryDays * DAY_MS) / 2)) {
      const rewritten = await registry.refresh(from);
      log('info', 'transport', 'sender record refreshed', { id: from, ageMs: Date.now() - entry.lastModified });
      return rewritten ? 'refreshed' : 'kept';
    }
  } catch (err) {
    log('warn', 'transport', 'could not keep the sender record', { id: from, errMsg: describeError(err) });
  }
  return 'kept';
}

export async function main_handler(event: unknown): Promise<TransportResult> {
  // Without a push address nothing can be said to anyone: fail loudly (the gateway then closes the sender).
  const push = new PushClient(readPushConfig());
  const sender = connectionIdIfAny(event);
  const registry = () => registryFor(readRegistryConfig());

  // Failures below are answered to the sender rather than thrown: a failed invocation closes its connection.
  const refuse = async (err: unknown): Promise<TransportResult> => {
    const errNo = err instanceof ChatError ? err.errNo : ErrNo.MISCONFIGURED;
    const message = describeError(err);
    log('warn', 'transport', 'not broadcast', { id: sender, errMsg: message });
    if (sender) await settle(push, [await push.send(sender, envelopeFrame({ type: 'error', code: errorCode(err), message }))], registry);
    return { errNo, errMsg: message };
  };

  let from: string;
  let entries: RegistryEntry[];
  let incoming;
  let expiryDays: number;
  const started = Date.now();
  try {
    const data = parseDataEvent(event);
    from = data.websocket.secConnectionID;
    incoming = readIncoming(data.websocket);
    expiryDays = readRegistryExpiryDays();
    entries = await registry().entries();
  } catch (err) {
    return refuse(err);
  }
  const listMs = Date.now() - started;

  const others = entries.flatMap((e) => (e.id !== from ? [e.id] : []));
  const online = others.length + 1;
  const frame: PushFrame =
    incoming.kind === 'binary'
      ? { dataType: 'binary', data: incoming.base64 }
      : envelopeFrame({ type: 'message', from: shortId(from), text: incoming.text, online, sentAt: new Date().toISOString() });
  const size = deliveredSize(frame);
  if (size > MAX_PUSH_BYTES) {
    return refuse(
      new ChatError('MESSAGE_TOO_LARGE', `message is ${size} bytes once wrapped, over the ${MAX_PUSH_BYTES}-byte limit; it was not sent`, ErrNo.MALFORMED_EVENT),
    );
  }

  // The sender's record is kept while the message goes out, not before it.
  const [senderRecord, outcomes] = await Promise.all([
    keepSender(registry(), from, entries.find((e) => e.id === from), expiryDays),
    push.broadcast(others, frame),
  ]);
  const delivered = outcomes.filter((o) => o.status === 'delivered').length;
  const failed = outcomes.flatMap((o) => (o.status === 'failed' ? [o] : []));
  const { forgotten, pruned, refused } = await settle(push, outcomes, registry);
  if (failed.length > 0) {
    log('warn', 'transport', 'some pushes failed', { count: failed.length, first: failed[0].error, id: failed[0].id });
  }
  const ack = await push.send(from, envelopeFrame({ type: 'ack', online: online - forgotten.size, delivered }));
  const own = await settle(push, [ack], registry);
  log('info', 'transport', 'broadcast', { id: from, online, delivered, pruned, refused, failed: failed.length, senderRecord, listMs, totalMs: Date.now() - started });
  return { errNo: ErrNo.OK, errMsg: 'ok', online, delivered, pruned: pruned + own.pruned, refused: refused + own.refused, failed: failed.length, senderRecord };
}
