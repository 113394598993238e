/**
 * The post-deploy step, with the real tencentcloud SDK against the local Cloud API, on a local
 * gateway and SCF runtime left as the provider leaves them: no WebSocket bindings, no `url`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/load';
import type { ApiDef } from '../../local/cloud-api/backends';
import { LocalCloudApi } from '../../local/cloud-api/server';
import type { LocalCredential } from '../../local/credentials';
import { LocalServices } from '../../local/services';
import { LocalGateway } from '../../local/gateway/gateway';
import { LocalScf } from '../../local/scf/runtime';
import { ROLES } from '../../scripts/bundle';
import { bundleChat, bundleConfigured } from '../support/bundles';
import { readSdkModels, SDK_MODEL_FILES } from '../../local/cloud-api/sdk-dts';
import { type CloudApi, createCloudApi, CredentialsError, type RetryOptions } from '../../scripts/post-deploy/clients';
import type { PostDeployInput } from '../../scripts/post-deploy/inputs';
import { PartialDeployError, runPostDeploy } from '../../scripts/post-deploy/run';
import { deployStatePath, readDeployState } from '../../stacks/post-deploy-contract';
import { ChatClient } from '../support/chat-client';
import { all, removeSynthOutput, synth } from '../support/synth';

const REGION = 'ap-guangzhou';
const SERVICE = 'service-test1234';
const API = 'api-test5678';

/** `ModifyApiRequest` and its models, read from the installed SDK (not from the step's own table). */
const MODIFY_API = readSdkModels(createRequire(import.meta.url).resolve(SDK_MODEL_FILES.apigateway), ['ModifyApiRequest']);

/** Paths holding null, at any depth. */
function nullPaths(value: unknown, path = '$'): string[] {
  if (value === null) return [path];
  if (Array.isArray(value)) return value.flatMap((item, i) => nullPaths(item, `${path}[${i}]`));
  if (typeof value === 'object') return Object.entries(value as object).flatMap(([key, item]) => nullPaths(item, `${path}.${key}`));
  return [];
}

/** Paths of fields a model does not declare, at any depth. */
function strayFields(value: Record<string, unknown>, model: string, path = ''): string[] {
  const fields = MODIFY_API[model];
  return Object.entries(value).flatMap(([key, item]) => {
    if (!Object.hasOwn(fields, key)) return [`${path}${key}`];
    const base = fields[key].replace(/\?$/, '').replace(/(\[\])+$/, '');
    if (!Object.hasOwn(MODIFY_API, base)) return [];
    const items = Array.isArray(item) ? item : [item];
    return items.flatMap((element, i) => strayFields(element as Record<string, unknown>, base, `${path}${key}${Array.isArray(item) ? `[${i}]` : ''}.`));
  });
}

/** One call the step made through the client: what it handed the SDK, and the answer. */
interface Call {
  action: string;
  request: any;
  answer?: any;
}

/** The step's client, recording each call as the step makes it (retries inside count once). */
function recordingApi(base: CloudApi): { api: CloudApi; calls: Call[] } {
  const calls: Call[] = [];
  const wrap =
    <R>(action: string, fn: (request: R) => Promise<any>) =>
    async (request: R) => {
      const call: Call = { action, request: structuredClone(request) };
      calls.push(call);
      call.answer = await fn(request);
      return call.answer;
    };
  return {
    calls,
    api: {
      describeApi: wrap('DescribeApi', base.describeApi),
      modifyApi: wrap('ModifyApi', base.modifyApi),
      releaseService: wrap('ReleaseService', base.releaseService),
      getFunction: wrap('GetFunction', base.getFunction),
      updateFunctionConfiguration: wrap('UpdateFunctionConfiguration', base.updateFunctionConfiguration),
    },
  };
}

