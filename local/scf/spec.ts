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
  /**
   * `<file>.<export>`: `index.main_handler` runs `main_handler` exported by `index.js`. A web
   * function (`type: 'HTTP'`) has none to speak of: it starts from `scf_bootstrap`, and this is
   * kept as given (informative).
   */
  handler: string;
  environment: Record<string, string>;
  /** The instance's heap limit. */
  memoryMb: number;
  /** Longest an invocation may run; fractions are accepted locally (SCF takes whole seconds). */
  timeoutSeconds: number;
  /** Informative, e.g. `Nodejs18.15`; also injected as `SCF_RUNTIME`. */
  runtime?: string;
  /**
   * `EVENT` (the default): invoked with events, one at a time per instance. `HTTP`: a web function,
   * whose own server the platform starts; locally only with `protocolType: 'WS'`.
   */
  type?: FunctionType;
  /**
   * `WS`: a WebSocket web function. Each connection gets an instance of its own (a process running
   * `node index.js` with `PORT`), and the connection's end is the invocation's end. Fixed at
   * creation, as on SCF.
   */
  protocolType?: 'WS';
  /** `ProtocolParams.WSParams.IdleTimeOut`: no frame either way for this long ends a connection (455). Default 15. */
  wsIdleTimeoutSeconds?: number;
  /** `InitTimeout`: how long a new instance may take to start (a web function's: to accept connections on its port). Default 65. */
  initTimeoutSeconds?: number;
  /** `VpcConfig`: kept and shown, not enforced (locally every instance reaches every local service). */
  vpc?: VpcRef;
}

/** A function's VPC and subnet, as `VpcConfig` names them. */
export interface VpcRef {
  vpcId: string;
  subnetId: string;
}

/** `Type` of a function, as CreateFunction takes it. */
export type FunctionType = 'EVENT' | 'HTTP';

/** A spec with its defaults filled in. */
export type NormalizedSpec = FunctionSpec & { namespace: string };

/** What {@link LocalScf.updateConfiguration} may change. */
export interface ConfigurationChange {
  /** The whole new list, as UpdateFunctionConfiguration takes it: variables left out are removed. */
  environment?: Record<string, string>;
  memoryMb?: number;
  timeoutSeconds?: number;
  /** A WebSocket web function's idle timeout (`ProtocolParams.WSParams.IdleTimeOut`). */
  wsIdleTimeoutSeconds?: number;
  initTimeoutSeconds?: number;
  /** The VPC; `null` takes the function out of it. */
  vpc?: VpcRef | null;
}

export const DEFAULT_NAMESPACE = 'default';
/** SCF's default idle timeout of a WebSocket web function (the SDK's `WSParams.IdleTimeOut`: "默认15s"). */
export const DEFAULT_WS_IDLE_TIMEOUT_SECONDS = 15;
/** SCF's default `InitTimeout` ("默认 65s"). */
export const DEFAULT_INIT_TIMEOUT_SECONDS = 65;
/**
 * `WSParams.IdleTimeOut`'s range, as the SDK documents it ("可配置范围1~1800s"). The Cloud API
 * keeps to it; the runtime itself takes anything above 0 up to the maximum, for tests.
 */
export const WS_IDLE_TIMEOUT_RANGE = { min: 1, max: 1800 } as const;

/** Whether a spec is a WebSocket web function. */
export function isWebFunction(spec: Pick<FunctionSpec, 'type' | 'protocolType'>): boolean {
  return spec.type === 'HTTP' && spec.protocolType === 'WS';
}

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
  const type = spec.type ?? 'EVENT';
  if (type !== 'EVENT' && type !== 'HTTP') throw bad(`function ${spec.name}: type must be EVENT or HTTP, not ${JSON.stringify(spec.type)}`);
  if (type === 'EVENT') {
    parseHandler(spec.handler);
    if (spec.protocolType !== undefined) throw bad(`function ${spec.name}: protocolType is for HTTP (web) functions only`);
    if (spec.wsIdleTimeoutSeconds !== undefined) throw bad(`function ${spec.name}: wsIdleTimeoutSeconds is for WebSocket web functions only`);
  } else if (spec.protocolType !== 'WS') {
    throw bad(`function ${spec.name}: the local SCF runs web functions with protocolType WS only (WebSocket), not ${JSON.stringify(spec.protocolType)}`);
  }
  const normalized: NormalizedSpec = {
    name: spec.name,
    namespace,
    zipPath: spec.zipPath,
    handler: typeof spec.handler === 'string' ? spec.handler : '',
    environment: { ...spec.environment },
    memoryMb: spec.memoryMb,
    timeoutSeconds: spec.timeoutSeconds,
    ...(spec.runtime !== undefined ? { runtime: spec.runtime } : {}),
    ...(type === 'HTTP' ? { type, protocolType: 'WS' as const, wsIdleTimeoutSeconds: spec.wsIdleTimeoutSeconds ?? DEFAULT_WS_IDLE_TIMEOUT_SECONDS } : {}),
    ...(spec.initTimeoutSeconds !== undefined ? { initTimeoutSeconds: spec.initTimeoutSeconds } : {}),
    ...(spec.vpc ? { vpc: { vpcId: spec.vpc.vpcId, subnetId: spec.vpc.subnetId } } : {}),
  };
  checkConfiguration(spec.name, normalized);
  return normalized;
}

