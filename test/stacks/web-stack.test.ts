import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../config/load';
import type { AppConfig } from '../../config/schema';
import type { AppBundles } from '../../stacks/roles';
import { loadProviderSchema, validateTerraformJson } from '../../stacks/validator';
import { bundleChat } from '../support/bundles';
import { all, only, removeSynthOutput, synth, withoutMetadata, type TerraformJson } from '../support/synth';
import { withWeb, writeWebBundle } from './fixtures/web-bundle';

const schema = loadProviderSchema();
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v));
const ROOT = path.resolve(__dirname, '..', '..');

/** The terraform_data resources of a web-mode stack, by what they do. */
function steps(doc: TerraformJson) {
  const data = all(doc, 'terraform_data');
  const find = (suffix: string) => {
    const entry = Object.entries(data).find(([id]) => id.startsWith(suffix));
    if (!entry) throw new Error(`no terraform_data ${suffix}*`);
    return { id: entry[0], body: entry[1] };
  };
  return { fn: find('web-function_6'), config: find('web-function_config'), release: find('release-step') };
}

const exec = (body: TerraformJson, when?: 'destroy') =>
  (body.provisioner as TerraformJson[]).map((p) => p['local-exec']).find((e) => (when ? e.when === when : e.when === undefined));

describe('AppStack in web mode', () => {
  let dir: string;
  let config: AppConfig;
  let bundles: Record<string, AppBundles>;
  let doc: TerraformJson;
  let stackDir: (name: string) => string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'web-stack-'));
    config = loadConfig();
    bundles = { chat: withWeb(await bundleChat(dir), await writeWebBundle(path.join(dir, 'chat'))) };
    let docs;
    ({ docs, stackDir } = await synth(config, bundles, { selection: { app: 'chat', stage: 'dev', mode: 'web' } }));
    doc = docs['chat-dev-gz']!;
  }, 60_000);
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
    await removeSynthOutput();
  });

  it('synthesizes a stack the provider schema accepts, of the web mode resources only', () => {
    expect(validateTerraformJson(doc, schema)).toEqual([]);
    const counts = Object.fromEntries(Object.entries(doc.resource).map(([type, byName]) => [type, Object.keys(byName as object).length]));
    expect(counts).toEqual({
      tencentcloud_vpc: 1,
      tencentcloud_subnet: 1,
      tencentcloud_security_group: 1,
      tencentcloud_redis_instance: 1,
      terraform_data: 3,
      tencentcloud_api_gateway_service: 1,
      tencentcloud_api_gateway_api: 1,
      tencentcloud_api_gateway_service_release: 1,
    });
    // No registry, role or event functions: the function is the Cloud API's, and Redis holds the state.
    expect(doc.data).toBeUndefined();
    expect(Object.keys(doc.output).sort()).toEqual(['api_id', 'client_url', 'environment', 'function_name', 'region', 'service_id']);
    expect(doc.output.function_name.value).toBe('chat-dev-gz-web');
  });

  it("puts the smallest standard Redis in the subnet of the VPC, in the region's zone, with the password from a sensitive variable", () => {
    const vpc = only(doc, 'tencentcloud_vpc');
    const subnet = only(doc, 'tencentcloud_subnet');
    expect(vpc.body).toMatchObject({ name: 'chat-dev-gz', cidr_block: '10.0.0.0/16' });
    expect(subnet.body).toMatchObject({
      name: 'chat-dev-gz-web',
      vpc_id: `\${tencentcloud_vpc.${vpc.id}.id}`,
      availability_zone: 'ap-guangzhou-3',
      cidr_block: '10.0.1.0/24',
    });
    expect(withoutMetadata(only(doc, 'tencentcloud_redis_instance').body)).toEqual({
      name: 'chat-dev-gz',
      availability_zone: 'ap-guangzhou-3',
      type_id: 15,
      mem_size: 1024,
      redis_replicas_num: 1,
      password: '${var.CHAT_REDIS_PASSWORD}',
      vpc_id: `\${tencentcloud_vpc.${vpc.id}.id}`,
      subnet_id: `\${tencentcloud_subnet.${subnet.id}.id}`,
      force_delete: true,
    });
    expect(doc.variable.CHAT_REDIS_PASSWORD).toMatchObject({ type: 'string', sensitive: true });
    // Declared for the rules to come, bound to nothing: a group without rules refuses all traffic.
    expect(only(doc, 'tencentcloud_security_group').body.name).toBe('chat-dev-gz-redis');
    expect(JSON.stringify(only(doc, 'tencentcloud_redis_instance').body)).not.toContain('security_groups');
  });

  it('never writes the Redis password into the stack', async () => {
    const password = 'Zebra-Quartz-91';
    process.env.CHAT_REDIS_PASSWORD = password;
    try {
      const { docs } = await synth(config, bundles, { selection: { app: 'chat', stage: 'dev', mode: 'web' } });
      expect(JSON.stringify(docs['chat-dev-gz'])).not.toContain(password);
    } finally {
      delete process.env.CHAT_REDIS_PASSWORD;
    }
  });

  it('declares a WEBSOCKET API whose SCF backend is the web function, of function type HTTP, with no event bindings', () => {
    const api = only(doc, 'tencentcloud_api_gateway_api').body;
    expect(api).toMatchObject({
      protocol: 'WEBSOCKET',
      request_config_method: 'GET',
      request_config_path: '/',
      service_config_type: 'SCF',
      service_config_scf_function_name: 'chat-dev-gz-web',
      service_config_scf_function_namespace: 'default',
      service_config_scf_function_qualifier: '$LATEST',
      service_config_scf_function_type: 'HTTP',
      service_config_timeout: config.defaults.idleTimeoutSeconds,
      enable_cors: false,
    });
    expect(Object.keys(api).filter((k) => k.startsWith('service_config_websocket_'))).toEqual([]);
    // Created after the function exists, since the gateway checks its backend.
    expect(api.depends_on).toEqual([`terraform_data.${steps(doc).fn.id}`]);
  });

  it('creates the function through the script, deletes it from self alone, and keeps what can change in place out of its triggers', () => {
    const { fn } = steps(doc);
    const create = exec(fn.body);
    const destroy = exec(fn.body, 'destroy');
    expect(create.command).toBe('node --import tsx scripts/web-function.ts create');
    expect(destroy.command).toBe('node --import tsx scripts/web-function.ts delete');
    expect(path.resolve(stackDir('chat-dev-gz'), create.working_dir)).toBe(ROOT);
    expect(fn.body.triggers_replace).toEqual({
      CHAT_STACK: 'chat-dev-gz',
      CHAT_REGION: 'ap-guangzhou',
      CHAT_WEB_FUNCTION: 'chat-dev-gz-web',
      CHAT_NAMESPACE: 'default',
      CHAT_WEB_RUNTIME: 'Nodejs18.15',
    });
    expect(destroy.environment).toEqual(Object.fromEntries(Object.keys(fn.body.triggers_replace).map((k) => [k, `\${self.triggers_replace.${k}}`])));
    // The zip, seen from the project root where the script runs, is the bundle.
    const zip = path.resolve(ROOT, create.environment.CHAT_WEB_CODE);
    expect(existsSync(zip)).toBe(true);
    expect(path.basename(zip)).toBe(path.basename(bundles.chat!.web!.zipPath));
    const redis = only(doc, 'tencentcloud_redis_instance').id;
    expect(create.environment).toMatchObject({
      CHAT_WEB_CODE_HASH: bundles.chat!.web!.hash,
      CHAT_WEB_MEMORY_MB: '128',
      CHAT_WEB_TIMEOUT_SECONDS: '900',
      CHAT_WEB_IDLE_TIMEOUT_SECONDS: '600',
      CHAT_WEB_VPC_ID: `\${tencentcloud_vpc.${only(doc, 'tencentcloud_vpc').id}.id}`,
      CHAT_WEB_SUBNET_ID: `\${tencentcloud_subnet.${only(doc, 'tencentcloud_subnet').id}.id}`,
      CHAT_WEB_ENV_REDIS_HOST: `\${tencentcloud_redis_instance.${redis}.ip}`,
      CHAT_WEB_ENV_REDIS_PORT: `\${tencentcloud_redis_instance.${redis}.port}`,
      CHAT_WEB_ENV_IDLE_TIMEOUT_SECONDS: '600',
      CHAT_WEB_ENV_HISTORY_SIZE: '100',
      CHAT_WEB_ENV_PRESENCE_LIMIT: '100',
      // The name of the variable holding the secret, not the secret: Terraform would silence a provisioner given one.
      CHAT_WEB_SECRET_REDIS_PASSWORD: 'CHAT_REDIS_PASSWORD',
    });
    expect(JSON.stringify(fn.body.provisioner)).not.toContain('${var.');
    expect(fn.body.depends_on).toEqual([`tencentcloud_redis_instance.${redis}`]);
  });

  it('updates the function from a second resource whose triggers are the code hash and the configuration, secrets included', () => {
    const { fn, config: cfg } = steps(doc);
    expect(exec(cfg.body).command).toBe('node --import tsx scripts/web-function.ts update');
    expect(exec(cfg.body, 'destroy')).toBeUndefined();
    expect(exec(cfg.body).environment).toEqual(exec(fn.body).environment);
    const { CHAT_WEB_CODE: _path, ...rest } = exec(fn.body).environment;
    const identity = Object.keys(fn.body.triggers_replace);
    expect(cfg.body.triggers_replace).toEqual({
      ...Object.fromEntries(Object.entries(rest).filter(([k]) => !identity.includes(k))),
      // The value, so that a new password updates the function.
      CHAT_WEB_SECRET_REDIS_PASSWORD: '${var.CHAT_REDIS_PASSWORD}',
    });
    expect(cfg.body.depends_on).toEqual([`terraform_data.${fn.id}`]);
  });

  it('changes only the update step for a new bundle or idle timeout, so the function is updated in place, never recreated', async () => {
    const web2 = await writeWebBundle(path.join(dir, 'chat2'), 'console.log("v2");\n');
    const c = clone(config);
    c.stages.dev.idleTimeoutSeconds = 900;
    const { docs } = await synth(parseConfig(c), { chat: withWeb(bundles.chat!, web2) }, { selection: { app: 'chat', stage: 'dev', mode: 'web' } });
    const after = steps(docs['chat-dev-gz']!);
    const before = steps(doc);
    expect(withoutMetadata(after.fn.body.triggers_replace)).toEqual(withoutMetadata(before.fn.body.triggers_replace));
    expect(after.config.body.triggers_replace).toMatchObject({
      CHAT_WEB_CODE_HASH: web2.hash,
      CHAT_WEB_IDLE_TIMEOUT_SECONDS: '900',
      CHAT_WEB_ENV_IDLE_TIMEOUT_SECONDS: '900',
    });
    expect(after.config.body.triggers_replace.CHAT_WEB_CODE_HASH).not.toBe(before.config.body.triggers_replace.CHAT_WEB_CODE_HASH);
    // The release resource never varies: replacing it would unrelease first.
    expect(withoutMetadata(only(docs['chat-dev-gz']!, 'tencentcloud_api_gateway_service_release').body)).toEqual(
      withoutMetadata(only(doc, 'tencentcloud_api_gateway_service_release').body),
    );
  });

  it('releases again after any change to the API, from a step that runs after the release and the update', () => {
    const { release, config: cfg } = steps(doc);
    const api = only(doc, 'tencentcloud_api_gateway_api').id;
    const service = only(doc, 'tencentcloud_api_gateway_service').id;
    expect(exec(release.body).command).toBe('node --import tsx scripts/web-function.ts release');
    expect(exec(release.body).environment).toEqual({
      CHAT_STACK: 'chat-dev-gz',
      CHAT_REGION: 'ap-guangzhou',
      CHAT_SERVICE_ID: `\${tencentcloud_api_gateway_service.${service}.id}`,
      CHAT_API_ID: `\${tencentcloud_api_gateway_api.${api}.id}`,
      CHAT_ENVIRONMENT: 'release',
      CHAT_WEB_FUNCTION: 'chat-dev-gz-web',
      CHAT_NAMESPACE: 'default',
      CHAT_CLIENT_URL: `wss://\${tencentcloud_api_gateway_service.${service}.outer_sub_domain}/release/`,
    });
    expect(release.body.lifecycle.replace_triggered_by).toEqual([`tencentcloud_api_gateway_api.${api}`]);
    expect(release.body.depends_on).toEqual([expect.stringMatching(/^tencentcloud_api_gateway_service_release\./), `terraform_data.${cfg.id}`]);
  });

  it('gives the function the admission secret by name when the stage requires admission', async () => {
    const c = clone(config);
    c.stages.prod.redis = { zones: { 'ap-shanghai': 'ap-shanghai-2' } };
    const { docs } = await synth(parseConfig(c), bundles, { selection: { app: 'chat', stage: 'prod', region: 'ap-shanghai', mode: 'web' } });
    const prod = docs['chat-prod-sh']!;
    expect(validateTerraformJson(prod, schema)).toEqual([]);
    const { config: cfg } = steps(prod);
    expect(exec(cfg.body).environment).toMatchObject({
      CHAT_WEB_SECRET_ADMISSION_SECRET: 'CHAT_PROD_ADMISSION_SECRET',
      CHAT_WEB_ENV_ADMISSION_REQUIRED: 'true',
      CHAT_WEB_MEMORY_MB: '256',
    });
    expect(cfg.body.triggers_replace.CHAT_WEB_SECRET_ADMISSION_SECRET).toBe('${var.CHAT_PROD_ADMISSION_SECRET}');
    expect(only(prod, 'tencentcloud_subnet').body.availability_zone).toBe('ap-shanghai-2');
    expect(Object.keys(prod.variable).sort()).toEqual(['CHAT_PROD_ADMISSION_SECRET', 'CHAT_REDIS_PASSWORD']);
  });

  it('is chosen per stage: a stage in web mode beside one in event mode', async () => {
    const c = clone(config);
    c.stages.dev.mode = 'web';
    const { docs } = await synth(parseConfig(c), bundles, { selection: { app: 'chat' } });
    expect(Object.keys(all(docs['chat-dev-gz']!, 'tencentcloud_redis_instance'))).toHaveLength(1);
    expect(Object.keys(all(docs['chat-prod-gz']!, 'tencentcloud_scf_function'))).toHaveLength(3);
    expect(docs['chat-prod-gz']!.resource.tencentcloud_redis_instance).toBeUndefined();
  });

  it('is refused without a web bundle, naming the app', async () => {
    await expect(synth(config, { chat: { ...bundles.chat!, web: undefined } }, { selection: { app: 'chat', stage: 'dev', mode: 'web' } })).rejects.toThrow(
      /no web bundle was built for app "chat", which chat-dev-gz runs in web mode/,
    );
  });

  it('leaves event-mode stacks as they were, whatever the web settings say', async () => {
    const { docs: plain } = await synth(config, bundles, { selection: { app: 'chat', stage: 'dev' } });
    const c = clone(config);
    c.defaults.redis = { typeId: 17, memSizeMb: 2048, replicas: 2, passwordEnv: 'OTHER_PASSWORD', zones: { 'ap-shanghai': 'ap-shanghai-2' } };
    c.defaults.web = { timeoutSeconds: 60 };
    c.defaults.vpc = { cidr: '192.168.0.0/16', subnetCidr: '192.168.3.0/24' };
    c.stages.dev.mode = 'event';
    const { docs: configured } = await synth(parseConfig(c), bundles, { selection: { app: 'chat', stage: 'dev' } });
    expect(JSON.stringify(configured['chat-dev-gz'])).toBe(JSON.stringify(plain['chat-dev-gz']));
  });
});