describe('post-deploy against the local Cloud API', () => {
  let dir: string;
  let services: LocalServices;
  let scf: LocalScf;
  let gateway: LocalGateway;
  let cloudApi: LocalCloudApi;
  let user: LocalCredential;
  let input: PostDeployInput;
  let env: NodeJS.ProcessEnv;
  const lines: string[] = [];
  const log = (line: string) => lines.push(line);

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'post-deploy-'));
    const bundles = await bundleChat(path.join(dir, 'dist'));
    // The local services as the local cloud runs them; the test then plays the provider's part.
    services = await LocalServices.start({ dataDir: dir, stack: 'chat-t-gz', region: REGION, ports: { gateway: 0, cos: 0, cloudApi: 0 }, log: () => {} });
    ({ scf, gateway, cloudApi, user } = services);
    const functionEnv = { bucket: 'chat-t-gz-1250000000', region: REGION };
    await services.cos.createBucket(functionEnv.bucket);
    for (const fn of ROLES) {
      // Created without url, as the first apply leaves them.
      await scf.deploy({
        name: `chat-t-${fn}`,
        namespace: 'default',
        zipPath: bundles[fn].zipPath,
        handler: 'index.main_handler',
        environment: { ...functionEnv, KEEP_ME: 'yes' },
        memoryMb: 128,
        timeoutSeconds: 10,
      });
    }
    gateway.createService({ serviceId: 'service-test1234', serviceName: 'chat_t' });
    // As the provider leaves an SCF-backed WebSocket API: no bindings.
    gateway.createApi({
      serviceId: 'service-test1234',
      apiId: 'api-test5678',
      apiName: 'chat_t_ws',
      path: '/',
      method: 'GET',
      protocol: 'WEBSOCKET',
      serviceType: 'SCF',
      serviceTimeout: 600,
      scfFunction: { name: 'chat-t-transport', namespace: 'default', qualifier: '$LATEST' },
    });
    gateway.releaseService('service-test1234', 'release', 'initial');
    input = {
      stack: 'chat-t-gz',
      region: REGION,
      serviceId: 'service-test1234',
      apiId: 'api-test5678',
      environment: 'release',
      namespace: 'default',
      qualifier: '$LATEST',
      functions: { register: 'chat-t-register', transport: 'chat-t-transport', cleanup: 'chat-t-cleanup' },
      clientUrl: gateway.wsUrl('service-test1234', 'release'),
      scfFunctionType: 'EVENT',
    };
    env = {
      TENCENTCLOUD_SECRET_ID: user.secretId,
      TENCENTCLOUD_SECRET_KEY: user.secretKey,
      CHAT_CLOUD_API_ENDPOINT: `http://${cloudApi.endpoint}`,
      CHAT_DEPLOY_STATE_DIR: path.join(dir, 'deploy'),
    };
  }, 120_000);

  afterAll(async () => {
    await services?.stop();
    await removeSynthOutput();
    await rm(dir, { recursive: true, force: true });
  }, 60_000);

  beforeEach(() => {
    lines.length = 0;
  });

  const run = (overrides: NodeJS.ProcessEnv = {}) =>
    runPostDeploy(input, createCloudApi(REGION, { ...env, ...overrides }, { baseDelayMs: 20 }), { log, env, pollMs: 20 });
  /** A run through a recording client. */
  const recordedRun = async (options: { endpoint?: string; retry?: RetryOptions } = {}) => {
    const overrides = options.endpoint ? { CHAT_CLOUD_API_ENDPOINT: `http://${options.endpoint}` } : {};
    const { api, calls } = recordingApi(createCloudApi(REGION, { ...env, ...overrides }, { baseDelayMs: 20, ...options.retry }));
    const report = await runPostDeploy(input, api, { log, env, pollMs: 20 });
    return { report, calls, sent: (action: string) => calls.filter((call) => call.action === action) };
  };
  /** Functions as the first apply leaves them: without url. */
  const dropUrls = async () => {
    for (const fn of ROLES) {
      const { url: _url, ...rest } = scf.getFunction(`chat-t-${fn}`, 'default')!.environment;
      await scf.updateConfiguration(`chat-t-${fn}`, 'default', { environment: rest });
    }
  };
  /** Changes the live API as an update outside the step would (the provider's, a console edit). */
  const changeApi = (change: (def: ApiDef) => ApiDef) => {
    const { internalDomain: _push, ...def } = gateway.describeApi(API)!;
    gateway.modifyApi(API, change(def));
  };
  /** Two clients exchange a message through the released API. */
  const chatWorks = async (text: string) => {
    const a = await ChatClient.connect(input.clientUrl!);
    const b = await ChatClient.connect(input.clientUrl!);
    a.send(text);
    expect(await b.waitFor(`the message "${text}"`, () => b.messages().find((m) => m.text === text))).toMatchObject({ online: 2 });
    await Promise.all([a.close(), b.close()]);
  };

  it('refuses to start without credentials, naming the variables', () => {
    expect(() => createCloudApi(REGION, {})).toThrow(CredentialsError);
    expect(() => createCloudApi(REGION, {})).toThrow(/TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY/);
  });

  it('surfaces wrong credentials as an authentication error, changing nothing', async () => {
    const err = await run({ TENCENTCLOUD_SECRET_KEY: 'not-the-key' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PartialDeployError);
    expect((err as Error).message).toMatch(/AuthFailure\.SignatureFailure/);
    expect((err as PartialDeployError).done).toEqual([]);
    expect(scf.getFunction('chat-t-register', 'default')!.environment.url).toBeUndefined();
  });

  it('names an unknown API', async () => {
    const err = await runPostDeploy({ ...input, apiId: 'api-nope' }, createCloudApi(REGION, env), { log, env }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/ResourceNotFound/);
  });

  it('fixes the bindings, releases, injects url and writes the state; the chat then works', async () => {
    const modifyBefore = cloudApi.calls('ModifyApi');
    const { report, sent } = await recordedRun();
    expect(report).toMatchObject({ bindingsChanged: true, released: true, releaseReason: 'bindings set', url: gateway.pushUrl(API), changed: true });
    expect(report.functionsUpdated.sort()).toEqual(['chat-t-cleanup', 'chat-t-register', 'chat-t-transport']);
    expect(cloudApi.calls('ModifyApi')).toBe(modifyBefore + 1);
    expect(lines.filter((l) => /^\[\d\/4\]/.test(l)).length).toBeGreaterThanOrEqual(4);
    expect(lines).toContain(`      ReleaseService ${SERVICE} to release: bindings set`);
    for (const fn of ROLES) {
      const spec = scf.getFunction(`chat-t-${fn}`, 'default')!;
      expect(spec.environment.url).toBe(report.url);
      expect(spec.environment.KEEP_ME).toBe('yes');
      expect(lines).toContain(`[3/4] chat-t-${fn}: setting url (none set yet)`);
    }
    const [release] = sent('ReleaseService');
    expect(readDeployState('chat-t-gz', env)).toEqual({
      version: 1,
      stack: 'chat-t-gz',
      region: REGION,
      serviceId: SERVICE,
      apiId: API,
      url: report.url,
      updatedAt: expect.any(String),
      release: {
        fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/),
        environment: 'release',
        version: release.answer.Result.ReleaseVersion,
        at: expect.any(String),
      },
    });
    expect(release.answer.Result.ReleaseVersion).toMatch(/^\d{17}$/);
    expect(JSON.parse(readFileSync(report.outputsFile, 'utf8'))).toMatchObject({ clientUrl: input.clientUrl, pushUrl: report.url });
    await chatWorks('after post-deploy');
  }, 60_000);

  it('sends a ModifyApi of ModifyApiRequest’s fields only, with no null at any depth, and the stack’s ServiceScfFunctionType', async () => {
    // what DescribeApi answered: fields ModifyApi lacks, and nested models of nulls
    changeApi(({ register: _r, transport: _t, cleanup: _c, ...def }) => def);
    const { sent } = await recordedRun();
    const described = sent('DescribeApi')[0].answer.Result;
    expect(described).toMatchObject({ InternalDomain: gateway.pushUrl(API), ServiceName: 'chat_t', OauthConfig: { PublicKey: null, TokenLocation: null } });
    const [modify] = sent('ModifyApi');
    expect(nullPaths(modify.request)).toEqual([]);
    expect(strayFields(modify.request, 'ModifyApiRequest')).toEqual([]);
    expect(modify.request).toEqual({
      ServiceId: SERVICE,
      ApiId: API,
      ApiName: 'chat_t_ws',
      ApiType: 'NORMAL',
      AuthType: 'NONE',
      Protocol: 'WEBSOCKET',
      ServiceType: 'SCF',
      ServiceTimeout: 600,
      RequestConfig: { Path: '/', Method: 'GET' },
      ServiceScfFunctionName: 'chat-t-transport',
      ServiceScfFunctionNamespace: 'default',
      ServiceScfFunctionQualifier: '$LATEST',
      ServiceScfFunctionType: 'EVENT',
      ServiceWebsocketRegisterFunctionName: 'chat-t-register',
      ServiceWebsocketRegisterFunctionNamespace: 'default',
      ServiceWebsocketRegisterFunctionQualifier: '$LATEST',
      ServiceWebsocketTransportFunctionName: 'chat-t-transport',
      ServiceWebsocketTransportFunctionNamespace: 'default',
      ServiceWebsocketTransportFunctionQualifier: '$LATEST',
      ServiceWebsocketCleanupFunctionName: 'chat-t-cleanup',
      ServiceWebsocketCleanupFunctionNamespace: 'default',
      ServiceWebsocketCleanupFunctionQualifier: '$LATEST',
    });
    // and the local Cloud API, which refuses what ModifyApiRequest lacks, took it
    const sdk = createCloudApi(REGION, env);
    await expect(sdk.modifyApi({ ...modify.request, InternalDomain: described.InternalDomain })).rejects.toMatchObject({ code: 'UnknownParameter' });
    await expect(sdk.modifyApi({ ...modify.request, OauthConfig: {} })).rejects.toMatchObject({
      code: 'MissingParameter',
      message: expect.stringContaining('OauthConfig.PublicKey'),
    });
    expect(gateway.describeApi(API)!.register).toMatchObject({ name: 'chat-t-register' });
  }, 60_000);

  it('keeps the API fields ModifyApi was not asked to change', () => {
    const api = gateway.describeApi('api-test5678')!;
    expect(api).toMatchObject({ apiName: 'chat_t_ws', path: '/', serviceType: 'SCF', serviceTimeout: 600, scfFunction: { name: 'chat-t-transport' } });
    expect(api.register).toMatchObject({ name: 'chat-t-register', namespace: 'default', qualifier: '$LATEST' });
  });

  it('changes nothing on a second run, and says so', async () => {
    const before = { modify: cloudApi.calls('ModifyApi'), release: cloudApi.calls('ReleaseService'), update: cloudApi.calls('UpdateFunctionConfiguration') };
    const report = await run();
    expect(report).toMatchObject({ bindingsChanged: false, released: false, functionsUpdated: [], changed: false });
    expect(report.releaseReason).toBeUndefined();
    expect(lines.at(-1)).toBe('post-deploy: nothing to change');
    expect({ modify: cloudApi.calls('ModifyApi'), release: cloudApi.calls('ReleaseService'), update: cloudApi.calls('UpdateFunctionConfiguration') }).toEqual(
      before,
    );
  });

  it('converges on a re-run after UpdateFunctionConfiguration fails for one function part-way', async () => {
    // Start over from functions without url.
    for (const fn of ROLES) {
      const spec = scf.getFunction(`chat-t-${fn}`, 'default')!;
      const { url: _url, ...rest } = spec.environment;
      await scf.updateConfiguration(`chat-t-${fn}`, 'default', { environment: rest });
    }
    cloudApi.failNext('UpdateFunctionConfiguration', {
      code: 'FailedOperation.UpdateFunctionConfiguration',
      message: 'injected failure',
      match: (p: { FunctionName?: string }) => p.FunctionName === 'chat-t-transport',
    });
    const err = (await run().catch((e: unknown) => e)) as PartialDeployError;
    expect(err).toBeInstanceOf(PartialDeployError);
    expect(err.message).toMatch(/FailedOperation\.UpdateFunctionConfiguration/);
    expect(err.done).toContain('inject url into chat-t-register');
    expect(err.notDone).toEqual(expect.arrayContaining(['inject url into chat-t-transport', 'inject url into chat-t-cleanup', 'write the deploy state']));
    expect(scf.getFunction('chat-t-transport', 'default')!.environment.url).toBeUndefined();

    const report = await run();
    expect(report.functionsUpdated.sort()).toEqual(['chat-t-cleanup', 'chat-t-transport']);
    for (const fn of ROLES) expect(scf.getFunction(`chat-t-${fn}`, 'default')!.environment.url).toBe(report.url);
  }, 60_000);

  it('retries throttling with backoff', async () => {
    cloudApi.failNext('DescribeApi', { code: 'RequestLimitExceeded', message: 'slow down', times: 2 });
    const retries: string[] = [];
    const api = createCloudApi(REGION, env, { baseDelayMs: 10, onRetry: (what, attempt) => retries.push(`${what} ${attempt}`) });
    await runPostDeploy(input, api, { log, env });
    expect(retries).toEqual(['DescribeApi 1', 'DescribeApi 2']);
  });

  it('releases when the API changed since its last release, and then not again', async () => {
    const before = readDeployState('chat-t-gz', env)!.release!;
    // an in-place update that kept the bindings: nothing for ModifyApi, but live only once released
    changeApi((def) => ({ ...def, serviceTimeout: 300 }));
    const { report, sent } = await recordedRun();
    expect(sent('ModifyApi')).toEqual([]);
    expect(report).toMatchObject({ bindingsChanged: false, released: true, releaseReason: 'API changed since the last release' });
    expect(lines).toContain(`      ReleaseService ${SERVICE} to release: API changed since the last release`);
    const after = readDeployState('chat-t-gz', env)!.release!;
    expect(after.fingerprint).not.toBe(before.fingerprint);
    expect(after.version).toBe(sent('ReleaseService')[0].answer.Result.ReleaseVersion);
    expect(sent('ReleaseService')[0].request).toEqual({
      ServiceId: SERVICE,
      EnvironmentName: 'release',
      ReleaseDesc: `chat api ${after.fingerprint.slice(0, 12)}`,
    });

    const again = await recordedRun();
    expect(again.sent('ReleaseService')).toEqual([]);
    expect(lines.at(-1)).toBe('post-deploy: nothing to change');
    changeApi((def) => ({ ...def, serviceTimeout: 600 }));
    expect((await run()).releaseReason).toBe('API changed since the last release');
  });

  it('releases once for a deploy state written before releases were recorded', async () => {
    const { release: _release, ...old } = readDeployState('chat-t-gz', env)!;
    writeFileSync(deployStatePath('chat-t-gz', env), JSON.stringify(old, null, 2));
    expect(readDeployState('chat-t-gz', env)).toEqual(old);
    const { report, sent } = await recordedRun();
    expect(report).toMatchObject({ released: true, releaseReason: 'no release recorded' });
    expect(sent('ReleaseService')).toHaveLength(1);
    expect(readDeployState('chat-t-gz', env)!.release).toMatchObject({ environment: 'release' });
    expect((await run()).released).toBe(false);
  });

  it('after an update that unbinds the functions, sets the bindings again and releases; the chat works', async () => {
    // the provider's ModifyApi sends no WebSocket fields
    changeApi(({ register: _r, transport: _t, cleanup: _c, ...def }) => ({ ...def, serviceTimeout: 900 }));
    const { report, sent } = await recordedRun();
    expect(report).toMatchObject({ bindingsChanged: true, released: true, releaseReason: 'bindings set' });
    expect(sent('ModifyApi')[0].request).toMatchObject({ ServiceTimeout: 900, ServiceWebsocketCleanupFunctionName: 'chat-t-cleanup' });
    await chatWorks('after the update');
  }, 60_000);

  it('says why it updates url: the push address changed', async () => {
    const old = 'http://127.0.0.1:9/old-push-address';
    for (const fn of ROLES) {
      const { environment } = scf.getFunction(`chat-t-${fn}`, 'default')!;
      await scf.updateConfiguration(`chat-t-${fn}`, 'default', { environment: { ...environment, url: old } });
    }
    const report = await run();
    expect(report.functionsUpdated).toHaveLength(3);
    for (const fn of ROLES) expect(lines).toContain(`[3/4] chat-t-${fn}: updating url (push address changed from ${old} to ${report.url})`);
  });

  it('waits while a function reports Updating before Active', async () => {
    // the first two GetFunction calls after each update answer Updating
    const slow = new LocalCloudApi({ credentials: [user], gateway, scf, scfUpdatingPolls: 2, log: () => {} });
    await slow.start();
    try {
      await dropUrls();
      const { report, calls } = await recordedRun({ endpoint: slow.endpoint });
      expect(report.functionsUpdated).toHaveLength(3);
      for (const name of Object.values(input.functions)) {
        const mine = calls.filter((call) => call.request.FunctionName === name);
        const update = mine.findIndex((call) => call.action === 'UpdateFunctionConfiguration');
        // after the update: Updating at least once, then Active, and nothing else of that function
        const statuses = mine.slice(update + 1).map((call) => `${call.action} ${call.answer.Status}`);
        expect(statuses[0], name).toBe('GetFunction Updating');
        expect(statuses.at(-1), name).toBe('GetFunction Active');
        expect(new Set(statuses.slice(0, -1)), name).toEqual(new Set(['GetFunction Updating']));
        expect(lines).toContain(`      ${name} is Updating; waiting for Active`);
      }
    } finally {
      await slow.stop();
    }
  });

  it('retries transient errors (InternalError, ResourceUnavailable) as well as throttling', async () => {
    await dropUrls();
    cloudApi.failNext('DescribeApi', { code: 'InternalError', message: 'transient' });
    cloudApi.failNext('GetFunction', {
      code: 'ResourceUnavailable',
      message: 'try later',
      match: (p: { FunctionName?: string }) => p.FunctionName === 'chat-t-transport',
    });
    cloudApi.failNext('UpdateFunctionConfiguration', {
      code: 'InternalError.System',
      message: 'transient',
      match: (p: { FunctionName?: string }) => p.FunctionName === 'chat-t-cleanup',
    });
    cloudApi.failNext('GetFunction', {
      code: 'RequestLimitExceeded',
      message: 'slow down',
      match: (p: { FunctionName?: string }) => p.FunctionName === 'chat-t-cleanup',
    });
    const retries: string[] = [];
    const { report } = await recordedRun({
      retry: { baseDelayMs: 10, onRetry: (what, attempt, err) => retries.push(`${what} ${attempt} ${(err as { code?: string }).code}`) },
    });
    expect(retries).toEqual([
      'DescribeApi 1 InternalError',
      'GetFunction 1 ResourceUnavailable',
      'GetFunction 1 RequestLimitExceeded',
      'UpdateFunctionConfiguration 1 InternalError.System',
    ]);
    expect(report.functionsUpdated).toHaveLength(3);
    // what is not transient is not retried
    cloudApi.failNext('DescribeApi', { code: 'AuthFailure.UnauthorizedOperation', message: 'no' });
    retries.length = 0;
    await expect(recordedRun({ retry: { baseDelayMs: 10, onRetry: (what) => retries.push(what) } })).rejects.toThrow(/AuthFailure\.UnauthorizedOperation/);
    expect(retries).toEqual([]);
  });

  it('writes a state file that makes the next synth carry url', async () => {
    const config = loadConfig();
    const state = readDeployState('chat-t-gz', env)!;
    // The same state file, under the dev stack's name.
    const { writeDeployState } = await import('../../stacks/post-deploy-contract');
    writeDeployState({ ...state, stack: 'chat-dev-gz' }, env);
    const { docs } = await synth(config, await bundleConfigured(config, path.join(dir, 'dist2')), { selection: { stage: 'dev' }, env });
    for (const fn of Object.values(all(docs['chat-dev-gz'], 'tencentcloud_scf_function'))) expect(fn.environment.url).toBe(state.url);
  }, 60_000);
});
