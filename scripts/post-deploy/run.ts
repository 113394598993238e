/**
 * The post-deploy step: makes the live API's WebSocket bindings match the stack, releases the
 * service when the API's definition changed since the step last released it, reads the
 * reverse-push address, injects it into the functions as `url`, and records it all. Safe to
 * re-run: each action happens only when something differs, so a second run changes nothing.
 *
 * The stack's own release resource releases once, at create, and never again (replacing it would
 * unrelease first: an outage); every later release is this step's.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CodedError, describeError } from '../../lib/errors';
import { deployStatePath, readDeployState, writeDeployState, type DeployState, type ReleaseRecord, URL_VARIABLE } from '../../stacks/post-deploy-contract';
import { apiFingerprint, bindingDifferences, declaredBindings, modifyApiRequest, stackFields } from './bindings';
import type { CloudApi } from './clients';
import type { PostDeployInput } from './inputs';

export interface RunOptions {
  log?: (line: string) => void;
  /** Where the state and outputs files go (CHAT_DEPLOY_STATE_DIR). @default process.env */
  env?: NodeJS.ProcessEnv;
  /** How long to wait for a function to be Active again. @default 120 s */
  activeTimeoutMs?: number;
  pollMs?: number;
}

/** What the step did, for the summary line and for tests. */
export interface RunReport {
  bindingsChanged: boolean;
  released: boolean;
  /** Why it released (`bindings set`, `no release recorded`, `API changed since the last release`, …); undefined when it did not. */
  releaseReason?: string;
  /** The release the environment now carries, as recorded in the deploy state. */
  release?: ReleaseRecord;
  url: string;
  functionsUpdated: string[];
  stateFile: string;
  outputsFile: string;
  changed: boolean;
}

/** Thrown when the step fails part-way, saying what was and was not done. */
export class PartialDeployError extends CodedError<'ERR_POST_DEPLOY_PARTIAL'> {
  constructor(
    readonly done: string[],
    readonly notDone: string[],
    cause: unknown,
  ) {
    super(
      'ERR_POST_DEPLOY_PARTIAL',
      `post-deploy failed: ${describeError(cause)}\n  done: ${done.length ? done.join('; ') : 'nothing'}\n  not done: ${notDone.join('; ')}\n  re-running the deploy (or this step) is safe and picks up where this stopped`,
      { cause },
    );
  }
}

