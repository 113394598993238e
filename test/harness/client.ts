/**
 * A WebSocket client for tests of any app, on the real `ws` library: it keeps everything it
 * receives, so a test sends, then waits for what it expects, with a bounded wait that says what it
 * waited for.
 */
import WebSocket from 'ws';
import { CodedError } from '../../lib/errors';

/** One frame received, in arrival order. */
export interface Received {
  /** A text frame's text. */
  text?: string;
  /** A text frame's parsed JSON, when it parses. */
  json?: any;
  /** A binary frame's bytes. */
  binary?: Buffer;
  /** Arrival time (ms since the epoch). */
  at: number;
}

/** How the server ended the connection. */
export interface Closed {
  code: number;
  reason: string;
}

export interface ConnectOptions {
  /** Subprotocols to offer, e.g. `endpoint.protocols(['chat'])`. @default none */
  protocols?: string[];
  /** How long the opening handshake may take. @default 15 s */
  timeoutMs?: number;
}

/** The gateway refused the handshake: its HTTP status (403 for admission) and body. */
export class HandshakeRefused extends CodedError<'ERR_HANDSHAKE_REFUSED'> {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super('ERR_HANDSHAKE_REFUSED', `handshake refused: HTTP ${status}: ${body}`);
  }
}

/** A {@link TestClient.waitFor} that gave up: after its time (`ERR_WAIT_TIMEOUT`) or because the connection closed (`ERR_WAIT_CLOSED`). */
export class WaitFailed extends CodedError<'ERR_WAIT_TIMEOUT' | 'ERR_WAIT_CLOSED'> {
  constructor(
    code: 'ERR_WAIT_TIMEOUT' | 'ERR_WAIT_CLOSED',
    message: string,
    /** What was waited for, as the caller named it. */
    readonly what: string,
  ) {
    super(code, message);
  }
}

/** Default bound of a handshake and of a wait. */
export const DEFAULT_TIMEOUT_MS = 15_000;

/**
 * One connection, keeping every frame it receives in {@link received}.
 * @example
 * const client = await TestClient.connect(endpoint.url, { protocols: endpoint.protocols(['shout']) });
 * client.send('hello');
 * const shout = await client.nextJson((m) => m.type === 'shout');
 * await client.close();
 */
export class TestClient {
  /** Every frame received, in order. */
  readonly received: Received[] = [];
  /** Set once the connection has closed. */
  closed?: Closed;
  private waiters: Array<() => void> = [];
  /** Indexes in {@link received} already returned by {@link nextJson}. */
  private taken = new Set<number>();

  protected constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      if (isBinary) this.received.push({ binary: buf, at: Date.now() });
      else {
        const text = buf.toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        this.received.push({ text, json, at: Date.now() });
      }
      this.notify();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.notify();
    });
  }

  /**
   * Connects. Rejects with {@link HandshakeRefused} when the server answers the upgrade with an
   * HTTP status, and with the socket's error when it cannot connect or the handshake times out.
   */
  static connect(url: string, options: ConnectOptions = {}): Promise<TestClient> {
    return TestClient.open(url, options, (ws) => new TestClient(ws));
  }

  /** Opens the socket and hands it to `make`, so a subclass's `connect` yields its own class. */
  protected static open<T extends TestClient>(
    url: string,
    { protocols = [], timeoutMs = DEFAULT_TIMEOUT_MS }: ConnectOptions,
    make: (ws: WebSocket) => T,
  ): Promise<T> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, protocols, { handshakeTimeout: timeoutMs, perMessageDeflate: false });
      const client = make(ws);
      ws.once('open', () => resolve(client));
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => {
          reject(new HandshakeRefused(res.statusCode ?? 0, body));
          ws.terminate();
        });
      });
      ws.once('error', (err) => reject(err));
    });
  }

  /** The subprotocol the server chose ('' when none). */
  get protocol(): string {
    return this.ws.protocol;
  }

  /** Sends a string as a text frame, a Buffer or Uint8Array as a binary frame, any other value as JSON text. */
  send(data: string | Uint8Array | object): void {
    if (typeof data === 'string' || data instanceof Uint8Array) this.ws.send(data);
    else this.ws.send(JSON.stringify(data));
  }

  /** Parsed JSON of every text frame received that parsed, optionally only those `predicate` accepts. */
  json(predicate: (value: any) => boolean = () => true): any[] {
    return this.received.filter((r) => r.json !== undefined && predicate(r.json)).map((r) => r.json);
  }

  /**
   * Waits until `check` returns a truthy value and returns it. Fails with a {@link WaitFailed} naming
   * `what` after `timeoutMs`, or as soon as the connection has closed with `check` still false
   * (nothing more can arrive).
   */
  async waitFor<T>(what: string, check: () => T | undefined | null | false, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = check();
      if (value) return value;
      if (this.closed) {
        const { code, reason } = this.closed;
        throw new WaitFailed('ERR_WAIT_CLOSED', `the connection closed (${code}${reason ? ` ${reason}` : ''}) while waiting for ${what}`, what);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new WaitFailed('ERR_WAIT_TIMEOUT', `timed out after ${timeoutMs} ms waiting for ${what}`, what);
      // Woken by each frame and by the close; the poll covers checks that read other state.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 250));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /**
   * The earliest JSON message received that `predicate` accepts and no earlier `nextJson` returned,
   * waiting for one if there is none yet: successive calls walk through matching messages in order.
   * @param what named in the failure @default 'a JSON message'
   */
  nextJson<T = any>(predicate: (value: any) => boolean = () => true, timeoutMs = DEFAULT_TIMEOUT_MS, what = 'a JSON message'): Promise<T> {
    return this.waitFor(
      what,
      () => {
        const index = this.received.findIndex((r, i) => !this.taken.has(i) && r.json !== undefined && predicate(r.json));
        if (index < 0) return undefined;
        this.taken.add(index);
        // Wrapped: the message itself may be falsy (0, null, false).
        return { value: this.received[index].json as T };
      },
      timeoutMs,
    ).then((found) => found.value);
  }

  /**
   * Closes and waits for the server's answer; after `timeoutMs` without one, cuts the socket and
   * fails saying so (ws itself would wait 30 s).
   */
  close(code = 1000, timeoutMs = 10_000): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.ws.terminate();
        reject(new WaitFailed('ERR_WAIT_TIMEOUT', `the server did not answer the close within ${timeoutMs} ms`, 'the close'));
      }, timeoutMs);
      this.ws.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.ws.close(code);
    });
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
