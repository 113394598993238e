/**
 * Applies a synthesized stack (`cdk.tf.json`) to the local cloud as `cdktf deploy` would: the same
 * document Terraform gets, diffed against the state of the last apply (kept in the data folder),
 * then, per resource, created, updated in place, replaced or left alone with the provider's own
 * rules (provider-rules.ts, resources.ts). A `terraform_data` is replaced, and its create-time
 * `local-exec` run, when its triggers change or a resource in its `replace_triggered_by` changes;
 * its destroy-time ones run when it is replaced or destroyed, with `self` as what is left of it.
 * A web-mode stack (its API's backend an SCF function of type HTTP) gets its Redis from the
 * services' `redis`, and its web function from the provisioners, which create it through the local
 * Cloud API. Nothing about the local run is described twice.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { FunctionRef } from '../invoker';
import { ROLES, type Role } from '../../stacks/roles';
import { referencesIn, resolveValue, type Reference } from './expressions';
import { UNKNOWN, argumentsOf, containsUnknown, planResource, RefusedChangeError, type PlannedChange } from './plan';
import { DATA_SOURCES, RESOURCE_TYPES, type LocalServices, type ResourceContext } from './resources';
import { readAppliedState, writeAppliedState, type AppliedState, type Body } from './state';

export type { LocalServices } from './resources';
export type { PlannedChange } from './plan';

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
  /**
   * The state of the last apply, read before and written after each resource's action. Without
   * it every resource is created, as on a first deploy.
   */
  stateFile?: string;
  log?: (line: string) => void;
}

/** What was applied, in either mode. */
interface AppliedStackBase {
  name: string;
  region: string;
  /** The registry bucket; empty in web mode, which has none. */
  bucket: string;
  /** The stack's `tencentcloud_scf_function`s, and the web function in web mode. */
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
  /** What this apply did to each resource, no-ops included, in the order done. */
  changes: PlannedChange[];
}

/** An event-mode stack: three functions bound to the gateway's events. */
export interface AppliedEventStack extends AppliedStackBase {
  mode: 'event';
  /** The function bound to each part of the WebSocket protocol. */
  roles: Record<Role, FunctionRef>;
}

/** A web-mode stack: one web function the gateway hands each socket to, and its Redis. */
export interface AppliedWebStack extends AppliedStackBase {
  mode: 'web';
  /** The API's backend (`service_config_scf_function_*`), created by the stack's provisioners. */
  webFunction: FunctionRef;
  /** Where the stack's Redis listens (its `tencentcloud_redis_instance`'s `ip` and `port`). */
  redis?: { host: string; port: number };
}

/** What was applied, for the caller to print and test against. */
export type AppliedStack = AppliedEventStack | AppliedWebStack;

/** Thrown for a stack the local cloud cannot run, naming the resource and why. */
export class LocalApplyError extends Error {
  readonly code = 'ERR_LOCAL_APPLY';
  constructor(message: string) {
    super(message);
    this.name = 'LocalApplyError';
  }
}

type Attributes = Record<string, unknown>;

interface Node {
  /** `type.name` or `data.type.name`. */
  address: string;
  type: string;
  body: Body;
  data: boolean;
}

function nodesOf(doc: Body): Node[] {
  const nodes: Node[] = [];
  for (const [type, byName] of Object.entries<Body>(doc.resource ?? {})) {
    if (!RESOURCE_TYPES[type]) throw new LocalApplyError(`the local cloud does not support resource type ${type}`);
    for (const [name, body] of Object.entries<Body>(byName)) nodes.push({ address: `${type}.${name}`, type, body, data: false });
  }
  for (const [type, byName] of Object.entries<Body>(doc.data ?? {})) {
    if (!DATA_SOURCES[type]) throw new LocalApplyError(`the local cloud does not support data source ${type}`);
    for (const [name, body] of Object.entries<Body>(byName)) nodes.push({ address: `data.${type}.${name}`, type, body, data: true });
  }
  return nodes;
}

/** `lifecycle.replace_triggered_by`, as bare addresses. */
function replaceTriggeredBy(body: Body): string[] {
  const lifecycle = Array.isArray(body.lifecycle) ? body.lifecycle[0] : body.lifecycle;
  const entries = (lifecycle?.replace_triggered_by ?? []) as unknown[];
  return entries.map((entry) => {
    if (typeof entry !== 'string' || entry.includes('${'))
      throw new LocalApplyError(`replace_triggered_by takes bare references such as "terraform_data.x", not ${JSON.stringify(entry)}`);
    return entry;
  });
}

