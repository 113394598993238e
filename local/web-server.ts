/**
 * Serves the chat page (`web/`) and `/config.json`, which tells the page where the WebSocket is.
 */
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { closeServer, listen } from './listen';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
};

/** What the page needs to connect. */
export interface PageConfig {
  wsUrl: string;
  /** The stage requires an admission token. */
  admission: boolean;
  stack: string;
}

export class WebServer {
  private server?: http.Server;

  constructor(private readonly options: { root: string; host?: string; port?: number; config: () => PageConfig }) {}

  async start(): Promise<void> {
    const server = http.createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`page server error: ${(err as Error).message}`);
      });
    });
    const host = this.options.host ?? '127.0.0.1';
    const port = this.options.port ?? 0;
    await listen(server, port, host, (message, cause) => Object.assign(new Error(`page ${message} (--port)`, { cause }), { code: 'EADDRINUSE' }));
    this.server = server;
  }

  get url(): string {
    const address = this.server?.address() as AddressInfo | undefined;
    if (!address) throw new Error('the page server is not started');
    return `http://127.0.0.1:${address.port}/`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await closeServer(server, 0);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://local');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (url.pathname === '/config.json') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(this.options.config()));
      return;
    }
    const relative = url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname.slice(1));
    const file = path.resolve(this.options.root, relative);
    // Nothing outside web/ is served.
    if (!file.startsWith(path.resolve(this.options.root) + path.sep)) {
      res.writeHead(404).end();
      return;
    }
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-cache' }).end(req.method === 'HEAD' ? undefined : body);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    }
  }
}
