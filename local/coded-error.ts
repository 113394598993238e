/**
 * An error with a `code` to branch on, as Node's own errors have. Each local service throws its own
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
