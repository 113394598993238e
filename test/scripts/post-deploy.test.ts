/**
 * The post-deploy step, with the real tencentcloud SDK against the local Cloud API, on a local
 * gateway and SCF runtime left as the provider leaves them: no WebSocket bindings, no `url`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/load';
import { LocalCloudApi } from '../../local/cloud-api/server';
import { randomCredential } from '../../local/credentials';
import { LocalGateway } from '../../local/gateway/gateway';
import { LocalScf } from '../../local/scf/runtime';
import { bundleFunctions, FUNCTION_NAMES } from '../../scripts/bundle';
import { createCloudApi, CredentialsError } from '../../scripts/post-deploy/clients';
import type { PostDeployInput } from '../../scripts/post-deploy/inputs';
import { PartialDeployError, runPostDeploy } from '../../scripts/post-deploy/run';
import { readDeployState } from '../../stacks/deploy-state';
import { ChatClient } from '../support/chat-client';
import { startCos, type CosFixture } from '../support/cos-fixture';
import { all, removeSynthOutput, synth } from '../support/synth';

const REGION = 'ap-guangzhou';

describe('post-deploy against the local Cloud API', () => {
  let dir: string;
  let cos: CosFixture;
  let scf: LocalScf;
  let gateway: LocalGateway;
  let cloudApi: LocalCloudApi;
  const user = randomCredential();
  let input: PostDeployInput;
  let env: NodeJS.ProcessEnv;
  const lines: string[] = [];
  const log = (line: string) => lines.push(line);

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'post-deploy-'));
    cos = await startCos();
    const bundles = await bundleFunctions(path.join(dir, 'dist'));
    const { TENCENTCLOUD_SECRETID, TENCENTCLOUD_SECRETKEY, TENCENTCLOUD_SESSIONTOKEN, ...functionEnv } = cos.env;
    scf = new LocalScf({
      workDir: path.join(dir, 'scf'),
      credentials: { secretId: TENCENTCLOUD_SECRETID, secretKey: TENCENTCLOUD_SECRETKEY, sessionToken: TENCENTCLOUD_SESSIONTOKEN },
      log: () => {},
    });
    gateway = new LocalGateway({ invoker: scf, log: () => {} });
    await gateway.start();
    for (const fn of FUNCTION_NAMES) {
      // Created without url, as the first apply leaves them.
      await scf.deploy({ name: `chat-t-${fn}`, namespace: 'default', zipPath: bundles[fn].zipPath, handler: 'index.main_handler', environment: { ...functionEnv, KEEP_ME: 'yes' }, memoryMb: 128, timeoutSeconds: 10 });
    }
    gateway.createService({ serviceId: 'service-test1234', serviceName: 'chat_t' });
    // As the provider leaves an SCF-backed WebSocket API: no bindings.
    gateway.createApi({
      serviceId: 'service-test1234', apiId: 'api-test5678', apiName: 'chat_t_ws', path: '/', method: 'GET', protocol: 'WEBSOCKET',
      serviceType: 'SCF', serviceTimeout: 600, scfFunction: { name: 'chat-t-transport', namespace: 'default', qualifier: '$LATEST' },
    });
    gateway.releaseService('service-test1234', 'release', 'initial');
    cloudApi = new LocalCloudApi({ credentials: [user], gateway, scf, log: () => {} });
    await cloudApi.start();
    input = {
      stack: 'chat-t-gz', region: REGION, serviceId: 'service-test1234', apiId: 'api-test5678', environment: 'release', namespace: 'default', qualifier: '$LATEST',
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
    await cloudApi?.stop();
    await gateway?.stop();
    await scf?.stop();
    await cos?.stop();
    await removeSynthOutput();
    await rm(dir, { recursive: true, force: true });
  }, 60_000);

  beforeEach(() => {
    lines.length = 0;
  });

  const run = (overrides: NodeJS.ProcessEnv = {}) =>
    runPostDeploy(input, createCloudApi(REGION, { ...env, ...overrides }, { baseDelayMs: 20 }), { log, env, pollMs: 20 });

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

  it('fixes the bindings, injects url and writes the state; the chat then works', async () => {
    const modifyBefore = cloudApi.calls('ModifyApi');
    const report = await run();
    expect(report).toMatchObject({ bindingsChanged: true, released: true, url: gateway.pushUrl('api-test5678'), changed: true });
    expect(report.functionsUpdated.sort()).toEqual(['chat-t-cleanup', 'chat-t-register', 'chat-t-transport']);
    expect(cloudApi.calls('ModifyApi')).toBe(modifyBefore + 1);
    expect(lines.filter((l) => /^\[\d\/4\]/.test(l)).length).toBeGreaterThanOrEqual(4);
    for (const fn of FUNCTION_NAMES) {
      const spec = scf.getFunction(`chat-t-${fn}`, 'default')!;
      expect(spec.environment.url).toBe(report.url);
      expect(spec.environment.KEEP_ME).toBe('yes');
    }
    expect(readDeployState('chat-t-gz', env)).toMatchObject({ stack: 'chat-t-gz', apiId: 'api-test5678', url: report.url });
    expect(JSON.parse(readFileSync(report.outputsFile, 'utf8'))).toMatchObject({ clientUrl: input.clientUrl, pushUrl: report.url });

    const a = await ChatClient.connect(input.clientUrl!);
    const b = await ChatClient.connect(input.clientUrl!);
    a.send('after post-deploy');
    expect(await b.waitFor('the message', () => b.messages().find((m) => m.text === 'after post-deploy'))).toMatchObject({ online: 2 });
    await Promise.all([a.close(), b.close()]);
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
    expect(lines.at(-1)).toBe('post-deploy: nothing to change');
    expect({ modify: cloudApi.calls('ModifyApi'), release: cloudApi.calls('ReleaseService'), update: cloudApi.calls('UpdateFunctionConfiguration') }).toEqual(before);
  });

  it('converges on a re-run after UpdateFunctionConfiguration fails for one function part-way', async () => {
    // Start over from functions without url.
    for (const fn of FUNCTION_NAMES) {
      const spec = scf.getFunction(`chat-t-${fn}`, 'default')!;
      const { url: _url, ...rest } = spec.environment;
      await scf.updateConfiguration(`chat-t-${fn}`, 'default', { environment: rest });
    }
    cloudApi.failNext('UpdateFunctionConfiguration', { code: 'FailedOperation.UpdateFunctionConfiguration', message: 'injected failure', match: (p: { FunctionName?: string }) => p.FunctionName === 'chat-t-transport' });
    const err = (await run().catch((e: unknown) => e)) as PartialDeployError;
    expect(err).toBeInstanceOf(PartialDeployError);
    expect(err.message).toMatch(/FailedOperation\.UpdateFunctionConfiguration/);
    expect(err.done).toContain('inject url into chat-t-register');
    expect(err.notDone).toEqual(expect.arrayContaining(['inject url into chat-t-transport', 'inject url into chat-t-cleanup', 'write the deploy state']));
    expect(scf.getFunction('chat-t-transport', 'default')!.environment.url).toBeUndefined();

    const report = await run();
    expect(report.functionsUpdated.sort()).toEqual(['chat-t-cleanup', 'chat-t-transport']);
    for (const fn of FUNCTION_NAMES) expect(scf.getFunction(`chat-t-${fn}`, 'default')!.environment.url).toBe(report.url);
  }, 60_000);

  it('retries throttling with backoff', async () => {
    cloudApi.failNext('DescribeApi', { code: 'RequestLimitExceeded', message: 'slow down', times: 2 });
    const retries: string[] = [];
    const api = createCloudApi(REGION, env, { baseDelayMs: 10, onRetry: (what, attempt) => retries.push(`${what} ${attempt}`) });
    await runPostDeploy(input, api, { log, env });
    expect(retries).toEqual(['DescribeApi 1', 'DescribeApi 2']);
  });

  it('writes a state file that makes the next synth carry url', async () => {
    const config = loadConfig();
    const state = readDeployState('chat-t-gz', env)!;
    // The same state file, under the dev stack's name.
    const { writeDeployState } = await import('../../stacks/deploy-state');
    writeDeployState({ ...state, stack: 'chat-dev-gz' }, env);
    const { docs } = await synth(config, await bundleFunctions(path.join(dir, 'dist2')), { selection: { stage: 'dev' }, env });
    for (const fn of Object.values(all(docs['chat-dev-gz'], 'tencentcloud_scf_function'))) expect(fn.environment.url).toBe(state.url);
  }, 60_000);
});
