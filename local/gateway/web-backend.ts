/**
 * What the gateway needs of the runtime to serve an API whose backend is a WebSocket web function
 * (an SCF backend of function type HTTP): an instance per connection. `LocalScf` satisfies it.
 */
import type { Socket } from 'node:net';
import type { FunctionRef } from '../invoker';

/** One connection's instance. */
export interface WebSessionHandle {
  requestId: string;
  functionName: string;
  /** Connected to the instance's port; the client's handshake is written on it. */
  socket: Socket;
  /** The function's WebSocket idle timeout (`WSParams.IdleTimeOut`). */
  idleTimeoutSeconds: number;
  /** The function's timeout: the longest the connection may last. */
  timeoutSeconds: number;
  /** Resolves when the instance's process exits. */
  exited: Promise<{ description: string }>;
  /** The invocation's end, with its status code (seed 002's, or the HTTP status of a refused handshake). */
  end(status: number, detail: string): void;
}

/** Why no instance could be had. */
export interface WebOpenFailure {
  ok: false;
  /** `not-found`, `not-web` (an event function), `busy` (at the instance limit), `timeout`, `crash`. */
  kind: string;
  message: string;
}

export interface WebBackend {
  /** Starts an instance for one connection. Never throws. */
  connect(fn: FunctionRef, options: { requestId: string }): Promise<{ ok: true; session: WebSessionHandle } | WebOpenFailure>;
}
