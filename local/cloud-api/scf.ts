/**
 * SCF (scf, 2018-04-16) on a local SCF runtime: GetFunction and UpdateFunctionConfiguration, and
 * CreateFunction, UpdateFunctionCode and DeleteFunction, which a web function (Type `HTTP`,
 * ProtocolType `WS`) is made with, since the Terraform provider cannot make one.
 *
 * CreateFunction takes the code as `Code.ZipFile` (base64) and Node.js runtimes only, and makes
 * the function at once (`Active` when it answers). ProtocolType is fixed at creation:
 * UpdateFunctionConfigurationRequest has no such field, so sending one is `UnknownParameter`, as
 * the SDK's model makes it; `ProtocolParams.WSParams.IdleTimeOut` (1-1800 s, default 15) can be
 * changed, and the function's timeout must stay at least its idle timeout (seed 002).
 *
 * Status: UpdateFunctionConfiguration answers once the change is in place (new invocations see it),
 * so a failure is answered rather than lost. While it runs, and for the next `updatingPolls`
 * GetFunction calls after it answered, GetFunction reports `Updating` and a further update of that
 * function is refused, as the cloud refuses changes to a function that is not Active. A caller that
 * waits for `Active` after an update, as it must in the cloud, works either way; `updatingPolls`
 * makes that wait observable, counted in calls rather than time so that a busy machine sees the same.
 */
import type { ScfBackend, ScfConfigurationChange, ScfFunctionView, ScfNewFunction } from './backends';
import { CloudApiError, CloudApiErrorCode, toCloudApiError } from './errors';
import { type Params, given, invalid, missing, optionalNumber, optionalString, requiredString } from './params';
import type { Product } from './product';
import { SCF_MODELS } from './sdk-models';
import { checkRequest } from './shapes';

export const SCF_VERSION = '2018-04-16';

const DEFAULT_NAMESPACE = 'default';
const LATEST = '$LATEST';
/** Prefixes SCF keeps for its own variables; a function may not set them. */
const RESERVED_PREFIX = /^(TENCENTCLOUD_|SCF_|QCLOUD_)/;

