/**
 * One client connection to a web function, once its instance accepted the handshake: the bytes are
 * piped both ways as they are, while the frame headers going by are read (frames.ts) for the
 * limits, the idle timeout and the close codes, which decide the invocation's status (seed 002):
 *
 * | how it ended | status |
 * |---|---|
 * | a close frame with 1000, 1010 or 1011, from either side | 200 |
 * | a close frame with another code (none counts as 1005) from the instance, or the instance's connection dropped (a crash) | 439 |
 * | the same from the client | 456 |
 * | no frame either way for the idle timeout: both get 1001 `idle timeout` | 455 |
 * | the function's timeout reached: both connections are cut (the client sees 1006, as in the cloud) | 433 |
 *
 * Limits, chosen where the cloud documents only the numbers: a client message over
 * `maxMessageBytes` closes both sides with 1009, a client over the message or byte rate with 1008
 * (or, throttled, its frames wait, held back by TCP), both counted as the client's (456); a message
 * over `maxMessageBytes` from the instance closes both with 1009, counted as the instance's (439).
 * Pings and pongs count as activity; only the client's data frames are rate-limited. When the
 * gateway stops, both sides get 1001 `gateway stopping` (439).
 */
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { CloseCode, fitReason } from './connection';
import { type FrameHeader, FrameScanner, Opcode, type Verdict, closeFrame } from './frames';
import type { GatewayLimits } from './limits';
import { TokenBucket } from './token-bucket';
import type { WebSessionHandle } from './web-backend';

/** Close codes seed 002 counts as a normal end (1010 is the client's, 1011 the server's). */
const NORMAL_CLOSE_CODES = new Set([1000, 1010, 1011]);
/** After a close frame, how long both sides have to finish before their sockets are cut. */
const CLOSE_GRACE_MS = 2000;
/** How long a dropped instance connection waits for its process's exit, to say why it dropped. */
const EXIT_WAIT_MS = 500;

export const WebStatusCode = { NORMAL: 200, SERVER_ABNORMAL: 439, CLIENT_ABNORMAL: 456, IDLE_TIMEOUT: 455, MAX_DURATION: 433 } as const;

export interface WebConnectionOptions {
  id: string;
  logId: string;
  /** The client's socket, upgraded. */
  client: Duplex;
  /** The instance's socket, upgraded. */
  instance: Duplex;
  /** Bytes the instance sent right after its 101, before any `data` event. */
  instanceHead: Buffer;
  /** Bytes the client sent after its handshake request. */
  clientHead: Buffer;
  session: WebSessionHandle;
  limits: GatewayLimits;
  idleTimeoutMs: number;
  maxDurationMs: number;
  log: (line: string) => void;
  /** Once both sockets are closed: the close code the client saw (1006 without a close frame) and the status. */
  onClosed: (connection: WebConnection, code: number, status: number) => void;
}

type Side = 'client' | 'instance';

/** What ended the connection, when the gateway or a drop decided it rather than a close frame. */
interface Ending {
  status: number;
  detail: string;
  /** The close code the gateway sent the client; none when it cut the connection. */
  code?: number;
}

export class WebConnection {
  readonly id: string;
  /** Resolves once both sockets are closed and the invocation has ended. */
  readonly finished: Promise<void>;
  readonly #o: WebConnectionOptions;
  readonly #up: FrameScanner;
  readonly #down: FrameScanner;
  readonly #messages: TokenBucket;
  readonly #bytes: TokenBucket;
  /** Bytes of the client message now going by (fragments summed). */
  #upMessageBytes = 0;
  #downMessageBytes = 0;
  #firstClose: { by: Side; code: number | undefined; reason: string } | undefined;
  #ending: Ending | undefined;
  /** The gateway's own close frames, waiting for a frame boundary of their direction. */
  #injectToClient: Buffer | undefined;
  #injectToInstance: Buffer | undefined;
  #lastActivity = performance.now();
  #idleTimer: NodeJS.Timeout | undefined;
  #maxTimer: NodeJS.Timeout | undefined;
  #graceTimer: NodeJS.Timeout | undefined;
  #holdTimer: NodeJS.Timeout | undefined;
  #held: Buffer | undefined;
  #clientClosed = false;
  #instanceClosed = false;
  #instanceDrop: string | undefined;
  #clientDrop: string | undefined;
  #resolveFinished!: () => void;
  #finishing = false;

