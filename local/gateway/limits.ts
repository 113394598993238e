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
 * - `rateLimits: false` (`npm start -- --limits off`) switches both rates off, for load tests; the
 *   frame size, idle and duration limits stay. A connection then reads no further frames while
 *   `maxQueuedFrames` wait for transport (TCP backpressure) instead of being closed.
 * - Only client frames are rate-limited, not pushes. Pushes over `maxMessageBytes` are refused.
 * - A client that stops reading: once more than `maxBufferedBytes` wait to be sent to it, the push
 *   that would add more is not sent and the connection is closed with 1008 `client not reading: …`.
 * - Idle time is reset by any frame either way: data, pings, pongs and pushes.
 * - Idle timeout and maximum duration end the connection with 1001 and a reason saying which.
 */
import { GatewayError, GatewayErrorCode } from './errors';
import { IDLE_TIMEOUT_RANGE, SHORT_TIMEOUT_FLOOR_SECONDS } from './model';

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
  /**
   * Whether the two rates apply, true. False switches messages/s and bytes/s off (`--limits off`),
   * so a load test can send back to back; the 256 KiB frame limit stays.
   */
  rateLimits: boolean;
  /**
   * Frames of one connection waiting for transport (throttled or behind a slow invocation), 100; more
   * closes with 1008. With `rateLimits: false` the connection stops reading instead, until half have gone.
   */
  maxQueuedFrames: number;
  /**
   * Bytes pushed to one client and not yet taken by its socket (ws `bufferedAmount`), 4 MiB: a push
   * that would go beyond it is not sent, and the connection is closed with 1008. At least `maxMessageBytes`.
   */
  maxBufferedBytes: number;
  /**
   * Push request bodies being read at once, across all requests, 32 MiB (counted by their declared
   * length; a chunked body counts as the 8 MiB maximum). A request beyond it waits, unread, for room.
   */
  maxPushBytesInFlight: number;
  /** Time for a request's headers to arrive (the WebSocket handshake and pushes), 10 000 ms; then the socket is closed. */
  headersTimeoutMs: number;
  /** Time for a whole request to arrive (headers and body), 30 000 ms; then 408 and the socket is closed. */
  requestTimeoutMs: number;
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
  rateLimits: true,
  maxQueuedFrames: 100,
  maxBufferedBytes: 4 * 1024 * 1024,
  maxPushBytesInFlight: 32 * 1024 * 1024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
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
  positive(limits.maxBufferedBytes, 'maxBufferedBytes', true);
  if (limits.maxBufferedBytes < limits.maxMessageBytes) {
    throw invalid(`limits.maxBufferedBytes must be at least maxMessageBytes (${limits.maxMessageBytes}), got ${limits.maxBufferedBytes}`);
  }
  positive(limits.maxPushBytesInFlight, 'maxPushBytesInFlight', true);
  positive(limits.headersTimeoutMs, 'headersTimeoutMs', true);
  positive(limits.requestTimeoutMs, 'requestTimeoutMs', true);
  // Node refuses a headers timeout longer than the request timeout.
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) {
    throw invalid(`limits.headersTimeoutMs (${limits.headersTimeoutMs}) must not exceed limits.requestTimeoutMs (${limits.requestTimeoutMs})`);
  }
  if (typeof limits.rateLimits !== 'boolean') throw invalid(`limits.rateLimits must be true or false, got ${JSON.stringify(limits.rateLimits)}`);
  if (limits.rateLimitAction !== 'close' && limits.rateLimitAction !== 'throttle') {
    throw invalid(`limits.rateLimitAction must be "close" or "throttle", got ${JSON.stringify(limits.rateLimitAction)}`);
  }
  if (limits.idleTimeoutSeconds !== undefined) timeout(limits.idleTimeoutSeconds, 'idleTimeoutSeconds', minTimeoutSeconds);
  timeout(limits.maxConnectionSeconds, 'maxConnectionSeconds', minTimeoutSeconds);
  return limits;
}

/**
 * The limits in force, on one line, as `npm start` prints them, e.g.
 * `256 KB per message (close 1009); 10 msg/s and 128 KB/s per connection (close 1008); idle 600 s; max 7200 s`.
 * @param apiIdleSeconds the API's idle timeout, used when `limits.idleTimeoutSeconds` is not set
 */
export function describeLimits(limits: GatewayLimits, apiIdleSeconds?: number): string {
  const parts = [`${size(limits.maxMessageBytes)} per message (close 1009)`];
  const rates = `${limits.messagesPerSecond} msg/s and ${size(limits.bytesPerSecond)}/s per connection`;
  if (!limits.rateLimits) parts.push('no rate limits');
  else if (limits.rateLimitAction === 'close') parts.push(`${rates} (close 1008)`);
  else parts.push(`${rates} (throttled; close 1008 past ${limits.maxQueuedFrames} waiting)`);
  parts.push(`${size(limits.maxBufferedBytes)} unread per connection (close 1008)`);
  const idle = limits.idleTimeoutSeconds ?? apiIdleSeconds;
  parts.push(idle === undefined ? "idle: the API's timeout" : `idle ${idle} s`);
  parts.push(`max ${limits.maxConnectionSeconds} s`);
  return parts.join('; ');
}

/**
 * The limits a web function's connections have, on one line, e.g. `256 KB per message either way
 * (close 1009); 10 msg/s and 128 KB/s from each client (close 1008); idle 600 s (status 455);
 * max 900 s (status 433)`. Unread bytes are not limited: the proxy is slowed by TCP instead.
 * @param idleSeconds the web function's idle timeout, used when `limits.idleTimeoutSeconds` is not set
 * @param timeoutSeconds the web function's timeout
 */
export function describeWebLimits(limits: GatewayLimits, idleSeconds: number, timeoutSeconds: number): string {
  const parts = [`${size(limits.maxMessageBytes)} per message either way (close 1009)`];
  const rates = `${limits.messagesPerSecond} msg/s and ${size(limits.bytesPerSecond)}/s from each client`;
  if (!limits.rateLimits) parts.push('no rate limits');
  else if (limits.rateLimitAction === 'close') parts.push(`${rates} (close 1008)`);
  else parts.push(`${rates} (throttled)`);
  parts.push(`idle ${limits.idleTimeoutSeconds ?? idleSeconds} s (status 455)`);
  parts.push(`max ${Math.min(timeoutSeconds, limits.maxConnectionSeconds)} s (status 433)`);
  return parts.join('; ');
}

function size(bytes: number): string {
  if (bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MB`;
  if (bytes % 1024 === 0) return `${bytes / 1024} KB`;
  return `${bytes} bytes`;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
