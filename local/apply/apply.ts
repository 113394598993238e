/**
 * Applies a synthesized stack (`cdk.tf.json`) to the local cloud: the same document `cdktf deploy`
 * hands to Terraform, turned into a bucket in the local COS, functions in the local SCF, and the
 * service, API and release in the local gateway. Nothing about the local run is described twice.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { CosStore } from '../cos/thread';
import type { LocalGateway } from '../gateway/gateway';
import type { FunctionRef } from '../invoker';
import type { LocalScf } from '../scf/runtime';
import { referencesIn, resolveValue, type Reference } from './expressions';

/** The local services a stack is applied to. */
export interface LocalServices {
  cos: CosStore;
  scf: LocalScf;
  gateway: LocalGateway;
}

export interface ApplyOptions {
  /** The synthesized stack's folder (`cdktf.out/stacks/<name>`), holding `cdk.tf.json` and its assets. */
  stackDir: string;
  services: LocalServices;
  /** The local account's app id, standing in for `tencentcloud_user_info.app_id`. */
  appId: string;
  /** Where `var.NAME` values come from (NAME, then TF_VAR_NAME). @default process.env */
  env?: NodeJS.ProcessEnv;
  /**
   * Environment for `local-exec` provisioners, on top of the process's, as Terraform's own would be:
   * the credentials and the Cloud API endpoint of the local cloud.
   */
  provisionerEnv?: Record<string, string>;
  log?: (line: string) => void;
}

/** What was created, for the caller to print and test against. */
export interface AppliedStack {
  name: string;
  region: string;
  bucket: string;
  functions: FunctionRef[];
  serviceId: string;
  apiId: string;
  environment: string;
  /** ws:// URL clients connect to. */
  wsUrl: string;
  /** The reverse-push address. */
  pushUrl: string;
  /** The stack's outputs, resolved; URLs use ws:// since the local gateway speaks plain WebSocket. */
  outputs: Record<string, unknown>;
}

/** Thrown for a stack the local cloud cannot run, naming the resource and why. */
export class LocalApplyError extends Error {
  readonly code = 'ERR_LOCAL_APPLY';
  constructor(message: string) {
    super(message);
    this.name = 'LocalApplyError';
  }
}

type Body = Record<string, any>;
type Attributes = Record<string, unknown>;

interface Node {
  /** `type.name` or `data.type.name`. */
  address: string;
  type: string;
  body: Body;
  data: boolean;
}

const SUPPORTED_RESOURCES = new Set([
  'tencentcloud_cos_bucket',
  'tencentcloud_cam_role',
  'tencentcloud_cam_policy',
  'tencentcloud_cam_role_policy_attachment',
  'tencentcloud_scf_function',
  'tencentcloud_api_gateway_service',
  'tencentcloud_api_gateway_api',
  'tencentcloud_api_gateway_service_release',
  'terraform_data',
]);
const SUPPORTED_DATA = new Set(['tencentcloud_user_info']);

/** A stable local id: the same stack gets the same ids on every start. */
function localId(prefix: string, seed: string): string {
  return `${prefix}-${createHash('sha256').update(seed).digest('hex').slice(0, 8)}`;
}

function nodesOf(doc: Body): Node[] {
  const nodes: Node[] = [];
  for (const [type, byName] of Object.entries<Body>(doc.resource ?? {})) {
    if (!SUPPORTED_RESOURCES.has(type)) throw new LocalApplyError(`the local cloud does not support resource type ${type}`);
    for (const [name, body] of Object.entries<Body>(byName)) nodes.push({ address: `${type}.${name}`, type, body, data: false });
  }
  for (const [type, byName] of Object.entries<Body>(doc.data ?? {})) {
    if (!SUPPORTED_DATA.has(type)) throw new LocalApplyError(`the local cloud does not support data source ${type}`);
    for (const [name, body] of Object.entries<Body>(byName)) nodes.push({ address: `data.${type}.${name}`, type, body, data: true });
  }
  return nodes;
}