describe('the validator on provisioners', () => {
  const base = (provisioner: unknown, extra: Record<string, unknown> = {}) => ({
    terraform: { required_providers: { tencentcloud: { source: 'tencentcloudstack/tencentcloud', version: '~> 1.82' } } },
    provider: { tencentcloud: [{ region: 'ap-guangzhou' }] },
    resource: {
      tencentcloud_vpc: { v: { name: 'v', cidr_block: '10.0.0.0/16' } },
      terraform_data: { hook: { triggers_replace: { name: 'x' }, provisioner, ...extra } },
    },
  });

  it('takes self in a provisioner and refuses other references in a destroy-time one', () => {
    const ok = base([
      { 'local-exec': { command: 'make', environment: { A: '${self.triggers_replace.name}', B: '${tencentcloud_vpc.v.id}' } } },
      { 'local-exec': { when: 'destroy', command: 'unmake', environment: { A: '${self.triggers_replace.name}' } } },
    ]);
    expect(validateTerraformJson(ok, schema)).toEqual([]);
    const bad = base([{ 'local-exec': { when: 'destroy', command: 'unmake ${var.x}', environment: { B: '${tencentcloud_vpc.v.id}' } } }]);
    const issues = validateTerraformJson(bad, schema);
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          code: 'BAD_REFERENCE',
          path: 'resource.terraform_data.hook.provisioner[0].local-exec.environment.B',
          message: expect.stringMatching(/^a destroy-time provisioner may refer only to self, count\.index and each\.key, not tencentcloud_vpc\.v\.id/),
        }),
        expect.objectContaining({ code: 'BAD_REFERENCE', path: 'resource.terraform_data.hook.provisioner[0].local-exec.command' }),
      ]),
    );
  });

  it('refuses self outside provisioners', () => {
    const doc = base([], { input: '${self.id}' });
    expect(validateTerraformJson(doc, schema)).toEqual([
      expect.objectContaining({
        code: 'BAD_REFERENCE',
        path: 'resource.terraform_data.hook.input',
        message: "self.id: self is only available in a resource's provisioner and connection blocks",
      }),
    ]);
  });
});
