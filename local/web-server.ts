/**
 * Serves the chat page (`web/`) and `/config.json`, which tells the page where the WebSocket is.
 *
 * A malformed path (`/%zz`) is answered 400; a failure of the server itself 500 without its
 * details. Headers must arrive within `headersTimeoutMs` and the whole request within
 * `requestTimeoutMs`, so a client trickling bytes is cut.
 */
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { CodedError } from './coded-error';
import { Listener, listen } from './listen';

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

export interface WebServerOptions {
  root: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: any free port. */
  port?: number;
  config: () => PageConfig;
  /** Time for a request's headers to arrive. Default 10 000 ms. */
  headersTimeoutMs?: number;
  /** Time for a whole request to arrive. Default 30 000 ms. */
  requestTimeoutMs?: number;
}

/** Thrown by {@link WebServer}: `EADDRINUSE` for a taken port, `ERR_NOT_STARTED` for its url before start(). */
export class WebServerError extends CodedError<'EADDRINUSE' | 'ERR_NOT_STARTED'> {}

export class WebServer {
  readonly #options: WebServerOptions;
  // No grace for busy requests at stop: a page request is a file read.
  readonly #listener = new Listener({ open: () => this.#listen() });

  constructor(options: WebServerOptions) {
    this.#options = options;
  }

  /**
   * Listens. Concurrent calls share one listen; a call during stop() listens again once the stop
   * has ended. @throws WebServerError `EADDRINUSE` when the port is taken.
   */
  start(): Promise<void> {
    return this.#listener.start();
  }

  /** `http://127.0.0.1:PORT/`. @throws WebServerError `ERR_NOT_STARTED` when not listening. */
  get url(): string {
    const port = this.#listener.port;
    if (port === undefined) throw new WebServerError('ERR_NOT_STARTED', 'the page server is not started');
    return `http://127.0.0.1:${port}/`;
  }

  /** Stops listening and closes open connections. Safe to call twice, or before start(). */
  stop(): Promise<void> {
    return this.#listener.stop();
  }

  async #listen(): Promise<{ server: http.Server; port: number }> {
    const headersTimeout = this.#options.headersTimeoutMs ?? 10_000;
    const requestTimeout = Math.max(headersTimeout, this.#options.requestTimeoutMs ?? 30_000);
    const server = http.createServer(
      // Node checks the timeouts every 30 s by default, which would let a trickler stay that long.
      { headersTimeout, requestTimeout, connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(headersTimeout / 4))) },
      (req, res) => {
        this.#handle(req, res).catch(() => {
          // The exception's text stays here: it may name files of this machine.
          if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
          res.end('page server error');
        });
      },
    );
    const host = this.#options.host ?? '127.0.0.1';
    const port = await listen(
      server,
      this.#options.port ?? 0,
      host,
      (message, cause) => new WebServerError('EADDRINUSE', `page ${message} (--port)`, { cause }),
    );
    return { server, port };
  }

  async #handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://local');
    } catch {
      // e.g. `//[`, which URL reads as a host
      res.writeHead(400, { 'content-type': 'text/plain' }).end('bad request: the path is not a valid URL path');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (url.pathname === '/config.json') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(this.#options.config()));
      return;
    }
    let relative: string;
    try {
      relative = url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname.slice(1));
    } catch {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('bad request: the path is not valid percent-encoding');
      return;
    }
    const file = path.resolve(this.#options.root, relative);
    // Nothing outside web/ is served.
    if (!file.startsWith(path.resolve(this.#options.root) + path.sep)) {
      res.writeHead(404).end();
      return;
    }
    try {
      const body = await readFile(file);
      res
        .writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-cache' })
        .end(req.method === 'HEAD' ? undefined : body);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    }
  }
}
