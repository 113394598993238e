/**
 * A real HTTP server standing in for the gateway's reverse-push address: it records every push and
 * answers like the gateway, with a non-zero errNo for connections it is told are gone.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedPush {
  action: string;
  secConnectionID: string;
  dataType?: string;
  data?: string;
}

export class PushRecorder {
  readonly pushes: RecordedPush[] = [];
  /** Ids answered with errNo 1, as the gateway answers for unknown or closed connections. */
  readonly gone = new Set<string>();
  /** Ids answered with HTTP 500, as the gateway answers a system fault before closing that client. */
  readonly failing = new Set<string>();
  /** Delay before answering, to make concurrency observable. */
  delayMs = 0;
  /** Most requests seen in flight at once. */
  maxInFlight = 0;
  /** Distinct TCP connections used by clients. */
  sockets = 0;
  private inFlight = 0;
  private server = http.createServer((req, res) => this.handle(req, res));

  async start(): Promise<string> {
    this.server.on('connection', () => this.sockets++);
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this.url;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/api-local`;
  }

  /** Pushes addressed to one connection, decoded. */
  to(id: string): RecordedPush[] {
    return this.pushes.filter((p) => p.secConnectionID === id);
  }

  /** Text pushes to one connection, parsed as JSON. */
  jsonTo(id: string): Array<Record<string, unknown>> {
    return this.to(id)
      .filter((p) => p.dataType === 'text')
      .map((p) => JSON.parse(p.data!));
  }

  reset(): void {
    this.pushes.length = 0;
    this.gone.clear();
    this.failing.clear();
    this.maxInFlight = 0;
    this.sockets = 0;
    this.delayMs = 0;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const answer = (status: number, body: object) => {
        setTimeout(() => {
          this.inFlight--;
          res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
        }, this.delayMs);
      };
      let ws: RecordedPush;
      try {
        ws = JSON.parse(Buffer.concat(chunks).toString('utf8')).websocket;
      } catch {
        return answer(400, { errNo: 400, errMsg: 'body is not JSON' });
      }
      this.pushes.push(ws);
      if (this.failing.has(ws.secConnectionID)) return answer(500, { errNo: 500, errMsg: 'internal error' });
      if (this.gone.has(ws.secConnectionID)) return answer(200, { errNo: 1, errMsg: 'connection not found' });
      answer(200, { errNo: 0, errMsg: 'ok' });
    });
  }
}