/** Applies a configuration change to a spec, checking the new values. */
export function applyChange(spec: NormalizedSpec, change: ConfigurationChange): NormalizedSpec {
  const next: NormalizedSpec = {
    ...spec,
    environment: { ...(change.environment ?? spec.environment) },
    memoryMb: change.memoryMb ?? spec.memoryMb,
    timeoutSeconds: change.timeoutSeconds ?? spec.timeoutSeconds,
  };
  if (change.wsIdleTimeoutSeconds !== undefined) {
    if (!isWebFunction(spec)) throw bad(`function ${spec.name}: an idle timeout is for WebSocket web functions only (its protocol type is fixed at creation)`);
    next.wsIdleTimeoutSeconds = change.wsIdleTimeoutSeconds;
  }
  if (change.initTimeoutSeconds !== undefined) next.initTimeoutSeconds = change.initTimeoutSeconds;
  if (change.vpc === null) delete next.vpc;
  else if (change.vpc) next.vpc = { vpcId: change.vpc.vpcId, subnetId: change.vpc.subnetId };
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
    a.type === b.type &&
    a.protocolType === b.protocolType &&
    a.wsIdleTimeoutSeconds === b.wsIdleTimeoutSeconds &&
    a.initTimeoutSeconds === b.initTimeoutSeconds &&
    a.vpc?.vpcId === b.vpc?.vpcId &&
    a.vpc?.subnetId === b.vpc?.subnetId &&
    variables(a) === variables(b)
  );
}

function checkConfiguration(
  name: string,
  spec: Pick<FunctionSpec, 'environment' | 'memoryMb' | 'timeoutSeconds' | 'wsIdleTimeoutSeconds' | 'initTimeoutSeconds'>,
): void {
  if (!Number.isInteger(spec.memoryMb) || spec.memoryMb <= 0) throw bad(`function ${name}: memoryMb must be a positive whole number, not ${spec.memoryMb}`);
  if (typeof spec.timeoutSeconds !== 'number' || !Number.isFinite(spec.timeoutSeconds) || spec.timeoutSeconds <= 0) {
    throw bad(`function ${name}: timeoutSeconds must be a positive number, not ${spec.timeoutSeconds}`);
  }
  if (spec.initTimeoutSeconds !== undefined && !(typeof spec.initTimeoutSeconds === 'number' && spec.initTimeoutSeconds > 0)) {
    throw bad(`function ${name}: initTimeoutSeconds must be a positive number, not ${spec.initTimeoutSeconds}`);
  }
  const idle = spec.wsIdleTimeoutSeconds;
  if (idle !== undefined) {
    if (typeof idle !== 'number' || !Number.isFinite(idle) || idle <= 0 || idle > WS_IDLE_TIMEOUT_RANGE.max) {
      throw bad(`function ${name}: the WebSocket idle timeout must be ${WS_IDLE_TIMEOUT_RANGE.min}-${WS_IDLE_TIMEOUT_RANGE.max} seconds, not ${idle}`);
    }
    // seed 002: "函数配置的执行超时时间需要大于等于空闲超时时间"
    if (spec.timeoutSeconds < idle) {
      throw bad(
        `function ${name}: its timeout (${spec.timeoutSeconds} s, the longest a connection may last) must be at least its WebSocket idle timeout (${idle} s)`,
      );
    }
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