/** Orders nodes so that everything a node references or depends on comes first. */
function inDependencyOrder(nodes: Node[]): Node[] {
  const byAddress = new Map(nodes.map((n) => [n.address, n]));
  const deps = new Map<string, string[]>();
  for (const node of nodes) {
    // Arguments and provisioners; lifecycle holds bare addresses, which are not `${…}` references.
    const refs = referencesIn([argumentsOf(node.body), node.body.provisioner ?? []], node.address)
      .filter((r): r is Extract<Reference, { kind: 'resource' | 'data' }> => r.kind === 'resource' || r.kind === 'data')
      .map((r) => (r.kind === 'data' ? `data.${r.type}.${r.name}` : `${r.type}.${r.name}`));
    const triggers = replaceTriggeredBy(node.body).map((t) => t.split('.').slice(0, 2).join('.'));
    deps.set(node.address, [...refs, ...triggers, ...((node.body.depends_on as string[] | undefined) ?? [])]);
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

/** Arguments whose configured value reads a variable: sensitive in the stack, never printed. */
function sensitiveArguments(body: Body): Set<string> {
  return new Set(
    Object.entries(argumentsOf(body))
      .filter(([, v]) => /\$\{var\./.test(JSON.stringify(v)))
      .map(([k]) => k),
  );
}

const VERB: Record<PlannedChange['action'], string> = {
  create: 'create',
  update: 'update in place',
  replace: 'replace',
  delete: 'destroy',
  'no-op': 'no change',
};

/**
 * Applies the stack: refresh (read what exists), plan (diff against the state of the last apply),
 * then the planned actions in dependency order, one log line per resource that changes, or
 * `no changes`. The state is saved after every action, so an apply stopped half-way resumes.
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
  const nodes = inDependencyOrder(nodesOf(doc));
  // The local cloud serves one WebSocket API per stack, as the stacks declare it: checked before
  // anything is touched.
  const one = (type: string) => {
    const found = nodes.filter((n) => n.type === type && !n.data);
    if (found.length !== 1) throw new LocalApplyError(`${file} declares ${found.length} ${type} resources; the local cloud runs a stack with exactly one`);
    return found[0]!;
  };
  const apiNode = one('tencentcloud_api_gateway_api');
  const releaseNode = one('tencentcloud_api_gateway_service_release');
  const state: AppliedState = readAppliedState(options.stateFile, stackName);
  const save = () => writeAppliedState(options.stateFile, state);
  // Terraform's own environment holds the variables it was given (TF_VAR_<name>), and provisioners inherit it.
  const variableEnv = Object.fromEntries(
    Object.keys(doc.variable ?? {}).flatMap((name) => {
      const value = env[name] ?? env[`TF_VAR_${name}`];
      return value === undefined ? [] : [[`TF_VAR_${name}`, value]];
    }),
  );
  const context = (address: string): ResourceContext => ({
    services,
    stackDir,
    stack: stackName,
    appId: options.appId,
    address,
    log,
    // Provisioners run as Terraform runs them: create-time ones once the resource is created, with
    // the values then known; destroy-time ones before it goes, from the configuration, so that a
    // resource removed from the stack is destroyed without them ("Destroy-time provisioners can
    // only run if they remain in the configuration", Terraform's documentation).
    runProvisioners: async (when, self) => {
      const body = nodes.find((n) => n.address === address)?.body ?? {};
      for (const provisioner of (body.provisioner ?? []) as Body[]) {
        const [[, config]] = Object.entries(provisioner) as [[string, Body]];
        if ((config.when ?? 'create') !== when) continue;
        const resolved = resolveValue(provisioner, lookup(attributes, address), address, (p) => selfValue(self, p, address)) as Body;
        await runProvisioner(resolved, address, stackDir, {
          ...options,
          provisionerEnv: { ...variableEnv, ...options.provisionerEnv },
        });
      }
    },
  });

  // Refresh: what the provider's Read finds now. A resource gone from the cloud is planned anew.
  for (const [address, prior] of Object.entries(state.resources)) {
    const type = RESOURCE_TYPES[prior.type];
    const read = await type?.read?.(prior.args, prior.attributes, context(address));
    if (read === 'gone') {
      log(`${address}: no longer exists; it will be created again`);
      delete state.resources[address];
    } else if (read) {
      prior.args = read.args;
      prior.attributes = read.attributes;
    }
  }

  // Values a reference reads: while planning, those of resources about to be created are unknown.
  const attributes = new Map<string, Attributes>();
  const lookup =
    (values: Map<string, Attributes>, where: string) =>
    (r: Reference): unknown => {
      if (r.kind === 'var') {
        const value = env[r.name] ?? env[`TF_VAR_${r.name}`];
        if (value === undefined) throw new LocalApplyError(`${where} needs variable ${r.name}: set the environment variable ${r.name}`);
        return value;
      }
      const address = r.kind === 'data' ? `data.${r.type}.${r.name}` : `${r.type}.${r.name}`;
      const attrs = values.get(address);
      if (!attrs) throw new LocalApplyError(`${where} refers to ${address} before it exists`);
      if (!(r.attribute in attrs)) throw new LocalApplyError(`${where} refers to ${address}.${r.attribute}, which the local cloud does not provide`);
      return attrs[r.attribute];
    };

  // Plan.
  const planned = new Map<string, PlannedChange>();
  const planValues = new Map<string, Attributes>();
  for (const node of nodes) {
    if (node.data) {
      const values = DATA_SOURCES[node.type]!(
        resolveValue(argumentsOf(node.body), lookup(planValues, node.address), node.address) as Body,
        context(node.address),
      );
      planValues.set(node.address, values);
      attributes.set(node.address, values);
      continue;
    }
    const wanted = resolveValue(argumentsOf(node.body), lookup(planValues, node.address), node.address) as Body;
    const prior = state.resources[node.address];
    let change: PlannedChange;
    try {
      change = planResource({
        address: node.address,
        type: node.type,
        wanted,
        replaceTriggeredBy: replaceTriggeredBy(node.body),
        sensitive: sensitiveArguments(node.body),
        prior,
        planned,
      });
    } catch (err) {
      if (err instanceof RefusedChangeError) throw new LocalApplyError(err.message);
      throw err;
    }
    planned.set(node.address, change);
    // What dependents see while planning: computed attributes of a new object are unknown.
    const known = Object.fromEntries(Object.entries(wanted).filter(([, v]) => !containsUnknown(v)));
    planValues.set(
      node.address,
      change.action === 'create' || change.action === 'replace'
        ? new Proxy({ ...known }, { get: (t, k) => (k in t ? t[k as string] : UNKNOWN), has: () => true })
        : { ...prior!.attributes, ...wanted },
    );
  }
  const orphans = Object.keys(state.resources).filter((address) => !planned.has(address));

  const changes = [...planned.values()].filter((c) => c.action !== 'no-op');
  const count = (action: PlannedChange['action']) => changes.filter((c) => c.action === action).length;
  if (changes.length === 0 && orphans.length === 0) {
    log(`${stackName}: no changes`);
  } else {
    log(`${stackName}: ${count('create')} to add, ${count('update')} to change, ${count('replace')} to replace, ${orphans.length} to destroy`);
  }

  // Apply: orphans first (dependents before what they depend on), then the plan in order.
  const done: PlannedChange[] = [];
  for (const address of orphans.reverse()) {
    const prior = state.resources[address]!;
    log(`  ${address}: destroy (no longer in the stack)${prior.type === 'terraform_data' ? '; its destroy-time provisioners, if it had any, do not run' : ''}`);
    await RESOURCE_TYPES[prior.type]!.delete(prior, context(address));
    delete state.resources[address];
    save();
    done.push({ address, type: prior.type, action: 'delete', reasons: ['no longer in the stack'] });
  }
  for (const node of nodes) {
    if (node.data) continue;
    const change = planned.get(node.address)!;
    const args = resolveValue(argumentsOf(node.body), lookup(attributes, node.address), node.address) as Body;
    const type = RESOURCE_TYPES[node.type]!;
    const prior = state.resources[node.address];
    const ctx = context(node.address);
    if (change.action !== 'no-op') log(`  ${node.address}: ${VERB[change.action]}${change.reasons.length ? ` (${change.reasons.join('; ')})` : ''}`);
    let values: Attributes;
    switch (change.action) {
      case 'no-op':
        values = { ...prior!.attributes };
        break;
      case 'create':
        values = await type.create(args, ctx);
        break;
      case 'update':
        values = await type.update(args, prior!, ctx);
        break;
      default:
        // Terraform's default for a replacement: destroy, then create.
        await type.delete(prior!, ctx);
        delete state.resources[node.address];
        save();
        values = await type.create(args, ctx);
    }
    attributes.set(node.address, values);
    if (change.action !== 'no-op') {
      // The configured arguments, as the provider read them back after its call.
      const stored = Object.fromEntries(Object.keys(args).map((key) => [key, key in values ? values[key] : args[key]]));
      state.resources = { ...state.resources, [node.address]: { type: node.type, args: stored, configKeys: Object.keys(args), attributes: values } };
      save();
    }
    done.push(change);
  }
  // Keep the state in dependency order, as it was applied.
  state.resources = Object.fromEntries(nodes.filter((n) => state.resources[n.address]).map((n) => [n.address, state.resources[n.address]!]));
  save();

  const api = attributes.get(apiNode.address)!;
  const release = attributes.get(releaseNode.address)!;
  const bucketNode = nodes.find((n) => n.type === 'tencentcloud_cos_bucket' && !n.data);
  const functions: FunctionRef[] = nodes
    .filter((n) => n.type === 'tencentcloud_scf_function')
    .map((n) => attributes.get(n.address)!)
    .map((f) => ({ name: String(f.name), namespace: String(f.namespace ?? 'default'), qualifier: '$LATEST' }));
  const apiArgs = resolveValue(argumentsOf(apiNode.body), lookup(attributes, apiNode.address), apiNode.address) as Body;

  const outputs: Record<string, unknown> = {};
  for (const [name, output] of Object.entries<Body>(doc.output ?? {})) {
    const value = resolveValue(output.value, lookup(attributes, `output.${name}`), `output.${name}`);
    outputs[name] = typeof value === 'string' ? value.replace(/^wss:\/\//, 'ws://') : value;
  }
  const serviceId = String(api.service_id);
  const environment = String(release.environment_name);
  const common = {
    name: stackName,
    region,
    bucket: bucketNode ? String(attributes.get(bucketNode.address)!.bucket) : '',
    serviceId,
    apiId: String(api.id),
    environment,
    wsUrl: services.gateway.wsUrl(serviceId, environment),
    pushUrl: services.gateway.pushUrl(String(api.id)),
    outputs,
    changes: done,
  };
  if (apiArgs.service_config_scf_function_type === 'HTTP') {
    // Web mode: the API's backend is the web function, which the provisioners created through the Cloud API.
    const webFunction: FunctionRef = {
      name: String(apiArgs.service_config_scf_function_name),
      namespace: String(apiArgs.service_config_scf_function_namespace || 'default'),
      qualifier: String(apiArgs.service_config_scf_function_qualifier || '$LATEST'),
    };
    if (!services.scf.getFunction(webFunction.name, webFunction.namespace)) {
      throw new LocalApplyError(
        `${apiNode.address}'s backend is the web function ${webFunction.name}, which the SCF runtime does not have: the stack's provisioners create it (scripts/web-function.ts)`,
      );
    }
    const redisNode = nodes.find((n) => n.type === 'tencentcloud_redis_instance');
    const redisValues = redisNode ? attributes.get(redisNode.address) : undefined;
    return {
      ...common,
      mode: 'web',
      functions: [...functions, webFunction],
      webFunction,
      ...(redisValues ? { redis: { host: String(redisValues.ip), port: Number(redisValues.port) } } : {}),
    };
  }
  // Which function plays which part: the API's WebSocket bindings as the stack declares them.
  const roles = Object.fromEntries(
    ROLES.map((role) => {
      const name = apiArgs[`service_config_websocket_${role}_function_name`];
      if (!name) throw new LocalApplyError(`${apiNode.address} declares no ${role} function (service_config_websocket_${role}_function_name)`);
      return [
        role,
        {
          name: String(name),
          namespace: String(apiArgs[`service_config_websocket_${role}_function_namespace`] || 'default'),
          qualifier: String(apiArgs[`service_config_websocket_${role}_function_qualifier`] || '$LATEST'),
        },
      ];
    }),
  ) as Record<Role, FunctionRef>;
  return { ...common, mode: 'event', functions, roles };
}

/** `self.a.b` in a provisioner: the resource's attribute `a`, and key `b` inside it. */
function selfValue(self: Body, path: string[], where: string): unknown {
  let value: unknown = self;
  for (const key of path) {
    if (value === null || typeof value !== 'object' || !(key in (value as Body))) {
      throw new LocalApplyError(`${where} refers to self.${path.join('.')}, which it does not have`);
    }
    value = (value as Body)[key];
  }
  return value;
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