/** The outputs file beside the state file: what users and `npm run test:deployed` read. */
export function outputsPath(stack: string, env: NodeJS.ProcessEnv = process.env): string {
  return deployStatePath(stack, env).replace(/\.json$/, '.outputs.json');
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

export async function runPostDeploy(input: PostDeployInput, api: CloudApi, options: RunOptions = {}): Promise<RunReport> {
  const log = options.log ?? ((line: string) => console.log(line));
  const env = options.env ?? process.env;
  const names = [input.functions.register, input.functions.transport, input.functions.cleanup];
  const done: string[] = [];
  const pending = [
    'check the WebSocket bindings',
    'release the service if the API changed',
    'read the push address',
    ...names.map((n) => `inject url into ${n}`),
    'write the deploy state',
    'write the outputs file',
  ];
  const finish = (step: string, as: string = step) => {
    done.push(as);
    pending.splice(pending.indexOf(step), 1);
  };

  try {
    // 1. Bindings: the provider sends none for an SCF backend, on create and on update, so the live API may lack them.
    const describe = async () => (await api.describeApi({ ServiceId: input.serviceId, ApiId: input.apiId })).Result as Record<string, unknown>;
    let live = await describe();
    if (!live) throw new CodedError('ResourceNotFound.InvalidApi', `DescribeApi returned no API for ${input.serviceId}/${input.apiId}`);
    const declared = declaredBindings(input);
    const differences = bindingDifferences(live, declared);
    let bindingsChanged = false;
    if (differences.length === 0) {
      log(`[1/4] WebSocket bindings of ${input.apiId} already match the stack`);
      finish('check the WebSocket bindings');
    } else {
      const request = modifyApiRequest(live, declared, stackFields(input));
      log(`[1/4] WebSocket bindings of ${input.apiId} differ (${differences.length} fields); ModifyApi`);
      await api.modifyApi(request);
      bindingsChanged = true;
      finish('check the WebSocket bindings', 'ModifyApi (bindings set)');
      live = await describe();
    }

    // A modified API takes effect only once released: release whenever the definition differs from the last one released.
    const previous = readDeployState(input.stack, env);
    const fingerprint = apiFingerprint(live);
    const last = previous?.release;
    const releaseReason = bindingsChanged
      ? 'bindings set'
      : !last
        ? 'no release recorded'
        : last.environment !== input.environment
          ? `no release recorded for ${input.environment} (the last was to ${last.environment})`
          : last.fingerprint !== fingerprint
            ? 'API changed since the last release'
            : undefined;
    let release = last;
    if (releaseReason) {
      log(`      ReleaseService ${input.serviceId} to ${input.environment}: ${releaseReason}`);
      const answer = await api.releaseService({
        ServiceId: input.serviceId,
        EnvironmentName: input.environment,
        ReleaseDesc: `chat api ${fingerprint.slice(0, 12)}`,
      });
      const version = answer?.Result?.ReleaseVersion;
      release = { fingerprint, environment: input.environment, ...(typeof version === 'string' && version ? { version } : {}), at: new Date().toISOString() };
      finish('release the service if the API changed', `ReleaseService to ${input.environment}`);
    } else {
      log(`      ${input.environment} already carries this definition (released ${last!.version ?? last!.at}); no release`);
      finish('release the service if the API changed');
    }
    const released = releaseReason !== undefined;

    // 2. The reverse-push address.
    const url = String(live.InternalDomain ?? '');
    if (!/^https?:\/\//.test(url))
      throw new CodedError('InternalDomainMissing', `DescribeApi returned no usable InternalDomain (${JSON.stringify(live.InternalDomain ?? null)})`);
    log(`[2/4] push address ${url}`);
    finish('read the push address');

    // 3. url into each function, only where it differs; UpdateFunctionConfiguration replaces the whole list.
    const functionsUpdated: string[] = [];
    for (const name of names) {
      const fn = await api.getFunction({ FunctionName: name, Namespace: input.namespace });
      const variables: Array<{ Key: string; Value: string }> = fn.Environment?.Variables ?? [];
      const current = variables.find((v) => v.Key === URL_VARIABLE);
      if (current?.Value === url) {
        log(`[3/4] ${name}: url already set`);
      } else {
        const merged = [...variables.filter((v) => v.Key !== URL_VARIABLE), { Key: URL_VARIABLE, Value: url }];
        log(`[3/4] ${name}: ${current ? `updating url (push address changed from ${current.Value || '(empty)'} to ${url})` : 'setting url (none set yet)'}`);
        await api.updateFunctionConfiguration({ FunctionName: name, Namespace: input.namespace, Environment: { Variables: merged } });
        await waitUntilActive(api, name, input.namespace, options, log);
        functionsUpdated.push(name);
      }
      finish(`inject url into ${name}`);
    }

    // 4. State (synth feeds url back, so the next deploy plans no change; the release, so the next run releases only on a change) and outputs.
    const state: DeployState = {
      version: 1,
      stack: input.stack,
      region: input.region,
      serviceId: input.serviceId,
      apiId: input.apiId,
      url,
      updatedAt: new Date().toISOString(),
      ...(release ? { release } : {}),
    };
    const stateSame = previous && JSON.stringify({ ...previous, updatedAt: '' }) === JSON.stringify({ ...state, updatedAt: '' });
    const stateFile = stateSame ? deployStatePath(input.stack, env) : writeDeployState(state, env);
    finish('write the deploy state');
    const outputsFile = outputsPath(input.stack, env);
    const outputs = {
      stack: input.stack,
      region: input.region,
      environment: input.environment,
      clientUrl: input.clientUrl ?? null,
      serviceId: input.serviceId,
      apiId: input.apiId,
      pushUrl: url,
      functions: input.functions,
    };
    const outputsChanged = writeIfChanged(outputsFile, JSON.stringify(outputs, null, 2) + '\n');
    finish('write the outputs file');
    const changed = bindingsChanged || released || functionsUpdated.length > 0 || !stateSame || outputsChanged;
    log(
      `[4/4] ${stateSame ? 'deploy state unchanged' : `deploy state written to ${path.relative(process.cwd(), stateFile)}`}; outputs in ${path.relative(process.cwd(), outputsFile)}`,
    );
    const summary = [
      bindingsChanged && 'bindings set',
      released && `released to ${input.environment}`,
      functionsUpdated.length && `url injected into ${functionsUpdated.length} function(s)`,
    ];
    log(changed ? `post-deploy done: ${summary.filter(Boolean).join(', ') || 'files updated'}` : 'post-deploy: nothing to change');
    return { bindingsChanged, released, releaseReason, release, url, functionsUpdated, stateFile, outputsFile, changed };
  } catch (err) {
    throw new PartialDeployError(done, pending, err);
  }
}

/** Polls GetFunction until the function is Active again: the cloud refuses to change it meanwhile. */
async function waitUntilActive(api: CloudApi, name: string, namespace: string, options: RunOptions, log: (line: string) => void): Promise<void> {
  const deadline = Date.now() + (options.activeTimeoutMs ?? 120_000);
  for (let polls = 0; ; polls++) {
    const fn = await api.getFunction({ FunctionName: name, Namespace: namespace });
    if (fn.Status === 'Active') return;
    if (polls === 0) log(`      ${name} is ${fn.Status}; waiting for Active`);
    if (/Failed/i.test(String(fn.Status))) throw new CodedError('FunctionUpdateFailed', `${name} is ${fn.Status}: ${fn.StatusDesc ?? ''}`);
    if (Date.now() > deadline) throw new CodedError('FunctionNotActive', `${name} still ${fn.Status} after waiting`);
    await new Promise((r) => setTimeout(r, options.pollMs ?? 1000));
  }
}
