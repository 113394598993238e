/**
 * scripts/web-function's steps on their own, through the real SDK against the local Cloud API:
 * adopting a function the stack did not record, refusing one of another kind, deleting one that
 * is gone, and releasing only when the API changed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalServices } from '../../local/services';
import { readWebDeployState } from '../../stacks/post-deploy-contract';
import { createWebFunctionApi, type WebFunctionApi } from '../../scripts/web-function/clients';
import { readSpec, type FunctionSpec } from '../../scripts/web-function/inputs';
import { deleteFunction, ensureFunction, releaseApi, WebFunctionError } from '../../scripts/web-function/run';
import { bundleChat } from '../support/bundles';
import { writeWebBundle } from '../stacks/fixtures/web-bundle';

describe('the web function script', () => {
  let dir: string;
  let services: LocalServices;
  let api: WebFunctionApi;
  let env: NodeJS.ProcessEnv;
  const lines: string[] = [];
  const log = (line: string) => lines.push(line);

  /** A spec as the stack's provisioner environment gives it. */
  async function spec(name: string, overrides: Record<string, string> = {}): Promise<FunctionSpec> {
    const bundle = await writeWebBundle(path.join(dir, name));
    return readSpec({
      CHAT_STACK: 'chat-dev-gz',
      CHAT_REGION: 'ap-guangzhou',
      CHAT_WEB_FUNCTION: name,
      CHAT_NAMESPACE: 'default',
      CHAT_WEB_RUNTIME: 'Nodejs18.15',
      CHAT_WEB_CODE: bundle.zipPath,
      CHAT_WEB_CODE_HASH: bundle.hash,
      CHAT_WEB_MEMORY_MB: '128',
      CHAT_WEB_TIMEOUT_SECONDS: '900',
      CHAT_WEB_IDLE_TIMEOUT_SECONDS: '600',
      CHAT_WEB_VPC_ID: 'vpc-aaaaaaaa',
      CHAT_WEB_SUBNET_ID: 'subnet-bbbbbbbb',
      CHAT_WEB_ENV_REDIS_HOST: '127.0.0.1',
      CHAT_WEB_SECRET_REDIS_PASSWORD: 'THE_PASSWORD',
      THE_PASSWORD: 'Local-pass-1',
      ...overrides,
    });
  }

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'web-script-'));
    services = await LocalServices.start({
      dataDir: dir,
      stack: 'chat-dev-gz',
      region: 'ap-guangzhou',
      ports: { gateway: 0, cos: 0, cloudApi: 0 },
      log: () => {},
    });
    env = { CHAT_DEPLOY_STATE_DIR: path.join(dir, 'deploy') };
    api = createWebFunctionApi('ap-guangzhou', {
      TENCENTCLOUD_SECRET_ID: services.user.secretId,
      TENCENTCLOUD_SECRET_KEY: services.user.secretKey,
      CHAT_CLOUD_API_ENDPOINT: `http://${services.cloudApi.endpoint}`,
    });
  }, 60_000);
  afterAll(async () => {
    await services?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('reads secrets from the variable they name, or TF_VAR_ of it, and names one that is unset', async () => {
    expect((await spec('a-web', { THE_PASSWORD: '' })).variables.REDIS_PASSWORD).toBe('');
    const viaTf = await spec('a-web', { THE_PASSWORD: undefined as unknown as string, TF_VAR_THE_PASSWORD: 'From-tf-var-1' });
    expect(viaTf.variables.REDIS_PASSWORD).toBe('From-tf-var-1');
    expect(viaTf.secretNames).toEqual(['REDIS_PASSWORD']);
    await expect(spec('a-web', { THE_PASSWORD: undefined as unknown as string })).rejects.toThrow(
      "the function's REDIS_PASSWORD comes from THE_PASSWORD, which is not set (nor TF_VAR_THE_PASSWORD)",
    );
    await expect(spec('a-web', { CHAT_WEB_MEMORY_MB: 'lots' })).rejects.toThrow(/CHAT_WEB_MEMORY_MB must be a whole number from 64 to 3072, got "lots"/);
  });

  it('adopts a web function it did not record, bringing its code and configuration to the spec', async () => {
    const stale = await spec('adopted-web', { CHAT_WEB_IDLE_TIMEOUT_SECONDS: '30', CHAT_WEB_MEMORY_MB: '256' });
    await ensureFunction(stale, api, { log, env: { CHAT_DEPLOY_STATE_DIR: path.join(dir, 'elsewhere') } });
    const wanted = await spec('adopted-web', { CHAT_WEB_CODE_HASH: 'feedfacefeedface' });
    lines.length = 0;
    const report = await ensureFunction(wanted, api, { log, env });
    expect(report).toMatchObject({ created: false, adopted: true, codeUpdated: true, configured: ['MemorySize', 'ProtocolParams'] });
    expect(lines.join('\n')).toMatch(
      /adopted-web: exists; adopting it[\s\S]*UpdateFunctionCode \(to feedfacefeedface; none recorded\)[\s\S]*memory 256 -> 128 MB; idle timeout 30 -> 600 s/,
    );
    expect(services.scf.getFunction('adopted-web')).toMatchObject({ memoryMb: 128, wsIdleTimeoutSeconds: 600 });
    expect(readWebDeployState('chat-dev-gz', env)!.function).toMatchObject({ name: 'adopted-web', codeHash: 'feedfacefeedface' });
    // Recorded now: a second run changes nothing.
    lines.length = 0;
    expect(await ensureFunction(wanted, api, { log, env })).toMatchObject({ adopted: false, codeUpdated: false, configured: [] });
    expect(lines.join('\n')).toMatch(/code already feedfacefeedface[\s\S]*configuration already matches/);
  }, 60_000);

  it('refuses a function of another kind of that name: its type and protocol cannot change', async () => {
    const chat = await bundleChat(path.join(dir, 'event'));
    await services.scf.deploy({
      name: 'event-web',
      zipPath: chat.transport.zipPath,
      handler: 'index.main_handler',
      environment: {},
      memoryMb: 128,
      timeoutSeconds: 3,
    });
    const err = await ensureFunction(await spec('event-web'), api, { log, env }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WebFunctionError);
    expect((err as Error).message).toMatch(
      /^event-web exists as a (EVENT|Event) function without WebSocket; a function's type and protocol cannot change after it is created: delete it/,
    );
  }, 60_000);

  it('deletes a function and forgets it, and takes one that is gone as deleted', async () => {
    const s = await spec('doomed-web');
    await ensureFunction(s, api, { log, env });
    expect(await deleteFunction(s, api, { log, env })).toEqual({ deleted: true });
    expect(services.scf.getFunction('doomed-web')).toBeUndefined();
    expect(readWebDeployState('chat-dev-gz', env)!.function).toBeUndefined();
    lines.length = 0;
    expect(await deleteFunction(s, api, { log, env })).toEqual({ deleted: false });
    expect(lines).toContain('doomed-web: already gone');
  }, 60_000);

  it('releases an API once, and again only when it changed', async () => {
    const serviceId = 'service-scripted';
    services.gateway.createService({ serviceId, serviceName: 'scripted', protocol: 'http&https' });
    const def = {
      serviceId,
      apiId: 'api-scripted',
      apiName: 'scripted_ws',
      path: '/',
      method: 'GET' as const,
      protocol: 'WEBSOCKET' as const,
      serviceType: 'SCF',
      serviceTimeout: 600,
      scfFunction: { name: 'adopted-web', namespace: 'default', qualifier: '$LATEST' },
    };
    services.gateway.createApi(def);
    const input = {
      stack: 'chat-dev-gz',
      region: 'ap-guangzhou',
      name: 'adopted-web',
      namespace: 'default',
      serviceId,
      apiId: 'api-scripted',
      environment: 'release',
      clientUrl: 'ws://x/release/',
    };
    expect(await releaseApi(input, api, { log, env })).toEqual({ released: true, reason: 'no release recorded' });
    expect(await releaseApi(input, api, { log, env })).toEqual({ released: false });
    services.gateway.modifyApi('api-scripted', { ...def, serviceTimeout: 900 });
    expect(await releaseApi(input, api, { log, env })).toEqual({ released: true, reason: 'API changed since the last release' });
    expect(services.gateway.isReleased(serviceId, 'release')).toBe(true);
  }, 60_000);
});
