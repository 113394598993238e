/**
 * The documented per-connection limits of API Gateway WebSockets, on by default.
 *
 * How the gateway applies them (the cloud documents the numbers, not the mechanics):
 * - Rates are two token buckets per connection (messages, bytes), each holding one second's
 *   worth, so 10 messages sent at once pass and the 11th within the same second does not. A
 *   message bigger than the byte bucket (128 KiB < message ≤ 256 KiB) passes when the bucket is
 *   full and leaves it in debt, otherwise such messages could never be sent.
 * - `close` mode ends the connection with 1008 at the first frame over the rate; `throttle` mode
 *   holds frames back until the rate allows them.
 * - Frames waiting for transport (throttled, or behind a slow invocation, since a connection's
 *   frames are invoked one at a time) are bounded by `maxQueuedFrames`; past it, 1008.
 * - Only client frames are rate-limited, not pushes. Pushes over `maxMessageBytes` are refused.
 * - Idle time is reset by any frame either way: data, pings, pongs and pushes.
 * - Idle timeout and maximum duration end the connection with 1001 and a reason saying which.
 */
import { GatewayError, GatewayErrorCode } from './errors.js';
import { IDLE_TIMEOUT_RANGE, SHORT_TIMEOUT_FLOOR_SECONDS } from './model.js';

export interface GatewayLimits {
  /** Largest client message, 256 KiB; a bigger one closes the connection with 1009. Pushes over it are refused. */
  maxMessageBytes: number;
  /** Client messages per second (token bucket, burst one second's worth), 10. */
  messagesPerSecond: number;
  /** Client bytes per second (token bucket, burst one second's worth), 128 KiB. */
  bytesPerSecond: number;
  /**
   * `close` (default): a frame over the rate closes with 1008 `rate limit exceeded: …`.
   * `throttle`: frames wait until the rate allows them, at most {@link maxQueuedFrames}, then 1008.
   */
  rateLimitAction: 'close' | 'throttle';
  /** Frames of one connection waiting for transport (throttled or behind a slow invocation), 100; more closes with 1008. */
  maxQueuedFrames: number;
  /** No frame either way for this long closes with 1001 `idle timeout`. Default: the API's serviceTimeout; 10–7200. */
  idleTimeoutSeconds?: number;
  /** A connection older than this is closed with 1001 `maximum connection duration reached`. 7200. */
  maxConnectionSeconds: number;
}

export const DEFAULT_LIMITS: Readonly<GatewayLimits> = Object.freeze({
  maxMessageBytes: 256 * 1024,
  messagesPerSecond: 10,
  bytesPerSecond: 128 * 1024,
  rateLimitAction: 'close',
  maxQueuedFrames: 100,
  maxConnectionSeconds: 7200,
});

function invalid(message: string): GatewayError {
  return new GatewayError(GatewayErrorCode.INVALID_LIMITS, message);
}

function positive(value: unknown, name: string, integer = false): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw invalid(`limits.${name} must be a positive ${integer ? 'integer' : 'number'}, got ${JSON.stringify(value)}`);
  }
  return value;
}

function timeout(value: number, name: string, minSeconds: number): number {
  positive(value, name);
  if (value < minSeconds || value > IDLE_TIMEOUT_RANGE.max) {
    const hint = minSeconds > SHORT_TIMEOUT_FLOOR_SECONDS ? ' (shorter ones only with allowShortTimeouts, for tests)' : '';
    throw invalid(`limits.${name} must be ${minSeconds}-${IDLE_TIMEOUT_RANGE.max} seconds${hint}, got ${value}`);
  }
  return value;
}

/**
 * Fills in the defaults and checks the ranges.
 * @param minTimeoutSeconds 10, or {@link SHORT_TIMEOUT_FLOOR_SECONDS} when short timeouts are allowed
 */
export function resolveLimits(given: Partial<GatewayLimits> = {}, minTimeoutSeconds: number = IDLE_TIMEOUT_RANGE.min): GatewayLimits {
  const limits: GatewayLimits = { ...DEFAULT_LIMITS, ...stripUndefined(given) };
  positive(limits.maxMessageBytes, 'maxMessageBytes', true);
  positive(limits.messagesPerSecond, 'messagesPerSecond');
  positive(limits.bytesPerSecond, 'bytesPerSecond');
  positive(limits.maxQueuedFrames, 'maxQueuedFrames', true);
  if (limits.rateLimitAction !== 'close' && limits.rateLimitAction !== 'throttle') {
    throw invalid(`limits.rateLimitAction must be "close" or "throttle", got ${JSON.stringify(limits.rateLimitAction)}`);
  }
  if (limits.idleTimeoutSeconds !== undefined) timeout(limits.idleTimeoutSeconds, 'idleTimeoutSeconds', minTimeoutSeconds);
  timeout(limits.maxConnectionSeconds, 'maxConnectionSeconds', minTimeoutSeconds);
  return limits;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
