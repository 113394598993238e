/**
 * The error base shared by everything outside `functions/` (the stacks, the scripts, the local
 * cloud), and the one way they describe a thrown value. It sits on the ground floor, importing
 * nothing, so that `stacks/`, `scripts/` and `local/` may all use it without leaning on each
 * other. `functions/` keeps its own (`functions/lib/errors.ts`): its code is bundled into the zips.
 */

/**
 * An error with a `code` to branch on, as Node's own errors have. Each part throws its own
 * subclass, so a caller can tell whose failure it is by class and what failed by code.
 */
export class CodedError<Code extends string = string> extends Error {
  readonly code: Code;

  constructor(code: Code, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * Any thrown value in one line, for logs and for messages that wrap a cause: an error's message,
 * preceded by its string `code` when the message does not already name it (`ERR_X: what failed`).
 */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' && code !== '' && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}