/** The fields of UpdateFunctionConfiguration the local runtime applies; others are accepted and ignored. */
const APPLIED_UPDATE_FIELDS = new Set(['FunctionName', 'Namespace', 'Environment', 'MemorySize', 'Timeout', 'ProtocolParams', 'InitTimeout', 'VpcConfig']);
/** The fields of CreateFunction the local runtime applies; others are accepted and ignored (logged). */
const APPLIED_CREATE_FIELDS = new Set([
  'FunctionName',
  'Namespace',
  'Code',
  'Handler',
  'MemorySize',
  'Timeout',
  'Environment',
  'Runtime',
  'Type',
  'ProtocolType',
  'ProtocolParams',
  'InitTimeout',
  'CodeSource',
  'VpcConfig',
]);
/** The fields of UpdateFunctionCode the local runtime applies. */
const APPLIED_CODE_FIELDS = new Set(['FunctionName', 'Namespace', 'ZipFile', 'Code', 'CodeSource', 'Handler']);
/** CreateFunction's defaults, as its documentation gives them. */
const DEFAULT_MEMORY_MB = 128;
const DEFAULT_TIMEOUT_SECONDS = 3;
const DEFAULT_HANDLER = 'index.main_handler';
/** `WSParams.IdleTimeOut`: "默认15s。可配置范围1~1800s". */
const WS_IDLE = { default: 15, min: 1, max: 1800 } as const;
/** A zip's base64 (the cloud takes zips up to 50 MB; requests here are capped at 10 MB). */
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

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

  const ignoredFields = (action: string, name: string, params: Params, applied: ReadonlySet<string>) => {
    const ignored = Object.keys(params).filter((field) => !applied.has(field) && given(params, field));
    if (ignored.length) options.log(`${action} ${name}: not modeled locally, ignored: ${ignored.join(', ')}`);
  };
  const refuseWhileUpdating = (key: string, name: string, code: string) => {
    if (updates.isUpdating(key)) throw new CloudApiError(code, `function ${name} is Updating; change it again once GetFunction reports it Active`);
  };
  const managed = <K extends 'createFunction' | 'updateCode' | 'deleteFunction'>(method: K): NonNullable<ScfBackend[K]> => {
    const fn = scf[method];
    if (!fn)
      throw new CloudApiError(CloudApiErrorCode.UNSUPPORTED_OPERATION, `this local SCF cannot ${method.replace(/[A-Z]/g, (c) => ` ${c.toLowerCase()}`)}`);
    return fn.bind(scf) as NonNullable<ScfBackend[K]>;
  };

  return {
    name: 'scf',
    version: SCF_VERSION,
    actions: {
      async CreateFunction(params: Params) {
        checkRequest(SCF_MODELS, 'CreateFunctionRequest', params, 'CreateFunction');
        const create = managed('createFunction');
        const spec = readNewFunction(params);
        ignoredFields('CreateFunction', spec.name, params, APPLIED_CREATE_FIELDS);
        const zip = readZip(params.Code as Params, 'Code');
        if (scf.getFunction(spec.name, spec.namespace)) {
          throw new CloudApiError(CloudApiErrorCode.FUNCTION_EXISTS, `function ${spec.name} already exists in namespace ${spec.namespace}`);
        }
        await create(spec, zip).catch((err: unknown) => {
          throw fromScfError(err, CloudApiErrorCode.CREATE_FUNCTION_FAILED);
        });
        options.log(
          `CreateFunction ${spec.name}: ${spec.type === 'HTTP' ? `web function (${spec.protocolType}, idle timeout ${spec.wsIdleTimeoutSeconds} s)` : 'event function'}`,
        );
        return {};
      },

      async UpdateFunctionCode(params: Params) {
        checkRequest(SCF_MODELS, 'UpdateFunctionCodeRequest', params, 'UpdateFunctionCode');
        const update = managed('updateCode');
        const { fn, key } = requireFunction(params);
        ignoredFields('UpdateFunctionCode', fn.name, params, APPLIED_CODE_FIELDS);
        const handler = optionalString(params, 'Handler');
        if (handler !== undefined && handler !== fn.handler && fn.type !== 'HTTP') {
          throw new CloudApiError(
            CloudApiErrorCode.UNSUPPORTED_OPERATION,
            `UpdateFunctionCode ${fn.name}: changing the handler is not modeled locally (it is ${fn.handler})`,
          );
        }
        const zip = given(params, 'ZipFile') ? readZip(params, '') : given(params, 'Code') ? readZip(params.Code as Params, 'Code') : undefined;
        if (!zip) throw missing('ZipFile');
        refuseWhileUpdating(key, fn.name, CloudApiErrorCode.UPDATE_CODE_FAILED);
        await updates
          .run(key, () => update(fn.name, fn.namespace, zip))
          .catch((err: unknown) => {
            throw fromScfError(err, CloudApiErrorCode.UPDATE_CODE_FAILED);
          });
        return {};
      },

      async DeleteFunction(params: Params) {
        checkRequest(SCF_MODELS, 'DeleteFunctionRequest', params, 'DeleteFunction');
        const remove = managed('deleteFunction');
        const { fn, key } = requireFunction(params);
        const qualifier = optionalString(params, 'Qualifier');
        if (qualifier !== undefined && qualifier !== LATEST) {
          throw new CloudApiError(
            CloudApiErrorCode.FUNCTION_VERSION_NOT_FOUND,
            `function ${fn.name} has no version ${qualifier} (only ${LATEST} exists locally)`,
          );
        }
        refuseWhileUpdating(key, fn.name, CloudApiErrorCode.DELETE_FUNCTION_FAILED);
        await remove(fn.name, fn.namespace).catch((err: unknown) => {
          throw fromScfError(err, CloudApiErrorCode.DELETE_FUNCTION_FAILED);
        });
        return {};
      },

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
        const change = readChange(params, fn);
        ignoredFields('UpdateFunctionConfiguration', fn.name, params, APPLIED_UPDATE_FIELDS);
        refuseWhileUpdating(key, fn.name, CloudApiErrorCode.UPDATE_CONFIGURATION_FAILED);
        await updates
          .run(key, () => scf.updateConfiguration(fn.name, fn.namespace, change))
          .catch((err: unknown) => {
            throw fromScfError(err, CloudApiErrorCode.UPDATE_CONFIGURATION_FAILED);
          });
        return {};
      },
    },
  };
}

