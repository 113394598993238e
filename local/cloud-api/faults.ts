/**
 * Failures injected for tests: errors the local services cannot otherwise be made to return
 * (throttling, an update failing for one function), answered in place of the next matching calls.
 */
import { CloudApiError, CloudApiErrorCode, isCloudApiCode } from './errors';
import type { Params } from './params';

export interface FaultOptions {
  /** The Cloud API error code to answer, e.g. `RequestLimitExceeded`. */
  code: string;
  message: string;
  /** How many matching calls fail. Default 1. */
  times?: number;
  /** Which calls: those whose parameters it accepts. Default: any call of the action. */
  match?: (params: any) => boolean;
}

interface Fault {
  code: string;
  message: string;
  left: number;
  match?: (params: any) => boolean;
}

/** Pending faults, by action, consumed first come first served. */
export class FaultQueue {
  readonly #byAction = new Map<string, Fault[]>();

  /** @throws CloudApiError `ERR_INVALID_ARGUMENT` for a code that is no Cloud API code or a bad `times`. */
  add(action: string, options: FaultOptions): void {
    if (!isCloudApiCode(options?.code)) {
      throw new CloudApiError(
        CloudApiErrorCode.INVALID_ARGUMENT,
        `a fault needs a Cloud API error code such as RequestLimitExceeded, got ${JSON.stringify(options?.code)}`,
      );
    }
    const times = options.times ?? 1;
    if (!Number.isInteger(times) || times < 1) throw new CloudApiError(CloudApiErrorCode.INVALID_ARGUMENT, `times must be a whole number from 1, got ${times}`);
    const list = this.#byAction.get(action) ?? [];
    list.push({ code: options.code, message: options.message, left: times, match: options.match });
    this.#byAction.set(action, list);
  }

  /** The error to answer this call with, if a fault matches it (and uses one of its times up). */
  take(action: string, params: Params): CloudApiError | undefined {
    const list = this.#byAction.get(action);
    if (!list) return undefined;
    const index = list.findIndex((fault) => !fault.match || fault.match(params));
    if (index === -1) return undefined;
    const fault = list[index];
    fault.left -= 1;
    if (fault.left === 0) list.splice(index, 1);
    if (list.length === 0) this.#byAction.delete(action);
    return new CloudApiError(fault.code, fault.message);
  }
}