/** Orders nodes so that everything a node references or depends on comes first. */
function inDependencyOrder(nodes: Node[]): Node[] {
  const byAddress = new Map(nodes.map((n) => [n.address, n]));
  const deps = new Map<string, string[]>();
  for (const node of nodes) {
    const refs = referencesIn(node.body, node.address)
      .filter((r): r is Exclude<Reference, { kind: 'var' }> => r.kind !== 'var')
      .map((r) => (r.kind === 'data' ? `data.${r.type}.${r.name}` : `${r.type}.${r.name}`));
    deps.set(node.address, [...refs, ...((node.body.depends_on as string[] | undefined) ?? [])]);
  }
  const ordered: Node[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (address: string, from: string) => {
    const node = byAddress.get(address);
    if (!node) throw new LocalApplyError(`${from} refers to ${address}, which the stack does not declare`);
    if (state.get(address) === 'done') return;
    if (state.get(address) === 'visiting') throw new LocalApplyError(`dependency cycle through ${address}`);
    state.set(address, 'visiting');
    for (const dep of deps.get(address)!) visit(dep, address);
    state.set(address, 'done');
    ordered.push(node);
  };
  for (const node of nodes) visit(node.address, node.address);
  return ordered;
}

function ref(body: Body, field: string): FunctionRef | undefined {
  const name = body[`service_config_websocket_${field}_function_name`];
  if (!name) return undefined;
  return {
    name,
    namespace: body[`service_config_websocket_${field}_function_namespace`] || 'default',
    qualifier: body[`service_config_websocket_${field}_function_qualifier`] || '$LATEST',
  };
}

/**
 * Applies the stack. Creation is idempotent on a fresh set of services; the local cloud starts
 * them new on every run, so there is no plan/diff step.
 */
export async function applyStack(options: ApplyOptions): Promise<AppliedStack> {
  const { services, stackDir } = options;
  const env = options.env ?? process.env;
  const log = options.log ?? (() => {});
  const file = path.join(stackDir, 'cdk.tf.json');
  let doc: Body;
  try {
    doc = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new LocalApplyError(`cannot read the synthesized stack ${file}: ${(err as Error).message}`);
  }
  const stackName = path.basename(stackDir);
  const region: string = doc.provider?.tencentcloud?.[0]?.region ?? doc.provider?.tencentcloud?.region;
  if (!region) throw new LocalApplyError(`${file} configures no tencentcloud provider region`);

  const attributes = new Map<string, Attributes>();
  const lookup = (where: string) => (r: Reference): unknown => {
    if (r.kind === 'var') {
      const value = env[r.name] ?? env[`TF_VAR_${r.name}`];
      if (value === undefined) throw new LocalApplyError(`${where} needs variable ${r.name}: set the environment variable ${r.name}`);
      return value;
    }
    const address = r.kind === 'data' ? `data.${r.type}.${r.name}` : `${r.type}.${r.name}`;
    const attrs = attributes.get(address);
    if (!attrs) throw new LocalApplyError(`${where} refers to ${address} before it exists`);
    if (!(r.attribute in attrs)) throw new LocalApplyError(`${where} refers to ${address}.${r.attribute}, which the local cloud does not provide`);
    return attrs[r.attribute];
  };

  const functions: FunctionRef[] = [];
  let api: { apiId: string; serviceId: string } | undefined;
  let release: { serviceId: string; environment: string } | undefined;
  let bucket = '';

  for (const node of inDependencyOrder(nodesOf(doc))) {
    const body = resolveValue(node.body, lookup(node.address), node.address) as Body;
    const created: Attributes = { id: '' };
    switch (node.type) {
      case 'tencentcloud_user_info':
        Object.assign(created, { id: options.appId, app_id: options.appId, uin: '100000000001', owner_uin: '100000000001', name: 'local' });
        break;
      case 'tencentcloud_cos_bucket':
        // Lifecycle expiry is not emulated: stale ids are pruned by the transport function instead.
        await services.cos.createBucket(body.bucket);
        bucket = body.bucket;
        Object.assign(created, { id: body.bucket, bucket: body.bucket, cos_bucket_url: `${services.cos.endpoint}/${body.bucket}` });
        break;
      case 'tencentcloud_cam_role':
        Object.assign(created, { id: body.name, name: body.name, role_arn: `qcs::cam::uin/100000000001:roleName/${body.name}` });
        break;
      case 'tencentcloud_cam_policy':
        Object.assign(created, { id: localId('policy', body.name), name: body.name });
        break;
      case 'tencentcloud_cam_role_policy_attachment':
        Object.assign(created, { id: `${body.role_id}#${body.policy_id}` });
        break;
      case 'tencentcloud_scf_function': {
        const namespace = body.namespace || 'default';
        await services.scf.deploy({
          name: body.name,
          namespace,
          zipPath: path.resolve(stackDir, body.zip_file),
          handler: body.handler,
          environment: body.environment ?? {},
          memoryMb: body.mem_size ?? 128,
          timeoutSeconds: body.timeout ?? 3,
          runtime: body.runtime,
        });
        functions.push({ name: body.name, namespace, qualifier: '$LATEST' });
        Object.assign(created, { id: `${namespace}+${body.name}`, name: body.name, namespace });
        log(`function ${body.name} created`);
        break;
      }
      case 'tencentcloud_api_gateway_service': {
        const serviceId = localId('service', `${stackName}/${body.service_name}`);
        services.gateway.createService({ serviceId, serviceName: body.service_name, protocol: body.protocol });
        const host = new URL(services.gateway.origin).host;
        Object.assign(created, { id: serviceId, outer_sub_domain: host, internal_sub_domain: host });
        break;
      }
      case 'tencentcloud_api_gateway_api': {
        const apiId = localId('api', `${body.service_id}/${body.api_name}`);
        services.gateway.createApi({
          serviceId: body.service_id,
          apiId,
          apiName: body.api_name,
          path: body.request_config_path,
          method: body.request_config_method ?? 'GET',
          protocol: body.protocol,
          serviceType: body.service_config_type,
          serviceTimeout: body.service_config_timeout ?? 15,
          scfFunction: body.service_config_scf_function_name
            ? { name: body.service_config_scf_function_name, namespace: body.service_config_scf_function_namespace || 'default', qualifier: body.service_config_scf_function_qualifier || '$LATEST' }
            : undefined,
          // As the provider does: for an SCF backend the WebSocket bindings are not sent (only for TSF).
          ...(body.service_config_type === 'TSF'
            ? { register: ref(body, 'register'), transport: ref(body, 'transport'), cleanup: ref(body, 'cleanup') }
            : {}),
        });
        api = { apiId, serviceId: body.service_id };
        Object.assign(created, { id: apiId });
        break;
      }
      case 'tencentcloud_api_gateway_service_release':
        services.gateway.releaseService(body.service_id, body.environment_name, body.release_desc);
        release = { serviceId: body.service_id, environment: body.environment_name };
        Object.assign(created, { id: `${body.service_id}#${body.environment_name}` });
        break;
      case 'terraform_data':
        // Provisioners run when the resource is created, as Terraform runs them.
        for (const provisioner of (body.provisioner ?? []) as Body[]) await runProvisioner(provisioner, node.address, stackDir, options);
        Object.assign(created, { id: localId('data', node.address), output: body.input });
        break;
    }
    attributes.set(node.address, created);
  }

  if (!api || !release) throw new LocalApplyError(`${file} declares no API Gateway API and release`);
  const pushUrl = services.gateway.pushUrl(api.apiId);

  const outputs: Record<string, unknown> = {};
  for (const [name, output] of Object.entries<Body>(doc.output ?? {})) {
    const value = resolveValue(output.value, lookup(`output.${name}`), `output.${name}`);
    outputs[name] = typeof value === 'string' ? value.replace(/^wss:\/\//, 'ws://') : value;
  }
  return {
    name: stackName,
    region,
    bucket,
    functions,
    serviceId: api.serviceId,
    apiId: api.apiId,
    environment: release.environment,
    wsUrl: services.gateway.wsUrl(api.serviceId, release.environment),
    pushUrl,
    outputs,
  };
}

/** Runs a `local-exec` provisioner as Terraform does: `/bin/sh -c <command>` in its working_dir. */
async function runProvisioner(provisioner: Body, address: string, stackDir: string, options: ApplyOptions): Promise<void> {
  const [[type, config]] = Object.entries(provisioner) as [[string, Body]];
  if (type !== 'local-exec') throw new LocalApplyError(`${address}: the local cloud runs only local-exec provisioners, not ${type}`);
  const cwd = path.resolve(stackDir, config.working_dir ?? '.');
  const log = options.log ?? (() => {});
  log(`${address}: running "${config.command}"`);
  const env = { ...process.env, ...options.provisionerEnv, ...(config.environment ?? {}) };
  const output: string[] = [];
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', config.command], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const relay = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) {
        if (!line.trim() || /npm warn Unknown user config/.test(line)) continue;
        output.push(line);
        log(`  ${line}`);
      }
    };
    child.stdout.on('data', relay);
    child.stderr.on('data', relay);
    child.on('error', reject);
    child.on('close', (status) => resolve(status ?? 1));
  });
  if (code !== 0) throw new LocalApplyError(`${address}: local-exec "${config.command}" failed with exit code ${code}:\n${output.slice(-20).join('\n')}`);
}
