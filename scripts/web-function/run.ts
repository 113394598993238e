/**
 * The web function's life through the Cloud API: create it or adopt one of its name, bring its code
 * and configuration to what the stack declares, delete it, and release the API in front of it.
 * Each step happens only when something differs, so a second run changes nothing.
 *
 * SCF facts (tencentcloud-sdk-nodejs scf_models.d.ts, and terraform-provider-tencentcloud v1.82.97
 * tencentcloud/services/scf/):
 * - `CreateFunction` takes `Type: "HTTP"` (a web function), `ProtocolType: "WS"` ("HTTP函数支持的访问
 *   协议。当前支持WebSockets协议，值为WS") and `ProtocolParams.WSParams.IdleTimeOut` ("1~1800s",
 *   default 15), `VpcConfig {VpcId, SubnetId}`, `Code.ZipFile` (base64, up to 50 MB) and the usual
 *   memory, timeout, runtime and `Environment`. No handler is sent: a web function starts from its
 *   `scf_bootstrap` (whether CreateFunction wants one for `Type: "HTTP"` is unconfirmed).
 * - `UpdateFunctionConfiguration` takes `ProtocolParams` (the idle timeout) but no protocol type and
 *   no runtime ("创建时指定，目前不支持修改"): those need a new function. Its `Environment` replaces the
 *   whole list. `UpdateFunctionCode` takes `ZipFile` (base64, up to 20 MB).
 * - The function is `Creating` or `Updating` until `Active` (`CreateFailed`, `UpdateFailed` and the
 *   other `*Failed` end it): the provider waits the same way before each next change.
 * - Not found is `ResourceNotFound.Function`, `ResourceNotFound.FunctionName`,
 *   `InvalidParameterValue.FunctionName` or `ResourceNotFound.Namespace` (the provider's
 *   `SCF_FUNCTIONS_NOT_FOUND_SET`); a name already taken is a `ResourceInUse*` code. Delete is
 *   done when GetFunction no longer finds it.
 */
import { readFileSync } from 'node:fs';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CodedError, describeError } from '../../lib/errors';
import { readWebDeployState, writeWebDeployState, type WebDeployState } from '../../stacks/post-deploy-contract';
import { apiFingerprint } from '../post-deploy/bindings';
import { outputsPath } from '../post-deploy/run';
import type { WebFunctionApi } from './clients';
import type { FunctionIdentity, FunctionSpec, ReleaseInput } from './inputs';

export interface WebFunctionRunOptions {
  log?: (line: string) => void;
  /** Where the deploy state goes (CHAT_DEPLOY_STATE_DIR). @default process.env */
  env?: NodeJS.ProcessEnv;
  /** The folder `codePath` is relative to. @default the working directory */
  cwd?: string;
  /** How long to wait for the function to be Active (or gone). @default 300 s: a VPC function takes a while. */
  waitTimeoutMs?: number;
  pollMs?: number;
}

/** What `create` or `update` did. */
export interface EnsureReport {
  created: boolean;
  adopted: boolean;
  codeUpdated: boolean;
  /** The configuration fields that were changed (`MemorySize`, `Environment`, `ProtocolParams`, ...). */
  configured: string[];
  stateFile: string;
}

const NOT_FOUND = new Set(['ResourceNotFound.Function', 'ResourceNotFound.FunctionName', 'InvalidParameterValue.FunctionName', 'ResourceNotFound.Namespace']);
const isNotFound = (err: unknown) => NOT_FOUND.has(String((err as { code?: string }).code ?? ''));
const isInUse = (err: unknown) => String((err as { code?: string }).code ?? '').startsWith('ResourceInUse');

/** The type and protocol a web function has (`GetFunction` → `Type`, `ProtocolType`). */
export const WEB_FUNCTION_TYPE = 'HTTP';
export const WEB_PROTOCOL_TYPE = 'WS';

/** Thrown when the function cannot be brought to the stack's declaration, saying why and what to do. */
export class WebFunctionError extends CodedError<'ERR_WEB_FUNCTION'> {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_WEB_FUNCTION', message, options);
  }
}

type Live = Awaited<ReturnType<WebFunctionApi['getFunction']>>;

