/**
 * Errors the local SCF runtime throws from its management calls (deploy, configuration, delete).
 * Invocations never throw: their failures are {@link InvocationResult}s.
 */

import { CodedError } from '../coded-error';

/** Codes of {@link ScfError}, to branch on. */
export type ScfErrorCode =
  /** The spec is unusable: bad name, namespace, memory, timeout or environment. */
  | 'ERR_BAD_SPEC'
  /** The zip cannot be read or unpacked, or an entry would land outside its folder. */
  | 'ERR_BAD_ZIP'
  /** The handler string is malformed, or the zip lacks its file or export. */
  | 'ERR_BAD_HANDLER'
  /** The handler's file threw while loading. */
  | 'ERR_INIT_FAILED'
  /** No function of that name in that namespace. */
  | 'ERR_FUNCTION_NOT_FOUND'
  /** A function of that name is in that namespace already (CreateFunction). */
  | 'ERR_FUNCTION_EXISTS'
  /** The runtime was stopped. */
  | 'ERR_STOPPED';

export class ScfError extends CodedError<ScfErrorCode> {}
