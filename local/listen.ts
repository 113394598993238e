/**
 * Starting and stopping the local services' HTTP servers: one place for the taken-port error, for
 * closing keep-alive connections, and for start and stop calls that overlap.
 */
import type { Server } from 'node:http';

/**
 * Listens on `host:port` and returns the port bound (useful when `port` is 0). A taken port
 * rejects with `inUse(message, cause)`, the message naming the port, so each service keeps its
 * own error class and code.
 */
export function listen(server: Server, port: number, host: string, inUse: (message: string, cause: Error) => Error): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      reject(err.code === 'EADDRINUSE' ? inUse(`port ${port} on ${host} is already in use; stop whatever holds it or pick another port`, err) : err);
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

/**
 * Stops listening: idle keep-alive connections are closed at once (they would hold close() open),
 * busy ones after `graceMs`.
 */
export function closeServer(server: Server, graceMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}

/**
 * One service's listener across start and stop: concurrent starts share one listen, a stop during
 * a start waits for it and then closes, and a start during a stop waits for the stop to finish.
 */
export class Listener {
  readonly #open: () => Promise<{ server: Server; port: number }>;
  readonly #close: (server: Server) => Promise<void>;
  readonly #afterClose: () => Promise<void>;
  #server: Server | undefined;
  #port: number | undefined;
  #starting: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;

  /**
   * @param options.open prepares the service and listens (see {@link listen}), returning the server and port
   * @param options.graceMs how long a stop lets busy connections finish (see {@link closeServer}); default 0
   * @param options.close closes the server instead of {@link closeServer}, for a service that must
   *   first wind down what the server no longer tracks (upgraded connections); it resolves once closed
   * @param options.afterClose runs once the server is closed, before the stop resolves
   */
  constructor(options: {
    open: () => Promise<{ server: Server; port: number }>;
    graceMs?: number;
    close?: (server: Server) => Promise<void>;
    afterClose?: () => Promise<void>;
  }) {
    this.#open = options.open;
    const graceMs = options.graceMs ?? 0;
    this.#close = options.close ?? ((server) => closeServer(server, graceMs));
    this.#afterClose = options.afterClose ?? (async () => {});
  }

  /** The port listened on; undefined when not listening. */
  get port(): number | undefined {
    return this.#port;
  }

  start(): Promise<void> {
    // a server being stopped does not count: the start waits for the stop, then listens again
    if (this.#server && !this.#stopping) return Promise.resolve();
    this.#starting ??= this.#start().finally(() => {
      this.#starting = undefined;
    });
    return this.#starting;
  }

  async #start(): Promise<void> {
    if (this.#stopping) await this.#stopping;
    const { server, port } = await this.#open();
    this.#server = server;
    this.#port = port;
  }

  /** Safe to call twice, or before start(). */
  async stop(): Promise<void> {
    if (this.#stopping) return this.#stopping;
    if (this.#starting) await this.#starting.catch(() => undefined);
    if (this.#stopping) return this.#stopping;
    const server = this.#server;
    if (!server) return;
    this.#stopping = this.#close(server)
      .then(() => this.#afterClose())
      .finally(() => {
        this.#server = undefined;
        this.#port = undefined;
        this.#stopping = undefined;
      });
    return this.#stopping;
  }
}