async function find(api: WebFunctionApi, fn: FunctionIdentity): Promise<Live | undefined> {
  try {
    return await api.getFunction({ FunctionName: fn.name, Namespace: fn.namespace });
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** Polls until the function is Active, through Creating and Updating; a *Failed status is an error naming it. */
async function waitActive(api: WebFunctionApi, fn: FunctionIdentity, options: WebFunctionRunOptions, log: (line: string) => void): Promise<Live> {
  const deadline = Date.now() + (options.waitTimeoutMs ?? 300_000);
  for (let polls = 0; ; polls++) {
    const live = await find(api, fn);
    if (!live) throw new WebFunctionError(`${fn.name} disappeared while waiting for it to be Active`);
    if (live.Status === 'Active') return live;
    const reasons = (live.StatusReasons ?? []).map((r) => `${r.ErrorCode}: ${r.ErrorMessage}`).join('; ');
    if (/Failed$/.test(String(live.Status))) {
      throw new WebFunctionError(`${fn.name} is ${live.Status}${live.StatusDesc ? `: ${live.StatusDesc}` : ''}${reasons ? ` (${reasons})` : ''}`);
    }
    if (polls === 0) log(`      ${fn.name} is ${live.Status}; waiting for Active`);
    if (Date.now() > deadline)
      throw new WebFunctionError(`${fn.name} still ${live.Status} after waiting ${Math.round((options.waitTimeoutMs ?? 300_000) / 1000)} s`);
    await new Promise((r) => setTimeout(r, options.pollMs ?? 2000));
  }
}

const variablesOf = (vars: Record<string, string>) =>
  Object.keys(vars)
    .sort()
    .map((Key) => ({ Key, Value: vars[Key]! }));

/** Names of the variables that differ, never their values (some are secrets). */
function variableChanges(live: Array<{ Key?: string; Value?: string }>, wanted: Record<string, string>): string[] {
  const current = new Map(live.map((v) => [String(v.Key), String(v.Value ?? '')]));
  const changes: string[] = [];
  for (const [key, value] of Object.entries(wanted)) {
    if (!current.has(key)) changes.push(`+${key}`);
    else if (current.get(key) !== value) changes.push(`~${key}`);
  }
  for (const key of current.keys()) if (!(key in wanted)) changes.push(`-${key}`);
  return changes.sort();
}

/** The configuration fields that differ from the spec, each with a line saying how. */
function configurationDiff(live: Live, spec: FunctionSpec): { request: Record<string, unknown>; lines: string[] } {
  const request: Record<string, unknown> = {};
  const lines: string[] = [];
  if (live.MemorySize !== spec.memoryMb) {
    request.MemorySize = spec.memoryMb;
    lines.push(`memory ${live.MemorySize ?? '(none)'} -> ${spec.memoryMb} MB`);
  }
  if (live.Timeout !== spec.timeoutSeconds) {
    request.Timeout = spec.timeoutSeconds;
    lines.push(`timeout ${live.Timeout ?? '(none)'} -> ${spec.timeoutSeconds} s`);
  }
  const idle = live.ProtocolParams?.WSParams?.IdleTimeOut;
  if (idle !== spec.idleTimeoutSeconds) {
    request.ProtocolParams = { WSParams: { IdleTimeOut: spec.idleTimeoutSeconds } };
    lines.push(`idle timeout ${idle ?? '(none)'} -> ${spec.idleTimeoutSeconds} s (ProtocolParams.WSParams.IdleTimeOut)`);
  }
  if (live.VpcConfig?.VpcId !== spec.vpcId || live.VpcConfig?.SubnetId !== spec.subnetId) {
    request.VpcConfig = { VpcId: spec.vpcId, SubnetId: spec.subnetId };
    lines.push(`VPC ${live.VpcConfig?.VpcId || '(none)'}/${live.VpcConfig?.SubnetId || '(none)'} -> ${spec.vpcId}/${spec.subnetId}`);
  }
  const changes = variableChanges(live.Environment?.Variables ?? [], spec.variables);
  if (changes.length > 0) {
    request.Environment = { Variables: variablesOf(spec.variables) };
    lines.push(`environment ${changes.join(' ')}`);
  }
  return { request, lines };
}

function readCode(spec: FunctionSpec, options: WebFunctionRunOptions): string {
  const file = path.resolve(options.cwd ?? process.cwd(), spec.codePath);
  try {
    return readFileSync(file).toString('base64');
  } catch (err) {
    throw new WebFunctionError(`cannot read the web bundle ${file}: ${(err as Error).message}`, { cause: err });
  }
}

function saveFunction(spec: FunctionSpec, env: NodeJS.ProcessEnv): string {
  const previous = readWebDeployState(spec.stack, env);
  const now = new Date().toISOString();
  const state: WebDeployState = {
    ...(previous ?? { version: 1, mode: 'web', stack: spec.stack, region: spec.region, updatedAt: now }),
    region: spec.region,
    function: { name: spec.name, namespace: spec.namespace, codeHash: spec.codeHash, at: now },
    updatedAt: now,
  };
  return writeWebDeployState(state, env);
}

/**
 * `create` and `update`: the function exists, is a WebSocket web function, and runs the declared
 * code with the declared configuration. One that exists already is adopted, unless it is another
 * kind of function, which cannot be turned into this one.
 */
export async function ensureFunction(spec: FunctionSpec, api: WebFunctionApi, options: WebFunctionRunOptions = {}): Promise<EnsureReport> {
  const log = options.log ?? ((line: string) => console.log(line));
  const env = options.env ?? process.env;
  const state = readWebDeployState(spec.stack, env);
  let created = false;
  let adopted = false;
  let codeUpdated = false;
  const configured: string[] = [];

  let live = await find(api, spec);
  if (!live) {
    log(`[1/3] ${spec.name}: creating a web function (HTTP, WebSocket, idle timeout ${spec.idleTimeoutSeconds} s) in ${spec.vpcId}/${spec.subnetId}`);
    try {
      await api.createFunction({
        FunctionName: spec.name,
        Namespace: spec.namespace,
        Type: WEB_FUNCTION_TYPE,
        ProtocolType: WEB_PROTOCOL_TYPE,
        ProtocolParams: { WSParams: { IdleTimeOut: spec.idleTimeoutSeconds } },
        Code: { ZipFile: readCode(spec, options) },
        Runtime: spec.runtime,
        MemorySize: spec.memoryMb,
        Timeout: spec.timeoutSeconds,
        Environment: { Variables: variablesOf(spec.variables) },
        VpcConfig: { VpcId: spec.vpcId, SubnetId: spec.subnetId },
        Description: `WebSocket web function of ${spec.stack}`,
      });
      created = true;
    } catch (err) {
      // Created meanwhile (a retried request, or another deploy): adopt it below.
      if (!isInUse(err)) throw err;
      log(`      ${spec.name} exists already (${(err as { code?: string }).code}); adopting it`);
    }
    live = await waitActive(api, spec, options, log);
    if (created) {
      log(`      ${spec.name} is Active`);
      return { created, adopted, codeUpdated, configured, stateFile: saveFunction(spec, env) };
    }
  }

  if (live.Type !== WEB_FUNCTION_TYPE || live.ProtocolType !== WEB_PROTOCOL_TYPE) {
    throw new WebFunctionError(
      `${spec.name} exists as a ${live.Type || 'Event'} function${live.ProtocolType ? ` with protocol ${live.ProtocolType}` : ' without WebSocket'}; ` +
        `a function's type and protocol cannot change after it is created: delete it (or give the stack another name) and deploy again`,
    );
  }
  if (live.Runtime && live.Runtime !== spec.runtime) {
    throw new WebFunctionError(
      `${spec.name} runs ${live.Runtime}, not ${spec.runtime}; the runtime cannot change after a function is created: delete it and deploy again`,
    );
  }
  if (live.Status !== 'Active') live = await waitActive(api, spec, options, log);
  const recorded = state?.function?.name === spec.name && state.function.namespace === spec.namespace ? state.function : undefined;
  adopted = !recorded;
  log(`[1/3] ${spec.name}: ${adopted ? 'exists; adopting it' : 'exists'}`);

  if (recorded?.codeHash === spec.codeHash) {
    log(`[2/3] ${spec.name}: code already ${spec.codeHash}`);
  } else {
    log(`[2/3] ${spec.name}: UpdateFunctionCode (${recorded ? `${recorded.codeHash} -> ${spec.codeHash}` : `to ${spec.codeHash}; none recorded`})`);
    await api.updateFunctionCode({ FunctionName: spec.name, Namespace: spec.namespace, ZipFile: readCode(spec, options) });
    codeUpdated = true;
    live = await waitActive(api, spec, options, log);
  }

  const { request, lines } = configurationDiff(live, spec);
  if (lines.length === 0) {
    log(`[3/3] ${spec.name}: configuration already matches`);
  } else {
    log(`[3/3] ${spec.name}: UpdateFunctionConfiguration (${lines.join('; ')})`);
    await api.updateFunctionConfiguration({ FunctionName: spec.name, Namespace: spec.namespace, ...request });
    configured.push(...Object.keys(request));
    await waitActive(api, spec, options, log);
  }
  const stateFile = saveFunction(spec, env);
  return { created, adopted, codeUpdated, configured, stateFile };
}

/** `delete`: the function is gone (already gone is fine), and so is its record. */
export async function deleteFunction(fn: FunctionIdentity, api: WebFunctionApi, options: WebFunctionRunOptions = {}): Promise<{ deleted: boolean }> {
  const log = options.log ?? ((line: string) => console.log(line));
  const env = options.env ?? process.env;
  const live = await find(api, fn);
  let deleted = false;
  if (!live) {
    log(`${fn.name}: already gone`);
  } else {
    // A function being created or updated cannot be deleted yet.
    if (live.Status === 'Creating' || live.Status === 'Updating') await waitActive(api, fn, options, log);
    log(`${fn.name}: DeleteFunction`);
    try {
      await api.deleteFunction({ FunctionName: fn.name, Namespace: fn.namespace });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    const deadline = Date.now() + (options.waitTimeoutMs ?? 300_000);
    for (;;) {
      const still = await find(api, fn);
      if (!still) break;
      if (still.Status === 'DeleteFailed') throw new WebFunctionError(`${fn.name} is DeleteFailed${still.StatusDesc ? `: ${still.StatusDesc}` : ''}`);
      if (Date.now() > deadline) throw new WebFunctionError(`${fn.name} still ${still.Status} after waiting for it to be deleted`);
      await new Promise((r) => setTimeout(r, options.pollMs ?? 2000));
    }
    deleted = true;
    log(`${fn.name}: deleted`);
  }
  const state = readWebDeployState(fn.stack, env);
  if (state?.function) {
    const { function: _gone, ...rest } = state;
    writeWebDeployState({ ...rest, updatedAt: new Date().toISOString() }, env);
  }
  return { deleted };
}

function writeIfChanged(file: string, content: string): boolean {
  try {
    if (readFileSync(file, 'utf8') === content) return false;
  } catch {
    // Missing: written below.
  }
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, content);
  renameSync(tmp, file);
  return true;
}

/**
 * `release`: releases the service when the API's definition differs from the one last released
 * (the provider's in-place update takes effect only once released), and writes the deploy state
 * and the outputs file.
 */
export async function releaseApi(
  input: ReleaseInput,
  api: WebFunctionApi,
  options: WebFunctionRunOptions = {},
): Promise<{ released: boolean; reason?: string }> {
  const log = options.log ?? ((line: string) => console.log(line));
  const env = options.env ?? process.env;
  const live = (await api.describeApi({ ServiceId: input.serviceId, ApiId: input.apiId })).Result;
  if (!live) throw new WebFunctionError(`DescribeApi returned no API for ${input.serviceId}/${input.apiId}`);
  const previous = readWebDeployState(input.stack, env);
  const fingerprint = apiFingerprint(live);
  const last = previous?.apiId === input.apiId ? previous.release : undefined;
  const reason = !last
    ? 'no release recorded'
    : last.environment !== input.environment
      ? `no release recorded for ${input.environment} (the last was to ${last.environment})`
      : last.fingerprint !== fingerprint
        ? 'API changed since the last release'
        : undefined;
  let release = last;
  if (reason) {
    log(`ReleaseService ${input.serviceId} to ${input.environment}: ${reason}`);
    let answer;
    try {
      answer = await api.releaseService({ ServiceId: input.serviceId, EnvironmentName: input.environment, ReleaseDesc: `web api ${fingerprint.slice(0, 12)}` });
    } catch (err) {
      throw new WebFunctionError(`ReleaseService failed: ${describeError(err)}; re-running the deploy is safe`, { cause: err });
    }
    const version = answer?.Result?.ReleaseVersion;
    release = { fingerprint, environment: input.environment, ...(typeof version === 'string' && version ? { version } : {}), at: new Date().toISOString() };
  } else {
    log(`${input.environment} already carries this definition (released ${last!.version ?? last!.at}); no release`);
  }
  const now = new Date().toISOString();
  writeWebDeployState(
    {
      ...(previous ?? { version: 1, mode: 'web', stack: input.stack, region: input.region, updatedAt: now }),
      region: input.region,
      serviceId: input.serviceId,
      apiId: input.apiId,
      ...(release ? { release } : {}),
      updatedAt: now,
    },
    env,
  );
  writeIfChanged(
    outputsPath(input.stack, env),
    JSON.stringify(
      {
        stack: input.stack,
        region: input.region,
        environment: input.environment,
        clientUrl: input.clientUrl ?? null,
        serviceId: input.serviceId,
        apiId: input.apiId,
        // Web mode has no reverse-push address: the function holds the socket.
        pushUrl: null,
        functions: { web: input.name },
      },
      null,
      2,
    ) + '\n',
  );
  return { released: reason !== undefined, ...(reason ? { reason } : {}) };
}
