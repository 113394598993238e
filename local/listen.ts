/**
 * Starting and stopping the local services' HTTP servers: one place for the taken-port error and
 * for closing keep-alive connections, which every local service needs.
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
