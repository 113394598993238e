/**
 * One client connection as the gateway holds it: frames to transport, limits, timers, cleanup.
 *
 * Behaviour chosen where the cloud's is unconfirmed:
 * - Frames of one connection reach transport one at a time, in the order they arrived: each
 *   connection has one queue and the next invocation starts when the previous one has ended.
 *   Whether the real gateway keeps this order is unconfirmed; a function that relies on it may
 *   see reordering in the cloud, but one that works here at least never saw it locally.
 * - Cleanup runs once, after the last queued transport, whoever ended the connection: the client,
 *   a limit, a push `closing`, a failed transport or the gateway stopping. Whether the cloud
 *   invokes cleanup when it ends a connection itself is unconfirmed; invoking it keeps the
 *   registry of a local run clean, and the functions tolerate it either way.
 * - Frames still held back by the throttle when the connection ends are dropped, so the rate limit
 *   never delays cleanup; frames already admitted are delivered.
 * - Pushes are not rate-limited; they count as activity for the idle timeout, as do pings and pongs.
 * - A push that would leave more than `maxBufferedBytes` unsent to a client (one that stopped
 *   reading) is not sent: the connection is closed with 1008, so the gateway never holds an
 *   unbounded backlog for one socket.
 */
import { WebSocket } from 'ws';
import type { FunctionRef, InvocationResult, Invoker } from '../invoker';
import { closingEvent, dataEvent } from './events';
import type { GatewayLimits } from './limits';
import type { ApiDef } from './model';
import { TokenBucket } from './token-bucket';

/** Close codes the gateway uses. */
export const CloseCode = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  POLICY_VIOLATION: 1008,
  MESSAGE_TOO_BIG: 1009,
  INTERNAL_ERROR: 1011,
} as const;

/** How long a client has to answer a close frame before its socket is cut. */
const CLOSE_GRACE_MS = 2000;
/** A close reason is at most 123 bytes (RFC 6455). */
const MAX_REASON_BYTES = 123;

export interface ConnectionOptions {
  id: string;
  /** The id as log lines show it (shortened by default). */
  logId: string;
  serviceId: string;
  environment: string;
  apiId: string;
  /** The subprotocol register chose, if any. */
  protocol?: string;
  limits: GatewayLimits;
  idleTimeoutMs: number;
  maxDurationMs: number;
  invoker: Invoker;
  /** The connection's API as currently released: a re-release changes the bindings of later frames. */
  api: () => ApiDef;
  log: (line: string) => void;
  /** Called once when the WebSocket has closed (before cleanup runs). */
  onClosed: (connection: GatewayConnection, code: number, reason: string) => void;
}

interface QueuedFrame {
  dataType: 'text' | 'binary';
  data: string;
  bytes: number;
  /** Passed the rate limit; only admitted frames are invoked. */
  admitted: boolean;
}

export class GatewayConnection {
  readonly id: string;
  readonly serviceId: string;
  readonly environment: string;
  readonly apiId: string;
  readonly protocol?: string;
  /** Resolves once the connection has closed and its cleanup invocation has ended. */
  readonly finished: Promise<void>;

  readonly #ws: WebSocket;
  readonly #options: ConnectionOptions;
  readonly #messages: TokenBucket;
  readonly #bytes: TokenBucket;
  #inbox: QueuedFrame[] = [];
  #pumping = false;
  #closed = false;
  #closing = false;
  #cleanupStarted = false;
  #resolveFinished!: () => void;
  #lastActivity = performance.now();
  #idleTimer: NodeJS.Timeout | undefined;
  #maxTimer: NodeJS.Timeout | undefined;
  #graceTimer: NodeJS.Timeout | undefined;
  #wake: (() => void) | undefined;

