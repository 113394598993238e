/**
 * A web-mode stack applied to the local cloud as `cdktf deploy` would apply it: the private
 * network recorded, Redis from the local services, the web function created, updated and deleted
 * by the stack's own provisioners running scripts/web-function.ts against the local Cloud API with
 * the real SDK, and the API released again after it changes.
 */
import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../config/load';
import type { AppConfig } from '../../config/schema';
import { applyStack, type AppliedStack, type AppliedWebStack, LocalApplyError } from '../../local/apply/apply';
import { LOCAL_APP_ID } from '../../local/cloud';
import { LocalServices } from '../../local/services';
import { readWebDeployState } from '../../stacks/post-deploy-contract';
import type { AppBundles } from '../../stacks/roles';
import { bundleChat } from '../support/bundles';
import { synth, removeSynthOutput } from '../support/synth';
import { withWeb, writeWebBundle } from '../stacks/fixtures/web-bundle';

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v));
const PASSWORD = 'Local-pass-1';

describe('a web-mode stack on the local cloud', () => {
  let dir: string;
  let services: LocalServices;
  let chat: AppBundles;
  let config: AppConfig;
  const stateDir = () => path.join(dir, 'deploy');

  /** Synthesizes the chat's dev stack in web mode and applies it; returns what was applied and the log. */
  async function deploy(options: { config?: AppConfig; bundles?: AppBundles; env?: NodeJS.ProcessEnv; edit?: (doc: any) => void } = {}) {
    const { outdir } = await synth(options.config ?? config, { chat: options.bundles ?? chat }, { selection: { app: 'chat', stage: 'dev', mode: 'web' } });
    const stackDir = path.join(outdir, 'stacks', 'chat-dev-gz');
    if (options.edit) {
      const file = path.join(stackDir, 'cdk.tf.json');
      const doc = JSON.parse(await readFile(file, 'utf8'));
      options.edit(doc);
      await writeFile(file, JSON.stringify(doc));
    }
    const lines: string[] = [];
    const { cos, scf, gateway, redis, cloudApi, user } = services;
    const applied = await applyStack({
      stackDir,
      services: { cos, scf, gateway, redis },
      appId: LOCAL_APP_ID,
      env: options.env ?? { CHAT_REDIS_PASSWORD: PASSWORD },
      stateFile: path.join(dir, 'apply', 'chat-dev-gz.json'),
      // As the local cloud runs the post-deploy hook: the local user's key and the local Cloud API.
      provisionerEnv: {
        TENCENTCLOUD_SECRET_ID: user.secretId,
        TENCENTCLOUD_SECRET_KEY: user.secretKey,
        TENCENTCLOUD_SECURITY_TOKEN: '',
        CHAT_CLOUD_API_ENDPOINT: `http://${cloudApi.endpoint}`,
        CHAT_DEPLOY_STATE_DIR: stateDir(),
      },
      log: (line) => lines.push(line),
    });
    return { applied, log: lines.join('\n') };
  }

  const web = (applied: AppliedStack): AppliedWebStack => {
    expect(applied.mode).toBe('web');
    return applied as AppliedWebStack;
  };
  const changed = (applied: AppliedStack) =>
    Object.fromEntries(applied.changes.filter((c) => c.action !== 'no-op').map((c) => [c.address.replace(/_[0-9A-F]{8}$/, ''), c.action]));

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'web-apply-'));
    config = loadConfig();
    chat = withWeb(await bundleChat(path.join(dir, 'dist')), await writeWebBundle(path.join(dir, 'dist', 'chat')));
    services = await LocalServices.start({
      dataDir: dir,
      stack: 'chat-dev-gz',
      region: 'ap-guangzhou',
      ports: { gateway: 0, cos: 0, cloudApi: 0 },
      log: () => {},
    });
  }, 60_000);
  afterAll(async () => {
    await services?.stop();
    await removeSynthOutput();
    await rm(dir, { recursive: true, force: true });
  });

  it('creates the network, Redis, the web function through the Cloud API, the API on it and its release', async () => {
    const { applied, log } = await deploy();
    const stack = web(applied);
    expect(changed(stack)).toEqual({
      'tencentcloud_vpc.network_vpc': 'create',
      'tencentcloud_subnet.network_subnet': 'create',
      'tencentcloud_security_group.network_security-group': 'create',
      'tencentcloud_redis_instance.redis_instance': 'create',
      'terraform_data.web-function': 'create',
      'terraform_data.web-function_config': 'create',
      'tencentcloud_api_gateway_service.websocket_service': 'create',
      'tencentcloud_api_gateway_api.websocket_api': 'create',
      'tencentcloud_api_gateway_service_release.websocket_release': 'create',
      'terraform_data.release-step_run': 'create',
    });
    expect(stack.webFunction).toEqual({ name: 'chat-dev-gz-web', namespace: 'default', qualifier: '$LATEST' });
    expect(stack.bucket).toBe('');
    expect(stack.redis).toEqual(await services.redis.ensure('chat-dev-gz', { password: PASSWORD }));
    const fn = services.scf.getFunction('chat-dev-gz-web')!;
    expect(fn).toMatchObject({ type: 'HTTP', protocolType: 'WS', wsIdleTimeoutSeconds: 600, timeoutSeconds: 900, memoryMb: 128, runtime: 'Nodejs18.15' });
    expect(fn.vpc?.vpcId).toMatch(/^vpc-[a-z0-9]{8}$/);
    expect(fn.vpc?.subnetId).toMatch(/^subnet-[a-z0-9]{8}$/);
    expect(fn.environment).toMatchObject({
      REDIS_HOST: stack.redis!.host,
      REDIS_PORT: String(stack.redis!.port),
      REDIS_PASSWORD: PASSWORD,
      IDLE_TIMEOUT_SECONDS: '600',
      HISTORY_SIZE: '100',
      PRESENCE_LIMIT: '100',
    });
    // The script's progress is in the log, the secret is not.
    expect(log).toMatch(/chat-dev-gz-web: creating a web function \(HTTP, WebSocket, idle timeout 600 s\)/);
    expect(log).toMatch(/ReleaseService service-[a-z0-9]+ to release: no release recorded/);
    expect(log).not.toContain(PASSWORD);
    expect(readWebDeployState('chat-dev-gz', { CHAT_DEPLOY_STATE_DIR: stateDir() })).toMatchObject({
      mode: 'web',
      function: { name: 'chat-dev-gz-web', namespace: 'default', codeHash: chat.web!.hash },
      serviceId: stack.serviceId,
      apiId: stack.apiId,
      release: { environment: 'release' },
    });
    // The API's backend is the web function, of type HTTP, for the gateway to hand it the socket.
    expect(services.gateway.describeApi(stack.apiId)).toMatchObject({
      serviceType: 'SCF',
      scfFunction: { name: 'chat-dev-gz-web', namespace: 'default', qualifier: '$LATEST' },
      scfFunctionType: 'HTTP',
    });
  }, 120_000);

  it('plans no change when nothing changed', async () => {
    const { applied, log } = await deploy();
    expect(changed(applied)).toEqual({});
    expect(log).toMatch(/chat-dev-gz: no changes/);
  }, 60_000);

  it('updates the function in place for a new bundle and a new idle timeout, and releases the changed API', async () => {
    const v2 = await writeWebBundle(path.join(dir, 'dist2', 'chat'), 'require("http").createServer((q, s) => s.end("v2")).listen(process.env.PORT || 9000);\n');
    const c = clone(config);
    c.stages.dev.idleTimeoutSeconds = 900;
    const { applied, log } = await deploy({ config: parseConfig(c), bundles: withWeb(chat, v2) });
    expect(changed(applied)).toEqual({
      'terraform_data.web-function_config': 'replace',
      'tencentcloud_api_gateway_api.websocket_api': 'update',
      'terraform_data.release-step_run': 'replace',
    });
    expect(log).toMatch(/UpdateFunctionCode \([0-9a-f]{16} -> [0-9a-f]{16}\)/);
    expect(log).toMatch(
      /UpdateFunctionConfiguration \(idle timeout 600 -> 900 s \(ProtocolParams\.WSParams\.IdleTimeOut\); environment ~IDLE_TIMEOUT_SECONDS\)/,
    );
    expect(log).toMatch(/ReleaseService .* API changed since the last release/);
    expect(log).not.toMatch(/DeleteFunction|creating a web function/);
    const fn = services.scf.getFunction('chat-dev-gz-web')!;
    expect(fn.wsIdleTimeoutSeconds).toBe(900);
    expect(await readFile(fn.zipPath)).toEqual(await readFile(v2.zipPath));
    expect(readWebDeployState('chat-dev-gz', { CHAT_DEPLOY_STATE_DIR: stateDir() })!.function!.codeHash).toBe(v2.hash);
    chat = withWeb(chat, v2);
    config = parseConfig(c);
  }, 120_000);

  it("updates the function's password and Redis's together for a new one, never printing it", async () => {
    const next = 'Local-pass-2';
    const { applied, log } = await deploy({ env: { CHAT_REDIS_PASSWORD: next } });
    expect(changed(applied)).toEqual({ 'tencentcloud_redis_instance.redis_instance': 'update', 'terraform_data.web-function_config': 'replace' });
    expect(log).toMatch(/environment ~REDIS_PASSWORD/);
    expect(log).not.toContain(next);
    expect(services.scf.getFunction('chat-dev-gz-web')!.environment.REDIS_PASSWORD).toBe(next);
  }, 120_000);

  it('deletes the old function from its destroy-time provisioner when the function itself is replaced', async () => {
    // A new runtime cannot be applied in place: the function resource is replaced, delete then create.
    const edit = (doc: any) => {
      for (const body of Object.values<any>(doc.resource.terraform_data)) {
        for (const p of body.provisioner ?? [])
          if (p['local-exec'].environment?.CHAT_WEB_RUNTIME === 'Nodejs18.15') p['local-exec'].environment.CHAT_WEB_RUNTIME = 'Nodejs16.13';
        if (body.triggers_replace?.CHAT_WEB_RUNTIME) body.triggers_replace.CHAT_WEB_RUNTIME = 'Nodejs16.13';
      }
    };
    const { applied, log } = await deploy({ env: { CHAT_REDIS_PASSWORD: 'Local-pass-2' }, edit });
    expect(changed(applied)).toMatchObject({ 'terraform_data.web-function': 'replace' });
    const deleted = log.indexOf('chat-dev-gz-web: DeleteFunction');
    const created = log.indexOf('chat-dev-gz-web: creating a web function');
    expect(deleted).toBeGreaterThan(-1);
    expect(created).toBeGreaterThan(deleted);
    expect(services.scf.getFunction('chat-dev-gz-web')!.runtime).toBe('Nodejs16.13');
  }, 120_000);

  it('refuses a web-mode stack without the Redis service, naming the resource', async () => {
    const { outdir } = await synth(config, { chat }, { selection: { app: 'chat', stage: 'dev', mode: 'web' } });
    const { cos, scf, gateway } = services;
    await expect(
      applyStack({
        stackDir: path.join(outdir, 'stacks', 'chat-dev-gz'),
        services: { cos, scf, gateway },
        appId: LOCAL_APP_ID,
        env: { CHAT_REDIS_PASSWORD: PASSWORD },
      }),
    ).rejects.toThrow(
      /tencentcloud_redis_instance\.redis_instance_[0-9A-F]+: this stack declares a Redis instance \(a web-mode stack\), and the local cloud was started without its Redis service/,
    );
    expect(LocalApplyError).toBeDefined();
  }, 60_000);
});
