/**
 * Error codes shared by the three handlers. Register answers carry the numeric `errNo` the gateway
 * reads; envelopes pushed to clients carry the string `code`.
 */

/** `errNo` values a register answer may carry. 101 and 102 are the official samples' values. */
export const ErrNo = {
  OK: 0,
  NO_REQUEST_CONTEXT: 101,
  NO_WEBSOCKET: 102,
  MALFORMED_EVENT: 103,
  UNSUPPORTED_SUBPROTOCOL: 104,
  ADMISSION_REQUIRED: 401,
  ADMISSION_REFUSED: 403,
  REGISTRY_UNAVAILABLE: 503,
  MISCONFIGURED: 500,
} as const;

export type ErrNoValue = (typeof ErrNo)[keyof typeof ErrNo];

/** An error that knows the register `errNo` and envelope `code` it maps to. */
export class ChatError extends Error {
  constructor(
    /** Stable machine-readable code, e.g. `REGISTRY_UNAVAILABLE`. */
    readonly code: string,
    message: string,
    /** The register answer's `errNo` for this failure. */
    readonly errNo: number = ErrNo.MISCONFIGURED,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ChatError';
  }
}

/** Describes any thrown value in one line, for `errMsg` and logs. */
export function describeError(err: unknown): string {
  if (err instanceof ChatError) return err.message;
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return code && !err.message.includes(String(code)) ? `${code}: ${err.message}` : err.message;
  }
  if (err && typeof err === 'object') {
    // The COS SDK rejects with plain objects: {statusCode, code, message, error: {Code, Message}}.
    const e = err as { code?: string; message?: string; statusCode?: number; error?: { Code?: string; Message?: string } | string };
    const inner = typeof e.error === 'object' && e.error ? `${e.error.Code ?? ''} ${e.error.Message ?? ''}`.trim() : e.error;
    const parts = [e.statusCode && `HTTP ${e.statusCode}`, e.code, e.message, inner].filter(Boolean);
    if (parts.length) return [...new Set(parts)].join(': ');
  }
  return String(err);
}
