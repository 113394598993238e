/**
 * The error an app throws to say what went wrong: a stable `code` for the client, and, in
 * `onConnect`, the `errNo` that refuses the handshake.
 */
import { ChatError, ErrNo } from '../lib/errors';

/**
 * Thrown by a handler (or by the toolkit, for its own failures: `MESSAGE_TOO_LARGE`,
 * `REGISTRY_UNAVAILABLE`, `MALFORMED_EVENT`).
 *
 * - In `onConnect`: refuses the connection with `errNo` (any non-zero value; the gateway answers
 *   the client HTTP 403) and the message as `errMsg`.
 * - In `onMessage`: the sender is told `code` and the message; its connection stays open.
 */
export class AppError extends ChatError {
  /**
   * @param code stable and machine-readable, e.g. `BOARD_FULL`
   * @param options.errNo the register answer's errNo in `onConnect`. @default 403
   */
  constructor(code: string, message: string, options: { errNo?: number; cause?: unknown } = {}) {
    super(code, message, options.errNo ?? ErrNo.ADMISSION_REFUSED, { cause: options.cause });
    this.name = 'AppError';
  }
}

/** The code a client is told for any failure: a coded error's own, `APP_ERROR` for anything else. */
export function codeOf(err: unknown): string {
  return err instanceof ChatError ? err.code : 'APP_ERROR';
}
