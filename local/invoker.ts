/**
 * How the local gateway calls functions, kept apart from how the local SCF runs them.
 */

/** A function as API Gateway binds it. */
export interface FunctionRef {
  name: string;
  namespace: string;
  /** `$LATEST` unless a version or alias is bound. */
  qualifier: string;
}

/** How an invocation ended. A failure has the platform's consequences (a refused handshake, a closed connection). */
export type InvocationResult =
  | { ok: true; value: unknown; durationMs: number }
  | {
      ok: false;
      /** `timeout`: ran past the function's timeout; `error`: threw or rejected; `crash`: the instance died; `not-found`: no such function. */
      kind: 'timeout' | 'error' | 'crash' | 'not-found';
      message: string;
      durationMs: number;
    };

/** Something that runs functions by reference: the local SCF runtime, or a table of handlers in tests. */
export interface Invoker {
  invoke(fn: FunctionRef, event: unknown, options?: { requestId?: string }): Promise<InvocationResult>;
}
