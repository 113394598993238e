/**
 * Redis failures as the coded errors handlers already know from event mode
 * (`REGISTRY_UNAVAILABLE`, `HISTORY_UNAVAILABLE`, `STORE_UNAVAILABLE`, errNo 503).
 */
import { ChatError, ErrNo, describeError } from '../../lib/errors';

/** One line for a Redis client's failure; the client's own words when they say more than "closed". */
export function describeRedisError(err: unknown): string {
  const message = describeError(err);
  // What ioredis says while it reconnects, with the offline queue off.
  if (/enableOfflineQueue|Connection is closed|MaxRetriesPerRequest/i.test(message)) return `Redis is unreachable (${message})`;
  return `Redis: ${message}`;
}

/** A coded error for a failed Redis call: `<what> failed: <why>`. */
export function redisError(code: 'REGISTRY_UNAVAILABLE' | 'HISTORY_UNAVAILABLE' | 'STORE_UNAVAILABLE', what: string, err: unknown): ChatError {
  if (err instanceof ChatError) return err;
  return new ChatError(code, `${what} failed: ${describeRedisError(err)}`, ErrNo.REGISTRY_UNAVAILABLE, { cause: err });
}
