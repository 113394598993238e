/**
 * What every sender of pushes shares, the handlers' context and the server-side client alike: the
 * frame of a value with the 256 KB check, and acting on the gateway's answers.
 */
import { describeError } from '../lib/errors';
import { MAX_PUSH_BYTES } from '../lib/limits';
import type { PushClient, PushFrame, PushOutcome } from '../lib/push-client';
import type { ConnectionRegistry } from '../lib/registry';
import { AppError } from './errors';
import type { Delivery, Logger, Outgoing } from './types';

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

/** The frame of `data`. @throws AppError `MESSAGE_TOO_LARGE` over 256 KB. */
export function checkedFrame(data: Outgoing): PushFrame {
  const frame = frameOf(data);
  const size = deliveredSize(frame);
  if (size > MAX_PUSH_BYTES) {
    throw new AppError('MESSAGE_TOO_LARGE', `message is ${size} bytes once wrapped, over the ${MAX_PUSH_BYTES}-byte limit; it was not sent`, { errNo: 103 });
  }
  return frame;
}

/** What a push outcome means for the sender once settled. */
export function deliveryOf(outcome: PushOutcome): Delivery {
  return outcome.status === 'delivered' ? 'delivered' : outcome.status === 'failed' ? 'failed' : 'removed';
}

/** What {@link settleOutcomes} needs: the push address, how to forget connections, and a logger. */
export interface SettleDeps {
  push: () => PushClient;
  /** Removes what made these connections receivers (records, room keys); returns how many it removed. */
  forget: (ids: string[]) => Promise<number>;
  log: Logger;
}

/** Forgetting connections by their registry records. */
export function forgetRecords(registry: () => ConnectionRegistry): (ids: string[]) => Promise<number> {
  return (ids) => registry().removeMany(ids);
}

/**
 * Acts on the gateway's answers. A non-200 answer means the gateway is closing that client: its
 * record is removed. A non-zero errNo is undocumented and may not mean gone, yet nothing reached
 * the client: the errNo is logged, the gateway is asked to close the connection (the client then
 * reconnects and registers again) and its record is removed, so no open client silently receives nothing.
 * Returns how many records were removed.
 */
export async function settleOutcomes(outcomes: PushOutcome[], { push, forget, log }: SettleDeps): Promise<number> {
  const refused = outcomes.flatMap((o) => (o.status === 'refused' ? [o] : []));
  const forgotten = outcomes.flatMap((o) => (o.status === 'gone' || o.status === 'refused' ? [o.id] : []));
  const failed = outcomes.filter((o) => o.status === 'failed');
  if (failed.length > 0) log.warn('some pushes failed', { count: failed.length, first: (failed[0] as { error: string }).error, id: failed[0]!.id });
  if (forgotten.length === 0) return 0;
  // One line per errNo, not per connection: a broadcast can reach thousands.
  const byErrNo = new Map<number, typeof refused>();
  for (const o of refused) byErrNo.set(o.errNo, [...(byErrNo.get(o.errNo) ?? []), o]);
  for (const [errNo, some] of byErrNo) {
    log.warn('push refused: closing the connection so that it registers again', { errNo, errMsg: some[0]!.errMsg, count: some.length, id: some[0]!.id });
  }
  const closes = await push().closeAll(refused.map((o) => o.id));
  const unclosed = closes.filter((o) => o.status !== 'delivered');
  if (unclosed.length > 0) log.debug('close requests not accepted', { count: unclosed.length, id: unclosed[0]!.id });
  try {
    return await forget(forgotten);
  } catch (err) {
    log.warn('could not prune connections', { count: forgotten.length, errMsg: describeError(err) });
    return 0;
  }
}