  constructor(ws: WebSocket, options: ConnectionOptions) {
    this.#ws = ws;
    this.#options = options;
    this.id = options.id;
    this.serviceId = options.serviceId;
    this.environment = options.environment;
    this.apiId = options.apiId;
    this.protocol = options.protocol;
    this.finished = new Promise((resolve) => (this.#resolveFinished = resolve));
    this.#messages = new TokenBucket(options.limits.messagesPerSecond);
    this.#bytes = new TokenBucket(options.limits.bytesPerSecond);

    ws.on('message', (data, isBinary) => this.#onMessage(toBuffer(data), isBinary));
    ws.on('ping', () => this.#touch());
    ws.on('pong', () => this.#touch());
    // ws closes the connection itself after these (1009 for an oversized message, 1007 for bad UTF-8, ...).
    ws.on('error', (err) => options.log(`connection ${options.logId}: ${err.message}`));
    ws.on('close', (code, reason) => this.#onClose(code, reason.toString('utf8')));

    this.#armIdle(options.idleTimeoutMs);
    this.#maxTimer = setTimeout(() => this.close(CloseCode.GOING_AWAY, 'maximum connection duration reached'), options.maxDurationMs);
  }

  /** Open, and not being closed by the gateway. */
  get isOpen(): boolean {
    return !this.#closing && !this.#closed && this.#ws.readyState === WebSocket.OPEN;
  }

  /**
   * Sends a pushed frame of `bytes` bytes. Returns why it was not sent, or undefined once sent: the
   * connection is closed or closing, or the client is not reading (it is then closed with 1008).
   */
  deliver(payload: string | Buffer, binary: boolean, bytes: number): string | undefined {
    if (!this.isOpen) return 'is closing';
    const { maxBufferedBytes } = this.#options.limits;
    if (this.#ws.bufferedAmount + bytes > maxBufferedBytes) {
      const reason = `client not reading: over ${maxBufferedBytes} bytes waiting to be sent`;
      this.close(CloseCode.POLICY_VIOLATION, reason);
      return `was closed (${reason}); not sent`;
    }
    this.#ws.send(payload, { binary });
    this.#touch();
    return undefined;
  }

  /** Closes from the gateway's side; the client gets `code` and `reason`, then cleanup runs. */
  close(code: number, reason: string): void {
    if (this.#closing || this.#closed) return;
    this.#closing = true;
    // a connection paused for backpressure must read again to see the client's close frame
    if (this.#ws.isPaused) this.#ws.resume();
    this.#options.log(`connection ${this.#options.logId}: closing with ${code}${reason ? ` (${reason})` : ''}`);
    this.#ws.close(code, fitReason(reason));
    // ws waits 30 s for the client's close frame; the gateway does not hold a socket that long.
    this.#graceTimer = setTimeout(() => this.#ws.terminate(), CLOSE_GRACE_MS);
  }

  /** Cuts the socket without a closing handshake. */
  terminate(): void {
    this.#ws.terminate();
  }

  #onMessage(data: Buffer, isBinary: boolean): void {
    this.#touch();
    // After the gateway has begun closing, nothing more from the client is delivered.
    if (this.#closing || this.#closed) return;
    const { limits } = this.#options;
    const frame: QueuedFrame = {
      dataType: isBinary ? 'binary' : 'text',
      data: isBinary ? data.toString('base64') : data.toString('utf8'),
      bytes: data.length,
      admitted: false,
    };
    if (!limits.rateLimits) {
      frame.admitted = true;
    } else if (limits.rateLimitAction === 'close') {
      const over = this.#overRate(frame.bytes);
      if (over) {
        this.close(CloseCode.POLICY_VIOLATION, over);
        return;
      }
      this.#take(frame.bytes);
      frame.admitted = true;
    }
    if (limits.rateLimits && this.#inbox.length >= limits.maxQueuedFrames) {
      const reason =
        limits.rateLimitAction === 'throttle'
          ? `rate limit exceeded: more than ${limits.maxQueuedFrames} frames waiting`
          : `too many frames waiting for transport (${limits.maxQueuedFrames})`;
      this.close(CloseCode.POLICY_VIOLATION, reason);
      return;
    }
    this.#inbox.push(frame);
    // Without rate limits, a fast sender is slowed by TCP rather than closed.
    if (!limits.rateLimits && this.#inbox.length >= limits.maxQueuedFrames) this.#ws.pause();
    void this.#pump();
  }

  #overRate(bytes: number): string | undefined {
    const { limits } = this.#options;
    if (this.#messages.waitMs(1) > 0) return `rate limit exceeded: more than ${limits.messagesPerSecond} messages per second`;
    if (this.#bytes.waitMs(bytes) > 0) return `rate limit exceeded: more than ${limits.bytesPerSecond} bytes per second`;
    return undefined;
  }

  #take(bytes: number): void {
    this.#messages.tryTake(1);
    this.#bytes.tryTake(bytes);
  }

  /** Invokes transport for queued frames, one at a time; runs cleanup after the last one once closed. */
  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#inbox.length > 0) {
        const frame = this.#inbox[0];
        if (!frame.admitted) {
          if (this.#closing || this.#closed) {
            this.#inbox = this.#inbox.filter((f) => f.admitted);
            continue;
          }
          const wait = Math.max(this.#messages.waitMs(1), this.#bytes.waitMs(frame.bytes));
          if (wait > 0) {
            await this.#sleep(wait);
            continue;
          }
          this.#take(frame.bytes);
          frame.admitted = true;
        }
        this.#inbox.shift();
        if (this.#ws.isPaused && this.#inbox.length <= this.#options.limits.maxQueuedFrames / 2) this.#ws.resume();
        await this.#transport(frame);
      }
    } finally {
      this.#pumping = false;
    }
    if (this.#closed) await this.#cleanup();
  }

  async #transport(frame: QueuedFrame): Promise<void> {
    const api = this.#options.api();
    if (!api.transport) {
      this.#fail(`no transport function is bound to API ${api.apiId}`, 'no transport function bound');
      return;
    }
    const result = await this.#invoke(api.transport, dataEvent(this.id, frame.dataType, frame.data));
    if (!result.ok) {
      this.#fail(`transport function ${api.transport.name} failed (${result.kind}): ${result.message}`, `transport function failed (${result.kind})`);
    }
  }

  #fail(detail: string, reason: string): void {
    this.#options.log(`connection ${this.#options.logId}: ${detail}`);
    this.close(CloseCode.INTERNAL_ERROR, reason);
  }

  #onClose(code: number, reason: string): void {
    this.#closed = true;
    clearTimeout(this.#idleTimer);
    clearTimeout(this.#maxTimer);
    clearTimeout(this.#graceTimer);
    this.#wake?.();
    this.#options.onClosed(this, code, reason);
    if (!this.#pumping) void this.#cleanup();
  }

  async #cleanup(): Promise<void> {
    if (this.#cleanupStarted) return;
    this.#cleanupStarted = true;
    try {
      const api = this.#options.api();
      if (!api.cleanup) return;
      const result = await this.#invoke(api.cleanup, closingEvent(this.id));
      if (!result.ok) this.#options.log(`connection ${this.#options.logId}: cleanup function ${api.cleanup.name} failed (${result.kind}): ${result.message}`);
    } finally {
      this.#resolveFinished();
    }
  }

  async #invoke(fn: FunctionRef, event: unknown): Promise<InvocationResult> {
    const started = performance.now();
    try {
      return await this.#options.invoker.invoke(fn, event);
    } catch (err) {
      // An invoker should not throw; if one does, it counts as a crash of the function.
      return { ok: false, kind: 'crash', message: err instanceof Error ? err.message : String(err), durationMs: performance.now() - started };
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        if (this.#wake === done) this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wake = done;
    });
  }

  #touch(): void {
    this.#lastActivity = performance.now();
  }

  // One timer per connection, re-armed only when it fires: activity just moves a timestamp.
  #armIdle(delayMs: number): void {
    this.#idleTimer = setTimeout(
      () => {
        const idleFor = performance.now() - this.#lastActivity;
        const left = this.#options.idleTimeoutMs - idleFor;
        if (left <= 0) this.close(CloseCode.GOING_AWAY, 'idle timeout');
        else this.#armIdle(left);
      },
      Math.max(1, Math.ceil(delayMs)),
    );
  }
}

function toBuffer(data: WebSocket.RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** Cuts a close reason to 123 bytes of UTF-8 without splitting a character. */
export function fitReason(reason: string): string {
  if (Buffer.byteLength(reason) <= MAX_REASON_BYTES) return reason;
  let out = '';
  for (const ch of reason) {
    if (Buffer.byteLength(out + ch + '…') > MAX_REASON_BYTES) break;
    out += ch;
  }
  return out + '…';
}
