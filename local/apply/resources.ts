/**
 * Each resource type the stack uses, as the provider creates, reads, updates and deletes it, on
 * the local services. Where the provider leaves something out (the WebSocket bindings of an
 * SCF-backed API), so does this.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { CosStore } from '../cos/thread';
import type { LocalGateway } from '../gateway/gateway';
import type { ApiDef, FunctionRef } from '../gateway/model';
import type { LocalScf } from '../scf/runtime';
import type { Body } from './state';

/**
 * The Redis a web-mode stack's `tencentcloud_redis_instance` stands for: one per stack, started
 * (or found running) on demand, requiring `password` when one is given. The local cloud's
 * `local/redis/` implements it; event-mode stacks need none.
 */
export interface RedisService {
  ensure(stack: string, request: { password?: string }): Promise<{ host: string; port: number }>;
}

/** The local services a stack is applied to. */
export interface LocalServices {
  cos: CosStore;
  scf: LocalScf;
  gateway: LocalGateway;
  /** Only web-mode stacks declare Redis; applying one without it is an error naming the resource. */
  redis?: RedisService;
}

export interface ResourceContext {
  services: LocalServices;
  stackDir: string;
  /** The stack's name (its folder's). */
  stack: string;
  appId: string;
  address: string;
  log: (line: string) => void;
  /**
   * Runs the resource's provisioners of one kind, as Terraform does: `create` ones once it is
   * created, `destroy` ones before it is destroyed; `self` is the resource's attributes then.
   */
  runProvisioners: (when: 'create' | 'destroy', self: Body) => Promise<void>;
}

/** What a read finds: the arguments and attributes the provider would store, or gone. */
export type ReadResult = { args: Body; attributes: Body } | 'gone';

export interface ResourceType {
  create(args: Body, ctx: ResourceContext): Promise<Body>;
  /** Refresh: the live arguments and attributes over the stored ones. Absent: nothing to read. */
  read?(args: Body, attributes: Body, ctx: ResourceContext): ReadResult | Promise<ReadResult>;
  update(args: Body, prior: { args: Body; attributes: Body }, ctx: ResourceContext): Promise<Body>;
  delete(prior: { args: Body; attributes: Body }, ctx: ResourceContext): Promise<void>;
}

/** A cloud-like id: `<prefix>-<8 random lowercase letters and digits>`. */
function newId(prefix: string): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return `${prefix}-${[...randomBytes(8)].map((b) => alphabet[b % alphabet.length]).join('')}`;
}

const LOCAL_UIN = '100000000001';

const stateOnly = (attributes: (args: Body) => Body): ResourceType => ({
  create: async (args) => ({ ...args, ...attributes(args) }),
  update: async (args, prior) => ({ ...prior.attributes, ...args }),
  delete: async () => {},
});

function ref(args: Body, prefix: string): FunctionRef | undefined {
  const name = args[`${prefix}_name`];
  if (!name) return undefined;
  return { name, namespace: args[`${prefix}_namespace`] || 'default', qualifier: args[`${prefix}_qualifier`] || '$LATEST' };
}

const WEBSOCKET_ROLES = ['register', 'transport', 'cleanup'] as const;

/**
 * The API as the provider's Create and Update send it: for an SCF backend, no WebSocket bindings,
 * and `ServiceScfFunctionType` (`EVENT`, or `HTTP` for a web function, which the gateway hands the
 * socket itself).
 */
function apiDefOf(args: Body, apiId: string): ApiDef & { scfFunctionType?: string } {
  return {
    scfFunctionType: args.service_config_scf_function_type,
    serviceId: args.service_id,
    apiId,
    apiName: args.api_name,
    path: args.request_config_path,
    method: args.request_config_method ?? 'GET',
    protocol: args.protocol,
    serviceType: args.service_config_type,
    serviceTimeout: args.service_config_timeout ?? 5,
    scfFunction: ref(args, 'service_config_scf_function'),
    // resource_tc_api_gateway_api.go sends the nine ServiceWebsocket* fields only when the type is TSF.
    ...(args.service_config_type === 'TSF'
      ? Object.fromEntries(WEBSOCKET_ROLES.map((role) => [role, ref(args, `service_config_websocket_${role}_function`)]))
      : {}),
  };
}

function functionSpecOf(args: Body, zipPath: string) {
  return {
    name: args.name,
    namespace: args.namespace || 'default',
    zipPath,
    handler: args.handler,
    environment: args.environment ?? {},
    memoryMb: args.mem_size ?? 128,
    timeoutSeconds: args.timeout ?? 3,
    runtime: args.runtime,
  };
}

