/**
 * SCF (scf, 2018-04-16): GetFunction and UpdateFunctionConfiguration on a local SCF runtime.
 *
 * Status: UpdateFunctionConfiguration answers once the change is in place (new invocations see it),
 * so a failure is answered rather than lost. While it runs, and for the next `updatingPolls`
 * GetFunction calls after it answered, GetFunction reports `Updating` and a further update of that
 * function is refused, as the cloud refuses changes to a function that is not Active. A caller that
 * waits for `Active` after an update, as it must in the cloud, works either way; `updatingPolls`
 * makes that wait observable, counted in calls rather than time so that a busy machine sees the same.
 */
import type { ScfBackend, ScfConfigurationChange, ScfFunctionView } from './backends';
import { CloudApiError, CloudApiErrorCode, toCloudApiError } from './errors';
import { type Params, given, invalid, optionalNumber, optionalString, requiredString } from './params';
import type { Product } from './product';
import { SCF_MODELS } from './sdk-models';
import { checkRequest } from './shapes';

export const SCF_VERSION = '2018-04-16';

const DEFAULT_NAMESPACE = 'default';
const LATEST = '$LATEST';
/** Prefixes SCF keeps for its own variables; a function may not set them. */
const RESERVED_PREFIX = /^(TENCENTCLOUD_|SCF_|QCLOUD_)/;

/** The fields of UpdateFunctionConfiguration the local runtime applies; others are accepted and ignored. */
const APPLIED_UPDATE_FIELDS = new Set(['FunctionName', 'Namespace', 'Environment', 'MemorySize', 'Timeout']);

export interface ScfProductOptions {
  log: (line: string) => void;
  /** How many GetFunction calls after an update answered still report `Updating`. Default 0. */
  updatingPolls?: number;
}

/** Whether functions are being updated, by `<namespace>/<name>`. */
class UpdateTracker {
  readonly #inFlight = new Map<string, number>();
  readonly #pollsLeft = new Map<string, number>();

  constructor(readonly lingerPolls: number) {}

