/**
 * A function's declared configuration, checked with SCF's naming rules so that what runs locally
 * could also be deployed.
 */
import { ScfError } from './errors';
import { parseHandler } from './handler';

/** A function as deployed: its code and configuration. */
export interface FunctionSpec {
  name: string;
  /** Default `default`, as on SCF. */
  namespace?: string;
  /** A zip holding the code. */
  zipPath: string;
  /** `<file>.<export>`: `index.main_handler` runs `main_handler` exported by `index.js`. */
  handler: string;
  environment: Record<string, string>;
  /** The instance's heap limit. */
  memoryMb: number;
  /** Longest an invocation may run; fractions are accepted locally (SCF takes whole seconds). */
  timeoutSeconds: number;
  /** Informative, e.g. `Nodejs18.15`; also injected as `SCF_RUNTIME`. */
  runtime?: string;
}

/** A spec with its defaults filled in. */
export type NormalizedSpec = FunctionSpec & { namespace: string };

/** What {@link LocalScf.updateConfiguration} may change. */
export interface ConfigurationChange {
  /** The whole new list, as UpdateFunctionConfiguration takes it: variables left out are removed. */
  environment?: Record<string, string>;
  memoryMb?: number;
  timeoutSeconds?: number;
}

export const DEFAULT_NAMESPACE = 'default';

/** SCF: 2–60 letters, digits, `-` and `_`, starting with a letter and ending with a letter or digit. */
const FUNCTION_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,58}[A-Za-z0-9]$/;
const NAMESPACE = /^[A-Za-z0-9_-]{1,30}$/;
/** SCF: variable names start with a letter and hold letters, digits and `_`. */
const VARIABLE_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

/**
 * Checks a spec and fills in its defaults. The result is a copy.
 * @throws ScfError `ERR_BAD_SPEC` naming the field, or `ERR_BAD_HANDLER` for a malformed handler.
 */
export function normalizeSpec(spec: FunctionSpec): NormalizedSpec {
  const namespace = spec.namespace ?? DEFAULT_NAMESPACE;
  if (typeof spec.name !== 'string' || !FUNCTION_NAME.test(spec.name)) {
    throw bad(`function name "${spec.name}" must be 2-60 letters, digits, - or _, starting with a letter and ending with a letter or digit`);
  }
  if (!NAMESPACE.test(namespace)) throw bad(`namespace "${namespace}" must be 1-30 letters, digits, - or _`);
  if (typeof spec.zipPath !== 'string' || !spec.zipPath) throw bad(`function ${spec.name}: zipPath is required`);
  parseHandler(spec.handler);
  checkConfiguration(spec.name, spec);
  return {
    name: spec.name,
    namespace,
    zipPath: spec.zipPath,
    handler: spec.handler,
    environment: { ...spec.environment },
    memoryMb: spec.memoryMb,
    timeoutSeconds: spec.timeoutSeconds,
    ...(spec.runtime !== undefined ? { runtime: spec.runtime } : {}),
  };
}

/** Applies a configuration change to a spec, checking the new values. */
export function applyChange(spec: NormalizedSpec, change: ConfigurationChange): NormalizedSpec {
  const next: NormalizedSpec = {
    ...spec,
    environment: { ...(change.environment ?? spec.environment) },
    memoryMb: change.memoryMb ?? spec.memoryMb,
    timeoutSeconds: change.timeoutSeconds ?? spec.timeoutSeconds,
  };
  checkConfiguration(spec.name, next);
  return next;
}

/** Whether two specs would run the same way (the zip's path aside: its bytes are compared by hash). */
export function sameConfiguration(a: NormalizedSpec, b: NormalizedSpec): boolean {
  const variables = (spec: NormalizedSpec) => JSON.stringify(Object.entries(spec.environment).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)));
  return (
    a.name === b.name &&
    a.namespace === b.namespace &&
    a.handler === b.handler &&
    a.memoryMb === b.memoryMb &&
    a.timeoutSeconds === b.timeoutSeconds &&
    a.runtime === b.runtime &&
    variables(a) === variables(b)
  );
}

function checkConfiguration(name: string, spec: Pick<FunctionSpec, 'environment' | 'memoryMb' | 'timeoutSeconds'>): void {
  if (!Number.isInteger(spec.memoryMb) || spec.memoryMb <= 0) throw bad(`function ${name}: memoryMb must be a positive whole number, not ${spec.memoryMb}`);
  if (typeof spec.timeoutSeconds !== 'number' || !Number.isFinite(spec.timeoutSeconds) || spec.timeoutSeconds <= 0) {
    throw bad(`function ${name}: timeoutSeconds must be a positive number, not ${spec.timeoutSeconds}`);
  }
  if (spec.environment === null || typeof spec.environment !== 'object') throw bad(`function ${name}: environment must be an object of strings`);
  for (const [key, value] of Object.entries(spec.environment)) {
    if (!VARIABLE_NAME.test(key))
      throw bad(`function ${name}: environment variable name "${key}" must start with a letter and hold only letters, digits and _`);
    if (typeof value !== 'string') throw bad(`function ${name}: environment variable ${key} must be a string, not ${typeof value}`);
  }
}

function bad(message: string): ScfError {
  return new ScfError('ERR_BAD_SPEC', message);
}