/** The change a request asks for; `Environment` replaces the whole list (no `Variables`: no variables). */
function readChange(params: Params, fn: ScfFunctionView): ScfConfigurationChange {
  const change: ScfConfigurationChange = {};
  if (given(params, 'Environment')) change.environment = readVariables(params.Environment as Params);
  const memory = optionalNumber(params, 'MemorySize');
  if (memory !== undefined) change.memoryMb = memory;
  const timeout = optionalNumber(params, 'Timeout');
  if (timeout !== undefined) change.timeoutSeconds = timeout;
  const init = optionalNumber(params, 'InitTimeout');
  if (init !== undefined) change.initTimeoutSeconds = positive(init, 'InitTimeout');
  if (given(params, 'VpcConfig')) change.vpc = readVpc(params.VpcConfig as Params) ?? null;
  if (given(params, 'ProtocolParams')) {
    if (fn.protocolType !== 'WS') {
      throw invalid(
        'ProtocolParams',
        `is for web functions with a protocol type; ${fn.name} has none, and a protocol type is set only when a function is created`,
      );
    }
    const idle = readIdleTimeout(params.ProtocolParams as Params);
    if (idle !== undefined) change.wsIdleTimeoutSeconds = idle;
  }
  const idle = change.wsIdleTimeoutSeconds ?? fn.wsIdleTimeoutSeconds;
  const newTimeout = change.timeoutSeconds ?? fn.timeoutSeconds;
  if (fn.protocolType === 'WS' && idle !== undefined) checkTimeoutCoversIdle(newTimeout, idle);
  return change;
}

/** CreateFunction's function, with the documented defaults. */
function readNewFunction(params: Params): ScfNewFunction {
  const name = requiredString(params, 'FunctionName');
  const namespace = optionalString(params, 'Namespace') ?? DEFAULT_NAMESPACE;
  const typeGiven = optionalString(params, 'Type') ?? 'Event';
  const type = typeGiven.toUpperCase();
  if (type !== 'EVENT' && type !== 'HTTP') throw invalid('Type', `must be Event or HTTP, got ${JSON.stringify(typeGiven)}`);
  const runtime = optionalString(params, 'Runtime');
  if (runtime === undefined || !/^Nodejs\d/.test(runtime)) {
    throw new CloudApiError(
      CloudApiErrorCode.UNSUPPORTED_OPERATION,
      `\`Runtime\` ${runtime === undefined ? 'not given (the cloud then makes it Python2.7)' : JSON.stringify(runtime)}: the local SCF runs Node.js runtimes only, e.g. Nodejs18.15`,
    );
  }
  const protocolType = optionalString(params, 'ProtocolType');
  if (protocolType !== undefined && type !== 'HTTP') throw invalid('ProtocolType', `is for HTTP (web) functions; this one's Type is ${typeGiven}`);
  if (protocolType !== undefined && protocolType !== 'WS') throw invalid('ProtocolType', `must be WS (WebSockets), got ${JSON.stringify(protocolType)}`);
  if (type === 'HTTP' && protocolType === undefined) {
    throw new CloudApiError(
      CloudApiErrorCode.UNSUPPORTED_OPERATION,
      `function ${name}: the local SCF runs HTTP functions with ProtocolType WS (WebSocket) only; plain HTTP web functions are not served locally`,
    );
  }
  if (given(params, 'ProtocolParams') && protocolType === undefined) throw invalid('ProtocolParams', 'needs ProtocolType WS');
  const timeoutSeconds = positive(optionalNumber(params, 'Timeout') ?? DEFAULT_TIMEOUT_SECONDS, 'Timeout');
  const spec: ScfNewFunction = {
    name,
    namespace,
    handler: optionalString(params, 'Handler') ?? (type === 'EVENT' ? DEFAULT_HANDLER : ''),
    environment: given(params, 'Environment') ? readVariables(params.Environment as Params) : {},
    memoryMb: positive(optionalNumber(params, 'MemorySize') ?? DEFAULT_MEMORY_MB, 'MemorySize'),
    timeoutSeconds,
    runtime,
    type,
  };
  const init = optionalNumber(params, 'InitTimeout');
  if (init !== undefined) spec.initTimeoutSeconds = positive(init, 'InitTimeout');
  const vpc = given(params, 'VpcConfig') ? readVpc(params.VpcConfig as Params) : undefined;
  if (vpc) spec.vpc = vpc;
  if (protocolType === 'WS') {
    spec.protocolType = 'WS';
    spec.wsIdleTimeoutSeconds = (given(params, 'ProtocolParams') ? readIdleTimeout(params.ProtocolParams as Params) : undefined) ?? WS_IDLE.default;
    checkTimeoutCoversIdle(timeoutSeconds, spec.wsIdleTimeoutSeconds);
  }
  return spec;
}

