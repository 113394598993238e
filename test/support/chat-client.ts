/**
 * A chat client on the real `ws` library, collecting what it receives so tests can wait for it.
 */
import WebSocket from 'ws';

export interface Received {
  text?: string;
  json?: Record<string, any>;
  binary?: Buffer;
  at: number;
}

/** A refused handshake: the HTTP status and body the gateway answered with. */
export class HandshakeRefused extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`handshake refused: HTTP ${status}: ${body}`);
  }
}

export class ChatClient {
  readonly received: Received[] = [];
  closed?: { code: number; reason: string };
  private waiters: Array<() => void> = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      const buf = Buffer.isBuffer(data) ? data : Buffer.concat(data as Buffer[]);
      if (isBinary) this.received.push({ binary: buf, at: Date.now() });
      else {
        const text = buf.toString('utf8');
        let json: Record<string, any> | undefined;
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

  /** Connects; rejects with {@link HandshakeRefused} when the gateway refuses. */
  static connect(url: string, protocols: string[] = ['chat'], timeoutMs = 15_000): Promise<ChatClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, protocols, { handshakeTimeout: timeoutMs, perMessageDeflate: false });
      const client = new ChatClient(ws);
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

  /** Chat messages received (JSON envelopes of type "message"). */
  messages(): Array<Record<string, any>> {
    return this.received.filter((r) => r.json?.type === 'message').map((r) => r.json!);
  }

  of(type: string): Array<Record<string, any>> {
    return this.received.filter((r) => r.json?.type === type).map((r) => r.json!);
  }

  send(text: string): void {
    this.ws.send(JSON.stringify({ type: 'message', text }));
  }

  /** Waits until `check` returns a truthy value, or fails after `timeoutMs` saying what it waited for. */
  async waitFor<T>(what: string, check: () => T | undefined | false, timeoutMs = 15_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = check();
      if (value) return value;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
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
   * Closes and waits for the server's answer; after `timeoutMs` without one, cuts the socket and
   * fails saying so (ws itself would wait 30 s).
   */
  close(code = 1000, timeoutMs = 10_000): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.ws.terminate();
        reject(new Error(`the server did not answer the close within ${timeoutMs} ms`));
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
