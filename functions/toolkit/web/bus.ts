/**
 * What goes over web mode's pub/sub channels, and how each message is numbered.
 *
 * Every publish is one script: it increments the channel's counter (`seq:<channel>`) and publishes
 * `<n>\n<JSON>`, atomically, so a subscriber sees a channel's messages numbered 1, 2, 3, … in
 * order. A subscriber that was away (Redis restarted, or its connection to it broke) reads the
 * counters again once back: the difference is exactly what was published on its channels while
 * it was not listening.
 */
import type { Redis } from 'ioredis';
import type { PushFrame } from '../../lib/push-client';

/** Counters live a week after their channel's last message. */
export const SEQ_TTL_SECONDS = 7 * 86_400;

const PUBLISH_LUA = `
local n = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
local receivers = redis.call('PUBLISH', ARGV[1], n .. '\\n' .. ARGV[2])
return {n, receivers}
`;

/** A message on a channel. */
export type BusMessage =
  /** A frame for the channel's connections but those in `except`. */
  | { kind: 'frame'; from: string; except?: string[]; frame: PushFrame }
  /** The channel's connection is asked to close. */
  | { kind: 'close'; from: string };

interface Publisher {
  webPublish(seqKey: string, channel: string, payload: string, ttl: number): Promise<[number, number]>;
}

/** Teaches a client the publish script (sent as EVALSHA, re-sent whole when Redis lost it, as after a restart). */
export function definePublish(redis: Redis): void {
  redis.defineCommand('webPublish', { numberOfKeys: 1, lua: PUBLISH_LUA });
}

/** Publishes; resolves with how many Redis clients received it (PUBLISH's count). */
export async function publish(redis: Redis, seqKey: string, channel: string, message: BusMessage): Promise<number> {
  const [, receivers] = await (redis as unknown as Publisher).webPublish(seqKey, channel, JSON.stringify(message), SEQ_TTL_SECONDS);
  return Number(receivers);
}

/** A received message and its number; undefined for anything that is not one of ours. */
export function parseBusMessage(raw: string): { seq: number; message: BusMessage } | undefined {
  const newline = raw.indexOf('\n');
  if (newline < 1) return undefined;
  const seq = Number(raw.slice(0, newline));
  if (!Number.isSafeInteger(seq)) return undefined;
  try {
    const message = JSON.parse(raw.slice(newline + 1)) as BusMessage;
    if (message?.kind !== 'frame' && message?.kind !== 'close') return undefined;
    return { seq, message };
  } catch {
    return undefined;
  }
}
