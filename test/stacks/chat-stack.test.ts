import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../config/load';
import type { AppConfig } from '../../config/schema';
import { KEY_PREFIX } from '../../functions/lib/registry';
import { ROLES, type AppBundles } from '../../scripts/bundle';
import { bundleConfigured } from '../support/bundles';
import { writeDeployState } from '../../stacks/post-deploy-contract';
import { loadProviderSchema, validateTerraformJson } from '../../stacks/validator';
import { all, only, removeSynthOutput, synth, withoutMetadata, type TerraformJson } from '../support/synth';

const schema = loadProviderSchema();
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v));

describe('AppStack for the chat', () => {
  let bundles: Record<string, AppBundles>;
  let distDir: string;
  let config: AppConfig;
  let docs: Record<string, TerraformJson>;
  let stackDir: (name: string) => string;

  beforeAll(async () => {
    distDir = await mkdtemp(path.join(os.tmpdir(), 'stack-bundles-'));
    config = loadConfig();
    bundles = await bundleConfigured(config, distDir);
    ({ docs, stackDir } = await synth(config, bundles));
  });
  afterAll(async () => {
    await rm(distDir, { recursive: true, force: true });
    await removeSynthOutput();
  });

  it('synthesizes every stack of the default configuration, each valid against the provider schema', () => {
    const expected = Object.keys(config.apps).length * Object.values(config.stages).reduce((n, stage) => n + stage.regions.length, 0);
    expect(Object.keys(docs)).toHaveLength(expected);
    for (const [name, doc] of Object.entries(docs)) {
      expect(validateTerraformJson(doc, schema), name).toEqual([]);
    }
  });

  it('is refused by the validator once broken', () => {
    const broken = clone(docs['chat-dev-gz']);
    const bucket = only(broken, 'tencentcloud_cos_bucket').body;
    delete bucket.bucket;
    only(broken, 'tencentcloud_api_gateway_service').body.net_type = 'OUTER';
    const issues = validateTerraformJson(broken, schema);
    expect(issues.map((i) => i.code)).toEqual(expect.arrayContaining(['MISSING_REQUIRED', 'WRONG_TYPE']));
  });

  it('constrains the provider to ~> 1.82 and sets its region', () => {
    const doc = docs['chat-prod-sh'];
    expect(doc.terraform.required_providers.tencentcloud).toEqual({ source: 'tencentcloudstack/tencentcloud', version: '~> 1.82' });
    expect(doc.provider.tencentcloud).toEqual([{ region: 'ap-shanghai' }]);
  });

  it('changes only the region and the names when the region is swapped', async () => {
    const c = clone(config);
    c.stages = { dev: { regions: ['ap-shanghai'] } };
    const swapped = withoutMetadata((await synth(parseConfig(c), bundles)).docs['chat-dev-sh']);
    const originalDoc = withoutMetadata(docs['chat-dev-gz']);
    const original = JSON.stringify(originalDoc);
    const renamed = original.replaceAll('ap-guangzhou', 'ap-shanghai').replaceAll('chat-dev-gz', 'chat-dev-sh').replaceAll('chat_dev_gz', 'chat_dev_sh');
    expect(original).not.toBe(renamed);
    expect(JSON.parse(renamed)).toEqual(swapped);
  });

  it('names the bucket <prefix>-<appid> with the app id token from tencentcloud_user_info', () => {
    const doc = docs['chat-dev-gz'];
    expect(Object.keys(doc.data.tencentcloud_user_info)).toHaveLength(1);
    const dataId = Object.keys(doc.data.tencentcloud_user_info)[0];
    const bucket = only(doc, 'tencentcloud_cos_bucket').body;
    expect(bucket.bucket).toBe(`chat-dev-gz-\${data.tencentcloud_user_info.${dataId}.app_id}`);
    expect(bucket).toMatchObject({ acl: 'private', force_clean: true });
    const days = config.defaults.registryExpiryDays;
    expect(bucket.lifecycle_rules).toEqual([
      { id: 'expire-connections', filter_prefix: KEY_PREFIX, expiration: { days } },
      { id: 'expire-room-members', filter_prefix: 'room/', expiration: { days } },
      { id: 'expire-memberships', filter_prefix: 'member/', expiration: { days } },
      { id: 'expire-user-connections', filter_prefix: 'user/', expiration: { days } },
      { id: 'expire-history', filter_prefix: 'history/', expiration: { days: config.defaults.rooms.historyExpiryDays } },
    ]);
  });

  it("points each function's zip_file at an existing zip with the current content hash", () => {
    for (const [name, doc] of Object.entries(docs)) {
      const functions = Object.values(all(doc, 'tencentcloud_scf_function'));
      expect(functions).toHaveLength(3);
      for (const fn of ROLES) {
        const body = functions.find((f) => f.name.endsWith(`-${fn}`))!;
        const zip = path.join(stackDir(name), body.zip_file);
        expect(existsSync(zip), zip).toBe(true);
        const app = name.split('-')[0]!;
        expect(path.basename(zip)).toBe(path.basename(bundles[app]![fn].zipPath));
        expect(createHash('sha256').update(readFileSync(zip)).digest('hex').slice(0, 16)).toBe(bundles[app]![fn].hash);
        expect(body).toMatchObject({ runtime: 'Nodejs18.15', handler: 'index.main_handler', enable_public_net: true, namespace: 'default' });
      }
    }
  });

  it('sizes the functions from config and runs them as the execution role', () => {
    const doc = docs['chat-prod-gz'];
    const role = only(doc, 'tencentcloud_cam_role');
    for (const body of Object.values(all(doc, 'tencentcloud_scf_function'))) {
      expect(body.mem_size).toBe(256);
      expect(body.timeout).toBe(config.defaults.functions.timeoutSeconds);
      expect(body.role).toBe(`\${tencentcloud_cam_role.${role.id}.name}`);
      expect(body.environment).toMatchObject({
        bucket: expect.stringMatching(/^chat-prod-gz-\$\{data\./),
        region: 'ap-guangzhou',
        PUSH_CONCURRENCY: '32',
        PUSH_TIMEOUT_MS: '3000',
        REGISTRY_EXPIRY_DAYS: String(config.defaults.registryExpiryDays),
        HISTORY_SIZE: String(config.defaults.rooms.historySize),
        PRESENCE_LIMIT: String(config.defaults.rooms.presenceLimit),
      });
      expect(Object.keys(body.environment).some((k) => /^(TENCENTCLOUD_|SCF_|QCLOUD_)/.test(k) || /secret_?(id|key)/i.test(k))).toBe(false);
    }
  });

  it('declares the API with the SCF backend fields the provider demands and the three WebSocket bindings', () => {
    const doc = docs['chat-dev-gz'];
    const api = only(doc, 'tencentcloud_api_gateway_api').body;
    const service = only(doc, 'tencentcloud_api_gateway_service');
    expect(api).toMatchObject({
      service_id: `\${tencentcloud_api_gateway_service.${service.id}.id}`,
      protocol: 'WEBSOCKET',
      request_config_method: 'GET',
      request_config_path: config.defaults.path,
      service_config_type: 'SCF',
      service_config_scf_function_name: 'chat-dev-gz-transport',
      service_config_scf_function_namespace: 'default',
      service_config_scf_function_qualifier: '$LATEST',
      service_config_scf_function_type: 'EVENT',
      service_config_timeout: config.defaults.idleTimeoutSeconds,
    });
    for (const fn of ROLES) {
      expect(api[`service_config_websocket_${fn}_function_name`]).toBe(`chat-dev-gz-${fn}`);
      expect(api[`service_config_websocket_${fn}_function_namespace`]).toBe('default');
      expect(api[`service_config_websocket_${fn}_function_qualifier`]).toBe('$LATEST');
    }
    expect(service.body).toMatchObject({ net_type: ['OUTER'] });
    const release = only(doc, 'tencentcloud_api_gateway_service_release').body;
    expect(release).toMatchObject({ environment_name: 'release', service_id: api.service_id });
  });

  it('keeps the release resource the same whatever the API declares, so no change replaces it', async () => {
    // Every argument of the release forces replacement, and replacing it unreleases the environment first.
    const release = (doc: TerraformJson) => only(doc, 'tencentcloud_api_gateway_service_release').body;
    for (const change of [{ path: '/chat' }, { idleTimeoutSeconds: 900 }]) {
      const c = clone(config);
      Object.assign(c.stages.dev, change);
      const changed = (await synth(parseConfig(c), bundles, { selection: { stage: 'dev' } })).docs['chat-dev-gz'];
      expect(only(changed, 'tencentcloud_api_gateway_api').body).not.toEqual(only(docs['chat-dev-gz'], 'tencentcloud_api_gateway_api').body);
      expect(withoutMetadata(release(changed)), JSON.stringify(change)).toEqual(withoutMetadata(release(docs['chat-dev-gz'])));
    }
  });

  it('declares enable_cors, so that the provider default (true) cannot drift the API', () => {
    expect(only(docs['chat-dev-gz'], 'tencentcloud_api_gateway_api').body.enable_cors).toBe(false);
  });

  it('gives the post-deploy hook the ids, names, region and environment, and re-runs it when they change', () => {
    const doc = docs['chat-prod-sh'];
    const hook = only(doc, 'terraform_data').body;
    const exec = hook.provisioner[0]['local-exec'];
    const service = only(doc, 'tencentcloud_api_gateway_service').id;
    const api = only(doc, 'tencentcloud_api_gateway_api').id;
    expect(exec.command).toBe('node --import tsx scripts/post-deploy.ts');
    // The project root, seen from the folder terraform runs in.
    expect(path.resolve(stackDir('chat-prod-sh'), exec.working_dir)).toBe(path.resolve(__dirname, '..', '..'));
    expect(exec.environment).toEqual({
      CHAT_STACK: 'chat-prod-sh',
      CHAT_REGION: 'ap-shanghai',
      CHAT_SERVICE_ID: `\${tencentcloud_api_gateway_service.${service}.id}`,
      CHAT_API_ID: `\${tencentcloud_api_gateway_api.${api}.id}`,
      CHAT_ENVIRONMENT: 'release',
      CHAT_NAMESPACE: 'default',
      CHAT_REGISTER_FUNCTION: 'chat-prod-sh-register',
      CHAT_TRANSPORT_FUNCTION: 'chat-prod-sh-transport',
      CHAT_CLEANUP_FUNCTION: 'chat-prod-sh-cleanup',
      CHAT_QUALIFIER: '$LATEST',
      CHAT_CLIENT_URL: `wss://\${tencentcloud_api_gateway_service.${service}.outer_sub_domain}/release/`,
      CHAT_SCF_FUNCTION_TYPE: 'EVENT',
    });
    expect(hook.triggers_replace).toEqual(exec.environment);
    // Any planned change to the API or a function (declared or drift) replaces the hook, which runs it again;
    // as bare addresses, since Terraform refuses "${…}" there.
    const functions = Object.keys(all(doc, 'tencentcloud_scf_function')).map((id) => `tencentcloud_scf_function.${id}`);
    expect(functions).toHaveLength(3);
    expect(hook.lifecycle.replace_triggered_by.sort()).toEqual([`tencentcloud_api_gateway_api.${api}`, ...functions].sort());
    expect(hook.depends_on).toEqual(expect.arrayContaining([expect.stringMatching(/^tencentcloud_api_gateway_service_release\./)]));
  });

  it('carries url exactly when the deploy state file has it', async () => {
    const stateDir = await mkdtemp(path.join(os.tmpdir(), 'deploy-state-'));
    const env = { CHAT_DEPLOY_STATE_DIR: stateDir };
    const urls = (doc: TerraformJson) => Object.values(all(doc, 'tencentcloud_scf_function')).map((f) => f.environment.url);

    const before = (await synth(config, bundles, { selection: { stage: 'dev' }, env })).docs['chat-dev-gz'];
    expect(urls(before)).toEqual([undefined, undefined, undefined]);

    const url = 'http://set-websocket.cb-common.apigateway.tencentyun.com/api-abc123';
    writeDeployState(
      { version: 1, stack: 'chat-dev-gz', region: 'ap-guangzhou', serviceId: 'service-1', apiId: 'api-abc123', url, updatedAt: new Date().toISOString() },
      env,
    );
    const after = (await synth(config, bundles, { env })).docs;
    expect(urls(after['chat-dev-gz'])).toEqual([url, url, url]);
    // Other stacks have no state: no url.
    expect(urls(after['chat-prod-gz'])).toEqual([undefined, undefined, undefined]);
    // Feeding the address back changes the functions only: the hook's own arguments stay the same,
    // so the deploy after the first plans no change to it.
    expect(withoutMetadata(only(after['chat-dev-gz'], 'terraform_data').body)).toEqual(withoutMetadata(only(before, 'terraform_data').body));

    writeFileSync(path.join(stateDir, 'chat-dev-gz.json'), '{"version":1,');
    await expect(synth(config, bundles, { selection: { stage: 'dev' }, env })).rejects.toThrow(/chat-dev-gz\.json is not valid JSON/);
    await rm(stateDir, { recursive: true, force: true });
  });

  it('grants the role object read, write, list and delete on this bucket only', () => {
    for (const doc of Object.values(docs)) {
      const role = only(doc, 'tencentcloud_cam_role').body;
      expect(JSON.parse(role.document)).toEqual({
        version: '2.0',
        statement: [{ action: ['name/sts:AssumeRole'], effect: 'allow', principal: { service: ['scf.qcloud.com'] } }],
      });
      const policy = JSON.parse(only(doc, 'tencentcloud_cam_policy').body.document);
      const bucket = only(doc, 'tencentcloud_cos_bucket').body.bucket as string;
      const region = doc.provider.tencentcloud[0].region;
      expect(policy.statement).toHaveLength(1);
      const [statement] = policy.statement;
      expect(statement.effect).toBe('allow');
      expect(statement.action.every((a: string) => /^name\/cos:[A-Za-z]+$/.test(a))).toBe(true);
      expect(statement.action).toEqual(expect.arrayContaining(['name/cos:PutObject', 'name/cos:GetObject', 'name/cos:DeleteObject', 'name/cos:GetBucket']));
      expect(statement.resource).toEqual([
        expect.stringMatching(new RegExp(`^qcs::cos:${region}:uid/\\$\\{data\\.tencentcloud_user_info\\.[^}]+\\.app_id\\}:`)),
      ]);
      expect(statement.resource[0].endsWith(`:${bucket}/*`)).toBe(true);
      const attachment = only(doc, 'tencentcloud_cam_role_policy_attachment').body;
      expect(attachment.policy_id).toMatch(/^\$\{tencentcloud_cam_policy\./);
    }
  });

  it('takes the admission secret from a sensitive variable, never writing it into the stack', async () => {
    const secret = 'super-secret-value-for-test';
    process.env.CHAT_PROD_ADMISSION_SECRET = secret;
    try {
      const { docs: withSecret } = await synth(config, bundles, { selection: { stage: 'prod' } });
      for (const doc of Object.values(withSecret)) {
        expect(JSON.stringify(doc)).not.toContain(secret);
        expect(doc.variable.CHAT_PROD_ADMISSION_SECRET).toMatchObject({ type: 'string', sensitive: true });
        for (const fn of Object.values(all(doc, 'tencentcloud_scf_function'))) {
          expect(fn.environment.ADMISSION_SECRET).toBe('${var.CHAT_PROD_ADMISSION_SECRET}');
          expect(fn.environment.ADMISSION_REQUIRED).toBe('true');
        }
      }
    } finally {
      delete process.env.CHAT_PROD_ADMISSION_SECRET;
    }
    for (const fn of Object.values(all(docs['chat-dev-gz'], 'tencentcloud_scf_function'))) {
      expect(fn.environment.ADMISSION_SECRET).toBeUndefined();
      expect(fn.environment.ADMISSION_REQUIRED).toBeUndefined();
    }
  });

  it('outputs the client URL, ids, function names, bucket and region', () => {
    const doc = docs['chat-dev-gz'];
    expect(Object.keys(doc.output).sort()).toEqual(['api_id', 'bucket', 'client_url', 'environment', 'function_names', 'region', 'service_id']);
    expect(doc.output.client_url.value).toMatch(/^wss:\/\/\$\{tencentcloud_api_gateway_service\.[^}]+\.outer_sub_domain\}\/release\/$/);
    expect(doc.output.function_names.value).toEqual({ register: 'chat-dev-gz-register', transport: 'chat-dev-gz-transport', cleanup: 'chat-dev-gz-cleanup' });
  });
});