/** `VpcConfig`: both ids, or neither (no VPC). */
function readVpc(config: Params): { vpcId: string; subnetId: string } | undefined {
  const vpcId = optionalString(config, 'VpcId');
  const subnetId = optionalString(config, 'SubnetId');
  if (vpcId === undefined && subnetId === undefined) return undefined;
  if (vpcId === undefined) throw missing('VpcConfig.VpcId');
  if (subnetId === undefined) throw missing('VpcConfig.SubnetId');
  return { vpcId, subnetId };
}

/** `WSParams.IdleTimeOut`, checked, or undefined when not given. */
function readIdleTimeout(protocolParams: Params): number | undefined {
  const ws = protocolParams.WSParams as Params | undefined | null;
  if (ws === undefined || ws === null || !given(ws, 'IdleTimeOut')) return undefined;
  const idle = ws.IdleTimeOut as number;
  if (!Number.isInteger(idle) || idle < WS_IDLE.min || idle > WS_IDLE.max) {
    throw invalid('ProtocolParams.WSParams.IdleTimeOut', `must be a whole number of seconds from ${WS_IDLE.min} to ${WS_IDLE.max}, got ${idle}`);
  }
  return idle;
}

/** Seed 002: "函数配置的执行超时时间需要大于等于空闲超时时间". */
function checkTimeoutCoversIdle(timeoutSeconds: number, idleSeconds: number): void {
  if (timeoutSeconds < idleSeconds) {
    throw invalid('Timeout', `(${timeoutSeconds} s) must be at least the WebSocket idle timeout (ProtocolParams.WSParams.IdleTimeOut, ${idleSeconds} s)`);
  }
}

function positive(value: number, name: string): number {
  if (!(value > 0)) throw invalid(name, `must be above 0, got ${value}`);
  return value;
}

/** The zip of `Code` (or of UpdateFunctionCode's own fields): `ZipFile`, base64; other sources are not served locally. */
function readZip(code: Params, where: string): Uint8Array {
  const field = (name: string) => (where ? `${where}.${name}` : name);
  const other = ['CosBucketName', 'CosObjectName', 'DemoId', 'TempCosObjectName', 'ImageConfig', 'GitUrl'].filter((name) => given(code, name));
  if (other.length) {
    throw new CloudApiError(
      CloudApiErrorCode.UNSUPPORTED_OPERATION,
      `${other.map((name) => `\`${field(name)}\``).join(', ')}: the local SCF takes code as \`${field('ZipFile')}\` (base64 of the zip) only`,
    );
  }
  if (!given(code, 'ZipFile')) throw missing(field('ZipFile'));
  const text = code.ZipFile as string;
  if (text === '' || !BASE64.test(text)) throw invalid(field('ZipFile'), 'must be the zip file in base64');
  return Buffer.from(text, 'base64');
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
    Type: fn.type === 'HTTP' ? 'HTTP' : 'Event',
    ProtocolType: fn.protocolType ?? null,
    ProtocolParams: fn.protocolType === 'WS' ? { WSParams: { IdleTimeOut: fn.wsIdleTimeoutSeconds ?? WS_IDLE.default } } : null,
    InitTimeout: fn.initTimeoutSeconds ?? null,
    VpcConfig: fn.vpc ? { VpcId: fn.vpc.vpcId, SubnetId: fn.vpc.subnetId } : null,
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

/**
 * The runtime's errors as Cloud API errors; code that does not load or start (`ERR_BAD_ZIP`,
 * `ERR_BAD_HANDLER`, `ERR_INIT_FAILED`) is `failed`, the action's FailedOperation code.
 */
function fromScfError(err: unknown, failed?: string): CloudApiError {
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  if (code === 'ERR_FUNCTION_NOT_FOUND') return new CloudApiError(CloudApiErrorCode.FUNCTION_NOT_FOUND, message, { cause: err });
  if (code === 'ERR_FUNCTION_EXISTS') return new CloudApiError(CloudApiErrorCode.FUNCTION_EXISTS, message, { cause: err });
  if (code === 'ERR_BAD_SPEC') return new CloudApiError(CloudApiErrorCode.INVALID_PARAMETER_VALUE, message, { cause: err });
  if (failed && (code === 'ERR_BAD_ZIP' || code === 'ERR_BAD_HANDLER' || code === 'ERR_INIT_FAILED')) return new CloudApiError(failed, message, { cause: err });
  return toCloudApiError(err);
}
