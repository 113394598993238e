/**
 * The post-deploy step: makes the live API's WebSocket bindings match the stack, reads the
 * reverse-push address, injects it into the functions as `url`, and records it. Safe to re-run:
 * each action happens only when something differs, so a second run changes nothing.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { deployStatePath, readDeployState, writeDeployState, type DeployState } from '../../stacks/deploy-state';
import { bindingDifferences, declaredBindings, modifyApiRequest } from './bindings';
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
  url: string;
  functionsUpdated: string[];
  stateFile: string;
  outputsFile: string;
  changed: boolean;
}

/** Thrown when the step fails part-way, saying what was and was not done. */
export class PartialDeployError extends Error {
  readonly code = 'ERR_POST_DEPLOY_PARTIAL';
  constructor(
    readonly done: string[],
    readonly notDone: string[],
    readonly cause: unknown,
  ) {
    const reason = cause instanceof Error ? `${(cause as { code?: string }).code ? `${(cause as { code?: string }).code}: ` : ''}${cause.message}` : String(cause);
    super(
      `post-deploy failed: ${reason}\n  done: ${done.length ? done.join('; ') : 'nothing'}\n  not done: ${notDone.join('; ')}\n  re-running the deploy (or this step) is safe and picks up where this stopped`,
    );
    this.name = 'PartialDeployError';
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
    'read the push address',
    ...names.map((n) => `inject url into ${n}`),
    'write the deploy state',
    'write the outputs file',
  ];
  const finish = (step: string) => {
    done.push(step);
    pending.splice(pending.indexOf(step), 1);
  };

  try {
    // 1. Bindings: the provider sends none for an SCF backend, so the live API may lack them.
    const describe = async () => (await api.describeApi({ ServiceId: input.serviceId, ApiId: input.apiId })).Result as Record<string, unknown>;
    let live = await describe();
    if (!live) throw Object.assign(new Error(`DescribeApi returned no API for ${input.serviceId}/${input.apiId}`), { code: 'ResourceNotFound.InvalidApi' });
    const declared = declaredBindings(input);
    const differences = bindingDifferences(live, declared);
    let bindingsChanged = false;
    let released = false;
    if (differences.length === 0) {
      log(`[1/4] WebSocket bindings of ${input.apiId} already match the stack`);
      finish('check the WebSocket bindings');
    } else {
      log(`[1/4] WebSocket bindings of ${input.apiId} differ (${differences.length} fields); ModifyApi`);
      await api.modifyApi(modifyApiRequest(live, declared));
      bindingsChanged = true;
      pending.splice(pending.indexOf('check the WebSocket bindings'), 1, 'release the service');
      done.push('ModifyApi (bindings set)');
      const desc = `chat bindings ${createHash('sha256').update(JSON.stringify(declared)).digest('hex').slice(0, 12)}`;
      log(`      ReleaseService ${input.serviceId} to ${input.environment}`);
      await api.releaseService({ ServiceId: input.serviceId, EnvironmentName: input.environment, ReleaseDesc: desc });
      released = true;
      finish('release the service');
      live = await describe();
    }

    // 2. The reverse-push address.
    const url = String(live.InternalDomain ?? '');
    if (!/^https?:\/\//.test(url)) throw Object.assign(new Error(`DescribeApi returned no usable InternalDomain (${JSON.stringify(live.InternalDomain ?? null)})`), { code: 'InternalDomainMissing' });
    log(`[2/4] push address ${url}`);
    finish('read the push address');

    // 3. url into each function, only where it differs; UpdateFunctionConfiguration replaces the whole list.
    const functionsUpdated: string[] = [];
    for (const name of names) {
      const fn = await api.getFunction({ FunctionName: name, Namespace: input.namespace });
      const variables: Array<{ Key: string; Value: string }> = fn.Environment?.Variables ?? [];
      const current = variables.find((v) => v.Key === 'url');
      if (current?.Value === url) {
        log(`[3/4] ${name}: url already set`);
      } else {
        const merged = [...variables.filter((v) => v.Key !== 'url'), { Key: 'url', Value: url }];
        log(`[3/4] ${name}: ${current ? 'updating' : 'setting'} url`);
        await api.updateFunctionConfiguration({ FunctionName: name, Namespace: input.namespace, Environment: { Variables: merged } });
        await waitUntilActive(api, name, input.namespace, options);
        functionsUpdated.push(name);
      }
      finish(`inject url into ${name}`);
    }

    // 4. State (synth feeds url back, so the next deploy plans no change) and outputs.
    const previous = readDeployState(input.stack, env);
    const state: DeployState = { version: 1, stack: input.stack, region: input.region, serviceId: input.serviceId, apiId: input.apiId, url, updatedAt: new Date().toISOString() };
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
    const changed = bindingsChanged || functionsUpdated.length > 0 || !stateSame || outputsChanged;
    log(`[4/4] ${stateSame ? 'deploy state unchanged' : `deploy state written to ${path.relative(process.cwd(), stateFile)}`}; outputs in ${path.relative(process.cwd(), outputsFile)}`);
    log(changed ? `post-deploy done: ${[bindingsChanged && 'bindings set and released', functionsUpdated.length && `url injected into ${functionsUpdated.length} function(s)`].filter(Boolean).join(', ') || 'files updated'}` : 'post-deploy: nothing to change');
    return { bindingsChanged, released, url, functionsUpdated, stateFile, outputsFile, changed };
  } catch (err) {
    throw new PartialDeployError(done, pending, err);
  }
}

async function waitUntilActive(api: CloudApi, name: string, namespace: string, options: RunOptions): Promise<void> {
  const deadline = Date.now() + (options.activeTimeoutMs ?? 120_000);
  for (;;) {
    const fn = await api.getFunction({ FunctionName: name, Namespace: namespace });
    if (fn.Status === 'Active') return;
    if (/Failed/i.test(String(fn.Status))) throw Object.assign(new Error(`${name} is ${fn.Status}: ${fn.StatusDesc ?? ''}`), { code: 'FunctionUpdateFailed' });
    if (Date.now() > deadline) throw Object.assign(new Error(`${name} still ${fn.Status} after waiting`), { code: 'FunctionNotActive' });
    await new Promise((r) => setTimeout(r, options.pollMs ?? 1000));
  }
}