  /** Whether the function is Updating; `poll` counts this as one of the GetFunction calls that see it. */
  isUpdating(key: string, { poll = false } = {}): boolean {
    if ((this.#inFlight.get(key) ?? 0) > 0) return true;
    const left = this.#pollsLeft.get(key) ?? 0;
    if (left === 0) return false;
    if (poll) {
      if (left > 1) this.#pollsLeft.set(key, left - 1);
      else this.#pollsLeft.delete(key);
    }
    return true;
  }

  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    this.#inFlight.set(key, (this.#inFlight.get(key) ?? 0) + 1);
    try {
      return await task();
    } finally {
      const left = this.#inFlight.get(key)! - 1;
      if (left > 0) this.#inFlight.set(key, left);
      else this.#inFlight.delete(key);
      if (this.lingerPolls > 0) this.#pollsLeft.set(key, this.lingerPolls);
    }
  }
}

/** The scf actions on `scf`. */
export function scfProduct(scf: ScfBackend, options: ScfProductOptions): Product {
  const updates = new UpdateTracker(options.updatingPolls ?? 0);

  const requireFunction = (params: Params): { fn: ScfFunctionView; key: string } => {
    const name = requiredString(params, 'FunctionName');
    const namespace = optionalString(params, 'Namespace') ?? DEFAULT_NAMESPACE;
    const fn = scf.getFunction(name, namespace);
    if (!fn) throw new CloudApiError(CloudApiErrorCode.FUNCTION_NOT_FOUND, `function ${name} does not exist in namespace ${namespace}`);
    return { fn, key: `${namespace}/${name}` };
  };

  return {
    name: 'scf',
    version: SCF_VERSION,
    actions: {
      GetFunction(params: Params) {
        checkRequest(SCF_MODELS, 'GetFunctionRequest', params, 'GetFunction');
        const { fn, key } = requireFunction(params);
        const qualifier = optionalString(params, 'Qualifier');
        if (qualifier !== undefined && qualifier !== LATEST) {
          throw new CloudApiError(
            CloudApiErrorCode.FUNCTION_VERSION_NOT_FOUND,
            `function ${fn.name} has no version ${qualifier} (only ${LATEST} exists locally)`,
          );
        }
        return functionInfo(fn, updates.isUpdating(key, { poll: true }) ? 'Updating' : 'Active');
      },

      async UpdateFunctionConfiguration(params: Params) {
        checkRequest(SCF_MODELS, 'UpdateFunctionConfigurationRequest', params, 'UpdateFunctionConfiguration');
        const { fn, key } = requireFunction(params);
        const change = readChange(params);
        const ignored = Object.keys(params).filter((name) => !APPLIED_UPDATE_FIELDS.has(name) && given(params, name));
        if (ignored.length) options.log(`UpdateFunctionConfiguration ${fn.name}: not modeled locally, ignored: ${ignored.join(', ')}`);
        if (updates.isUpdating(key)) {
          throw new CloudApiError(
            CloudApiErrorCode.UPDATE_CONFIGURATION_FAILED,
            `function ${fn.name} is Updating; change it again once GetFunction reports it Active`,
          );
        }
        await updates
          .run(key, () => scf.updateConfiguration(fn.name, fn.namespace, change))
          .catch((err: unknown) => {
            throw fromScfError(err);
          });
        return {};
      },
    },
  };
}

/** The change a request asks for; `Environment` replaces the whole list (no `Variables`: no variables). */
function readChange(params: Params): ScfConfigurationChange {
  const change: ScfConfigurationChange = {};
  if (given(params, 'Environment')) change.environment = readVariables(params.Environment as Params);
  const memory = optionalNumber(params, 'MemorySize');
  if (memory !== undefined) change.memoryMb = memory;
  const timeout = optionalNumber(params, 'Timeout');
  if (timeout !== undefined) change.timeoutSeconds = timeout;
  return change;
}

function readVariables(environment: Params): Record<string, string> {
  const variables: Record<string, string> = {};
  if (!given(environment, 'Variables')) return variables;
  const list = environment.Variables;
  if (!Array.isArray(list)) throw invalid('Environment.Variables', 'must be an array of {Key, Value}', CloudApiErrorCode.INVALID_ENVIRONMENT);
  list.forEach((item: unknown, i) => {
    const field = `Environment.Variables[${i}]`;
    const variable = item as { Key?: unknown; Value?: unknown } | null;
    if (typeof variable !== 'object' || variable === null) throw invalid(field, 'must be {Key, Value}', CloudApiErrorCode.INVALID_ENVIRONMENT);
    const { Key: name, Value: value } = variable;
    if (typeof name !== 'string' || name === '')
      throw invalid(`${field}.Key`, `must be a non-empty string, got ${JSON.stringify(name)}`, CloudApiErrorCode.INVALID_ENVIRONMENT);
    if (typeof value !== 'string')
      throw invalid(`${field}.Value`, `of ${name} must be a string, got ${JSON.stringify(value)}`, CloudApiErrorCode.INVALID_ENVIRONMENT);
    if (RESERVED_PREFIX.test(name)) {
      throw invalid(
        `${field}.Key`,
        `${name}: variables starting with TENCENTCLOUD_, SCF_ or QCLOUD_ are the platform's`,
        CloudApiErrorCode.ENVIRONMENT_SYSTEM_PROTECT,
      );
    }
    if (Object.hasOwn(variables, name)) throw invalid(`${field}.Key`, `${name} appears twice`, CloudApiErrorCode.INVALID_ENVIRONMENT);
    variables[name] = value;
  });
  return variables;
}

/** GetFunction's answer for a function (fields of GetFunctionResponse). */
function functionInfo(fn: ScfFunctionView, status: 'Active' | 'Updating'): Record<string, unknown> {
  return {
    FunctionName: fn.name,
    Namespace: fn.namespace,
    FunctionVersion: LATEST,
    Qualifier: LATEST,
    Runtime: fn.runtime ?? null,
    Handler: fn.handler,
    MemorySize: fn.memoryMb,
    Timeout: fn.timeoutSeconds,
    Type: 'Event',
    Status: status,
    StatusDesc: status === 'Active' ? 'Active' : 'Updating configuration',
    Environment: { Variables: Object.entries(fn.environment).map(([Key, Value]) => ({ Key, Value })) },
    ModTime: fn.updatedAt ? sqlTime(fn.updatedAt) : null,
  };
}

/** `YYYY-MM-DD HH:mm:ss`, SCF's time format (in UTC here). */
function sqlTime(iso: string): string {
  return iso.slice(0, 19).replace('T', ' ');
}

/** The runtime's errors as Cloud API errors. */
function fromScfError(err: unknown): CloudApiError {
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  if (code === 'ERR_FUNCTION_NOT_FOUND') return new CloudApiError(CloudApiErrorCode.FUNCTION_NOT_FOUND, message, { cause: err });
  if (code === 'ERR_BAD_SPEC') return new CloudApiError(CloudApiErrorCode.INVALID_PARAMETER_VALUE, message, { cause: err });
  return toCloudApiError(err);
}