  constructor(options: WebConnectionOptions) {
    this.#o = options;
    this.id = options.id;
    this.finished = new Promise((resolve) => (this.#resolveFinished = resolve));
    this.#messages = new TokenBucket(options.limits.messagesPerSecond);
    this.#bytes = new TokenBucket(options.limits.bytesPerSecond);
    this.#up = new FrameScanner({ onHeader: (h) => this.#onClientFrame(h), onClose: (code, reason) => this.#onCloseFrame('client', code, reason) });
    this.#down = new FrameScanner({ onHeader: (h) => this.#onInstanceFrame(h), onClose: (code, reason) => this.#onCloseFrame('instance', code, reason) });

    const { client, instance } = options;
    client.on('data', (chunk: Buffer) => this.#fromClient(chunk));
    instance.on('data', (chunk: Buffer) => this.#fromInstance(chunk));
    client.on('error', (err) => (this.#clientDrop ??= err.message));
    instance.on('error', (err) => (this.#instanceDrop ??= err.message));
    client.on('end', () => this.#sideEnded('client'));
    instance.on('end', () => this.#sideEnded('instance'));
    client.on('close', () => this.#sideClosed('client'));
    instance.on('close', () => this.#sideClosed('instance'));
    // frames go out as they come: Nagle would hold small ones back for the last one's ACK
    (client as Partial<Socket>).setNoDelay?.(true);
    (instance as Partial<Socket>).setNoDelay?.(true);

    this.#armIdle(options.idleTimeoutMs);
    this.#maxTimer = setTimeout(() => this.#maxDurationReached(), options.maxDurationMs);
    if (options.instanceHead.length) this.#fromInstance(options.instanceHead);
    if (options.clientHead.length) this.#fromClient(options.clientHead);
    client.resume();
    instance.resume();
  }

  /** Closes both sides with `code` (the gateway stopping), the invocation ending with 439. */
  close(code: number, reason: string): void {
    this.#closeBoth(code, reason, { status: WebStatusCode.SERVER_ABNORMAL, detail: `the gateway closed it with ${code} (${reason})`, code });
  }

  /** Cuts both sockets at once. */
  terminate(): void {
    this.#o.client.destroy();
    this.#o.instance.destroy();
  }

  // --- client → instance

  #fromClient(chunk: Buffer): void {
    this.#pipe(this.#up.scan(chunk), 'instance');
  }

  #onClientFrame(header: FrameHeader): Verdict {
    this.#touch();
    if (!isData(header.opcode)) return 'pass';
    const { limits } = this.#o;
    const messageBytes = (header.opcode === Opcode.CONTINUATION ? this.#upMessageBytes : 0) + header.length;
    if (messageBytes > limits.maxMessageBytes) {
      this.#violation('client', CloseCode.MESSAGE_TOO_BIG, `message over ${limits.maxMessageBytes} bytes`);
      return 'stop';
    }
    if (limits.rateLimits) {
      const starts = header.opcode !== Opcode.CONTINUATION;
      if (limits.rateLimitAction === 'throttle') {
        const wait = Math.max(starts ? this.#messages.waitMs(1) : 0, this.#bytes.waitMs(header.length));
        if (wait > 0) {
          this.#holdFor(wait);
          return 'hold';
        }
      } else if (starts && this.#messages.waitMs(1) > 0) {
        this.#violation('client', CloseCode.POLICY_VIOLATION, `rate limit exceeded: more than ${limits.messagesPerSecond} messages per second`);
        return 'stop';
      } else if (header.fin && this.#bytes.waitMs(messageBytes) > 0) {
        // Charged per whole message, on its last frame, as event mode's gateway does: a message
        // over 256 KB sent in pieces then meets the size limit (1009) before the byte rate.
        this.#violation('client', CloseCode.POLICY_VIOLATION, `rate limit exceeded: more than ${limits.bytesPerSecond} bytes per second`);
        return 'stop';
      }
      if (starts) this.#messages.tryTake(1);
      if (limits.rateLimitAction === 'throttle') this.#bytes.tryTake(header.length);
      else if (header.fin) this.#bytes.tryTake(messageBytes);
    }
    this.#upMessageBytes = header.fin ? 0 : messageBytes;
    return 'pass';
  }

  /** Throttled: the client's socket stops being read until the rate allows its next frame. */
  #holdFor(ms: number): void {
    this.#o.client.pause();
    this.#holdTimer = setTimeout(() => {
      this.#holdTimer = undefined;
      const held = this.#held;
      this.#held = undefined;
      if (held) this.#fromClient(held);
      if (!this.#held) this.#o.client.resume();
    }, ms);
  }

  // --- instance → client

  #fromInstance(chunk: Buffer): void {
    this.#pipe(this.#down.scan(chunk), 'client');
  }

  #onInstanceFrame(header: FrameHeader): Verdict {
    this.#touch();
    if (!isData(header.opcode)) return 'pass';
    const max = this.#o.limits.maxMessageBytes;
    const messageBytes = (header.opcode === Opcode.CONTINUATION ? this.#downMessageBytes : 0) + header.length;
    if (messageBytes > max) {
      this.#violation('instance', CloseCode.MESSAGE_TOO_BIG, `the function sent a message over ${max} bytes`);
      return 'stop';
    }
    this.#downMessageBytes = header.fin ? 0 : messageBytes;
    return 'pass';
  }

  // --- both

  /** Forwards what a scan let through, then the gateway's own close frame once its direction is sealed. */
  #pipe(result: ReturnType<FrameScanner['scan']>, to: Side): void {
    const target = to === 'instance' ? this.#o.instance : this.#o.client;
    const source = to === 'instance' ? this.#o.client : this.#o.instance;
    let full = false;
    for (const piece of result.forward) if (!target.destroyed) full = !target.write(piece) || full;
    if (result.held) this.#held = result.held;
    if (result.sealed) this.#flushInjected(to);
    if (full && !source.isPaused()) {
      source.pause();
      target.once('drain', () => {
        if (!this.#held) source.resume();
      });
    }
  }

  #flushInjected(to: Side): void {
    const frame = to === 'instance' ? this.#injectToInstance : this.#injectToClient;
    if (!frame) return;
    if (to === 'instance') this.#injectToInstance = undefined;
    else this.#injectToClient = undefined;
    const target = to === 'instance' ? this.#o.instance : this.#o.client;
    if (!target.destroyed && target.writable) target.write(frame);
  }

  #onCloseFrame(by: Side, code: number | undefined, reason: string): void {
    this.#touch();
    if (!this.#firstClose) {
      this.#firstClose = { by, code, reason };
      this.#startGrace();
    } else if (this.#ending) {
      // the answer to the gateway's own close: this side is done
      (by === 'client' ? this.#o.client : this.#o.instance).end();
    }
  }

  /** A limit broken: both sides are closed with `code`, the invocation counted against `by`. */
  #violation(by: Side, code: number, reason: string): void {
    const status = by === 'client' ? WebStatusCode.CLIENT_ABNORMAL : WebStatusCode.SERVER_ABNORMAL;
    this.#o.log(`connection ${this.#o.logId}: closing with ${code} (${reason})`);
    this.#closeBoth(code, reason, { status, detail: `closed with ${code}: ${reason}`, code });
  }

  #closeBoth(code: number, reason: string, ending: Ending): void {
    if (this.#ending || this.#finishing) return;
    this.#ending = ending;
    const text = fitReason(reason);
    // a throttled client must be read again to see the answer to the close
    if (this.#holdTimer) clearTimeout(this.#holdTimer);
    this.#held = undefined;
    this.#o.client.resume();
    this.#injectToClient = closeFrame(code, text, false);
    this.#injectToInstance = closeFrame(code, text, true);
    if (this.#down.seal()) this.#flushInjected('client');
    if (this.#up.seal()) this.#flushInjected('instance');
    this.#startGrace();
  }

  #idleTimeout(): void {
    this.#o.log(`connection ${this.#o.logId}: closing with ${CloseCode.GOING_AWAY} (idle timeout)`);
    this.#closeBoth(CloseCode.GOING_AWAY, 'idle timeout', {
      status: WebStatusCode.IDLE_TIMEOUT,
      detail: `idle timeout: no frame either way for ${this.#o.idleTimeoutMs / 1000} s`,
      code: CloseCode.GOING_AWAY,
    });
  }

  #maxDurationReached(): void {
    if (this.#finishing) return;
    this.#ending = { status: WebStatusCode.MAX_DURATION, detail: `the function's timeout (${this.#o.maxDurationMs / 1000} s) was reached` };
    this.#o.log(`connection ${this.#o.logId}: cut at the function's timeout (${this.#o.maxDurationMs / 1000} s)`);
    this.terminate();
  }

  #startGrace(): void {
    this.#graceTimer ??= setTimeout(() => this.terminate(), CLOSE_GRACE_MS);
  }

  /** A side sent FIN: the other side's socket is ended too, so half-closed states do not linger. */
  #sideEnded(side: Side): void {
    const other = side === 'client' ? this.#o.instance : this.#o.client;
    if (!this.#firstClose && !this.#ending) {
      if (side === 'client') this.#clientDrop ??= 'the client closed its connection without a close frame';
      else this.#instanceDrop ??= 'the instance closed its connection without a close frame';
    }
    other.end();
    this.#startGrace();
  }

  #sideClosed(side: Side): void {
    if (side === 'client') this.#clientClosed = true;
    else this.#instanceClosed = true;
    if (!this.#firstClose && !this.#ending) {
      // the first side to go without a close frame is the one that dropped the connection
      if (side === 'client' && !this.#instanceDrop) this.#clientDrop ??= 'the client connection dropped';
      if (side === 'instance' && !this.#clientDrop) this.#instanceDrop ??= 'the instance connection dropped';
    }
    (side === 'client' ? this.#o.instance : this.#o.client).destroy();
    if (this.#clientClosed && this.#instanceClosed) void this.#finish();
  }

  async #finish(): Promise<void> {
    if (this.#finishing) return;
    this.#finishing = true;
    clearTimeout(this.#idleTimer);
    clearTimeout(this.#maxTimer);
    clearTimeout(this.#graceTimer);
    clearTimeout(this.#holdTimer);
    const { status, detail, clientCode } = await this.#outcome();
    this.#o.session.end(status, detail);
    this.#o.onClosed(this, clientCode, status);
    this.#resolveFinished();
  }

  async #outcome(): Promise<Ending & { clientCode: number }> {
    const close = this.#firstClose;
    if (this.#ending) {
      return { ...this.#ending, clientCode: this.#ending.code ?? 1006 };
    }
    if (close) {
      const code = close.code ?? 1005;
      const by = close.by === 'client' ? 'the client' : 'the function';
      const detail = `${by} closed with ${code}${close.reason ? ` (${close.reason})` : ''}`;
      if (NORMAL_CLOSE_CODES.has(code)) return { status: WebStatusCode.NORMAL, detail, clientCode: code };
      return { status: close.by === 'client' ? WebStatusCode.CLIENT_ABNORMAL : WebStatusCode.SERVER_ABNORMAL, detail, clientCode: code };
    }
    if (this.#instanceDrop !== undefined && this.#clientDrop === undefined) {
      let timer: NodeJS.Timeout | undefined;
      const exit = await Promise.race([
        this.#o.session.exited.then((e) => e.description),
        new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), EXIT_WAIT_MS))),
      ]);
      clearTimeout(timer);
      const detail = exit ? `the instance ${exit} while its connection was open` : this.#instanceDrop;
      return { status: WebStatusCode.SERVER_ABNORMAL, detail, clientCode: 1006 };
    }
    return { status: WebStatusCode.CLIENT_ABNORMAL, detail: this.#clientDrop ?? 'the client connection dropped', clientCode: 1006 };
  }

  #touch(): void {
    this.#lastActivity = performance.now();
  }

  // One timer per connection, re-armed only when it fires: activity just moves a timestamp.
  #armIdle(delayMs: number): void {
    this.#idleTimer = setTimeout(
      () => {
        if (this.#ending || this.#finishing) return;
        const left = this.#o.idleTimeoutMs - (performance.now() - this.#lastActivity);
        if (left <= 0) this.#idleTimeout();
        else this.#armIdle(left);
      },
      Math.max(1, Math.ceil(delayMs)),
    );
  }
}

function isData(opcode: number): boolean {
  return opcode === Opcode.TEXT || opcode === Opcode.BINARY || opcode === Opcode.CONTINUATION;
}