export const RESOURCE_TYPES: Readonly<Record<string, ResourceType>> = {
  tencentcloud_cos_bucket: {
    async create(args, ctx) {
      // Lifecycle expiry is not emulated: the transport function prunes and refreshes records instead.
      await ctx.services.cos.createBucket(args.bucket);
      return { ...args, id: args.bucket, cos_bucket_url: `${ctx.services.cos.endpoint}/${args.bucket}` };
    },
    update: async (args, prior) => ({ ...prior.attributes, ...args }),
    async delete(prior, ctx) {
      // Kept on disk: a local bucket's objects are the user's data, and a later apply may want them back.
      ctx.log(`  ${ctx.address}: bucket ${prior.args.bucket} left in the local COS store`);
    },
  },

  tencentcloud_cam_role: stateOnly((args) => ({ id: args.name, role_arn: `qcs::cam::uin/${LOCAL_UIN}:roleName/${args.name}` })),
  tencentcloud_cam_policy: stateOnly(() => ({ id: String(100000000 + (randomBytes(4).readUInt32BE() % 900000000)) })),
  tencentcloud_cam_role_policy_attachment: stateOnly((args) => ({ id: `${args.role_id}#${args.policy_id}` })),

  tencentcloud_scf_function: {
    async create(args, ctx) {
      await ctx.services.scf.deploy(functionSpecOf(args, path.resolve(ctx.stackDir, args.zip_file)));
      return { ...args, id: `${args.namespace || 'default'}+${args.name}`, namespace: args.namespace || 'default' };
    },
    read(args, attributes, ctx) {
      const live = ctx.services.scf.getFunction(args.name, args.namespace || 'default');
      if (!live) return 'gone';
      const read = { handler: live.handler, environment: live.environment, mem_size: live.memoryMb, timeout: live.timeoutSeconds, runtime: live.runtime };
      return { args: { ...args, ...read }, attributes: { ...attributes, ...read } };
    },
    async update(args, prior, ctx) {
      // UpdateFunctionCode when the zip or handler changed, UpdateFunctionConfiguration (the whole
      // environment) otherwise: one deploy of the new code and configuration does both.
      const live = ctx.services.scf.getFunction(args.name, args.namespace || 'default');
      const zip = args.zip_file !== prior.args.zip_file || !live ? path.resolve(ctx.stackDir, args.zip_file) : live.zipPath;
      await ctx.services.scf.deploy(functionSpecOf(args, zip));
      return { ...prior.attributes, ...args };
    },
    async delete(prior, ctx) {
      if (ctx.services.scf.getFunction(prior.args.name, prior.args.namespace || 'default')) {
        await ctx.services.scf.deleteFunction(prior.args.name, prior.args.namespace || 'default');
      }
    },
  },

  tencentcloud_api_gateway_service: {
    async create(args, ctx) {
      const serviceId = newId('service');
      ctx.services.gateway.createService({ serviceId, serviceName: args.service_name, protocol: args.protocol });
      return { ...args, ...serviceDomains(ctx), id: serviceId };
    },
    read(args, attributes, ctx) {
      const live = ctx.services.gateway.describeService(attributes.id);
      if (!live) return 'gone';
      // The domains carry the local gateway's port: a start on another port moves them.
      const read = { service_name: live.serviceName, protocol: live.protocol ?? args.protocol };
      return { args: { ...args, ...read }, attributes: { ...attributes, ...read, ...serviceDomains(ctx) } };
    },
    async update(args, prior, ctx) {
      // ModifyService, unconditionally, with name, protocol, description and net types.
      ctx.services.gateway.modifyService({ serviceId: prior.attributes.id, serviceName: args.service_name, protocol: args.protocol });
      return { ...prior.attributes, ...args };
    },
    async delete(prior, ctx) {
      if (ctx.services.gateway.describeService(prior.attributes.id)) ctx.services.gateway.deleteService(prior.attributes.id);
    },
  },

  tencentcloud_api_gateway_api: {
    async create(args, ctx) {
      const apiId = newId('api');
      ctx.services.gateway.createApi(apiDefOf(args, apiId));
      return { ...readApi(args, apiId, ctx), id: apiId };
    },
    read(args, attributes, ctx) {
      if (!ctx.services.gateway.describeApi(attributes.id)) return 'gone';
      const read = readApi(args, attributes.id, ctx);
      return { args: read, attributes: { ...attributes, ...read } };
    },
    async update(args, prior, ctx) {
      // ModifyApi with the SCF branch's fields: the live bindings are dropped, as assumed for the cloud.
      ctx.services.gateway.modifyApi(prior.attributes.id, apiDefOf(args, prior.attributes.id));
      return { ...prior.attributes, ...readApi(args, prior.attributes.id, ctx) };
    },
    async delete(prior, ctx) {
      if (ctx.services.gateway.describeApi(prior.attributes.id)) ctx.services.gateway.deleteApi(prior.attributes.id);
    },
  },

  tencentcloud_api_gateway_service_release: {
    async create(args, ctx) {
      ctx.services.gateway.releaseService(args.service_id, args.environment_name, args.release_desc);
      const version = new Date().toISOString().replace(/\D/g, '');
      return { ...args, release_version: version, id: `${args.service_id}#${args.environment_name}#${version}` };
    },
    read(args, attributes, ctx) {
      return ctx.services.gateway.isReleased(args.service_id, args.environment_name) ? { args, attributes } : 'gone';
    },
    update: async (args, prior) => ({ ...prior.attributes, ...args }),
    async delete(prior, ctx) {
      // UnReleaseService: the environment is offline until the next release.
      if (ctx.services.gateway.isReleased(prior.args.service_id, prior.args.environment_name)) {
        ctx.services.gateway.unreleaseService(prior.args.service_id, prior.args.environment_name);
      }
    },
  },

  terraform_data: {
    async create(args, ctx) {
      const values = {
        ...args,
        id: randomBytes(16)
          .toString('hex')
          .replace(/^(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-'),
        output: args.input,
      };
      await ctx.runProvisioners('create', values);
      return values;
    },
    update: async (args, prior) => ({ ...prior.attributes, ...args, output: args.input }),
    // Its destroy-time provisioners, with self as the state left of it (replacements included).
    delete: (prior, ctx) => ctx.runProvisioners('destroy', prior.attributes),
  },

  // The private network is recorded only: local services listen on loopback, where every function reaches them.
  tencentcloud_vpc: stateOnly(() => ({
    id: newId('vpc'),
    default_route_table_id: newId('rtb'),
    is_default: false,
    create_time: new Date().toISOString(),
  })),
  tencentcloud_subnet: stateOnly(() => ({ id: newId('subnet'), is_default: false, create_time: new Date().toISOString() })),
  tencentcloud_security_group: stateOnly(() => ({ id: newId('sg'), project_id: 0 })),

  tencentcloud_redis_instance: {
    async create(args, ctx) {
      const address = await redisOf(ctx).ensure(ctx.stack, { password: args.password });
      ctx.log(`  ${ctx.address}: Redis on ${address.host}:${address.port}`);
      return { ...args, ...redisAttributes(address), id: newId('crs') };
    },
    async read(args, attributes, ctx) {
      // The local Redis may listen elsewhere after a restart: the refresh sees its address, as
      // Read sees the instance's `ip` and `port`.
      if (!ctx.services.redis) return { args, attributes };
      const address = await ctx.services.redis.ensure(ctx.stack, { password: args.password });
      return { args, attributes: { ...attributes, ...redisAttributes(address) } };
    },
    async update(args, prior, ctx) {
      // ResetPassword for a new password; size, type and replicas are recorded (UpgradeInstance).
      const address = await redisOf(ctx).ensure(ctx.stack, { password: args.password });
      return { ...prior.attributes, ...args, ...redisAttributes(address) };
    },
    async delete(prior, ctx) {
      // Kept, as the bucket is: the data folder holds its data, and a later apply may want it back.
      ctx.log(`  ${ctx.address}: the local Redis of ${ctx.stack} keeps its data in the data folder`);
    },
  },
};

function redisOf(ctx: ResourceContext): RedisService {
  if (!ctx.services.redis) {
    throw new Error(`${ctx.address}: this stack declares a Redis instance (a web-mode stack), and the local cloud was started without its Redis service`);
  }
  return ctx.services.redis;
}

/** What Read stores from the instance: its private address (`ip`, from DescribeInstances' WanIp) and port. */
function redisAttributes(address: { host: string; port: number }): Body {
  return { ip: address.host, port: address.port, status: 'online', wan_address_switch: 'close' };
}

export const DATA_SOURCES: Readonly<Record<string, (args: Body, ctx: ResourceContext) => Body>> = {
  tencentcloud_user_info: (_, ctx) => ({ id: ctx.appId, app_id: ctx.appId, uin: LOCAL_UIN, owner_uin: LOCAL_UIN, name: 'local' }),
};

function serviceDomains(ctx: ResourceContext): Body {
  const host = new URL(ctx.services.gateway.origin).host;
  return { outer_sub_domain: host, internal_sub_domain: host };
}

/**
 * The API's arguments as the provider's Read stores them from DescribeApi: the modelled ones from
 * the live draft (the nine WebSocket fields included, empty when unbound), the rest as configured.
 */
function readApi(args: Body, apiId: string, ctx: ResourceContext): Body {
  const live = ctx.services.gateway.describeApi(apiId)!;
  const read: Body = {
    ...args,
    api_name: live.apiName,
    request_config_path: live.path,
    request_config_method: live.method,
    protocol: live.protocol,
    service_config_type: live.serviceType,
    service_config_timeout: live.serviceTimeout,
  };
  const fields: Array<[string, FunctionRef | undefined]> = [
    ['service_config_scf_function', live.scfFunction],
    ...WEBSOCKET_ROLES.map((role) => [`service_config_websocket_${role}_function`, live[role]] as [string, FunctionRef | undefined]),
  ];
  for (const [prefix, fn] of fields) {
    if (!(`${prefix}_name` in args) && !fn) continue;
    read[`${prefix}_name`] = fn?.name ?? '';
    read[`${prefix}_namespace`] = fn?.namespace ?? '';
    read[`${prefix}_qualifier`] = fn?.qualifier ?? '';
  }
  return read;
}
