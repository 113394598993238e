/**
 * The local cloud: the synthesized stack running on one machine. Synthesizes the selected stack,
 * starts the local services (services.ts: each with what it held when last stopped), applies the
 * stack to them as a re-deploy would, and serves the chat page. A web-mode stack (`--mode web`,
 * or `mode: "web"` in the configuration) also gets a real redis-server, which its apply starts.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkAdmissionSecrets } from '../config/admission';
import { loadConfig } from '../config/load';
import type { AppConfig, Mode } from '../config/schema';
import { defaultApp, targetsFor, type Target } from '../config/select';
import { bundleApp, ROLES, type AppBundles, type Role } from '../scripts/bundle';
import { generateBindings } from '../scripts/gen-bindings';
import { applyStack, type AppliedStack } from './apply/apply';
import { makePrivateDir } from './cos/private-files';
import { loadLocalCredentials } from './credentials';
import { readJsonFile, writePrivateJsonFile } from './json-file';
import { findRedisServer, type RedisServer } from './redis/server';
import { LocalServices } from './services';
import type { GatewayLimits } from './gateway/limits';
import { WebServer } from './web-server';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The local account's app id (`tencentcloud_user_info.app_id`): any 10 digits do. */
export const LOCAL_APP_ID = '1250000000';

export interface LocalCloudOptions {
  /** Folder for objects, unpacked code and synth output. @default `.data` in the project */
  dataDir?: string;
  /** Which app of the configuration to run. @default its first (the chat) */
  app?: string;
  /** @default the configuration's first stage */
  stage?: string;
  /** @default the stage's first region */
  region?: string;
  /** `event` or `web`, over what the configuration says for the app and stage. */
  mode?: Mode;
  /** 0 picks a free port. @default page 3000, gateway 3001, COS 3002, Cloud API 3003 */
  ports?: { page?: number; gateway?: number; cos?: number; cloudApi?: number };
  /** Gateway limits beyond the defaults (seed 002's numbers). */
  limits?: Partial<GatewayLimits>;
  /** @default 10 */
  maxInstancesPerFunction?: number;
  /** Web mode: instances (processes, one per connection) running at once. */
  maxWebInstances?: number;
  /** Web mode: the `redis-server` binary, a path or a name on the PATH. @default `redis-server` */
  redisBinary?: string;
  /** Where the function zips are built. @default dist/functions */
  buildDir?: string;
  /** @default config/app.json */
  config?: AppConfig;
  /** Variables for `var.*` in the stack, e.g. the admission secret. @default process.env */
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
  /** Leaves out the per-connection and per-invocation lines (functions log warnings only). */
  quiet?: boolean;
}

/** Where everything is once started. */
export interface LocalEndpoints {
  stack: string;
  mode: Mode;
  /** ws:// URL of the chat. */
  wsUrl: string;
  /** The chat page. */
  pageUrl: string;
  /** The gateway's reverse-push address; empty in web mode, where each instance holds its socket. */
  pushUrl: string;
  /** Web mode: where the stack's Redis listens. */
  redis?: { host: string; port: number };
  cosEndpoint: string;
  /** The local Cloud API, as `httpProfile.endpoint` takes it. */
  cloudApiEndpoint: string;
  applied: AppliedStack;
}

export const DEFAULT_PORTS = { page: 3000, gateway: 3001, cos: 3002, cloudApi: 3003 };

/** Runs one stack of the configuration on this machine. */
export class LocalCloud {
  private services?: LocalServices;
  private web?: WebServer;
  private bundles?: AppBundles;
  private applied?: AppliedStack;
  readonly target: Target;
  readonly dataDir: string;
  private readonly config: AppConfig;
  private readonly log: (line: string) => void;

  constructor(private readonly options: LocalCloudOptions = {}) {
    this.config = options.config ?? loadConfig();
    const app = options.app ?? defaultApp(this.config);
    const stage = options.stage ?? Object.keys(this.config.stages)[0];
    const region = options.region ?? this.config.stages[stage]?.regions[0];
    [this.target] = targetsFor(this.config, { app, stage, region, mode: options.mode });
    this.dataDir = path.resolve(options.dataDir ?? path.join(ROOT, '.data'));
    const log = options.log ?? ((line: string) => console.log(line));
    // Routine lines: one per connection, open or closed (in web mode also its instance's cold start and normal end).
    const routine = /^(connected|closed) |^\[[^\]]+\] (cold start: |invocation ended with status 200:)/;
    this.log = options.quiet ? (line) => (routine.test(line) ? undefined : log(line)) : log;
  }

  /** Builds, synthesizes, starts every service and applies the stack. */
  async start(): Promise<LocalEndpoints> {
    checkAdmissionSecrets([this.target], this.options.env ?? process.env);
    const web = this.target.settings.mode === 'web';
    // before anything is built: without Redis a web-mode stack cannot run (the error names the package)
    if (web) findRedisServer(this.options.redisBinary);
    const ports = { ...DEFAULT_PORTS, ...this.options.ports };
    const started = Date.now();
    try {
      await makePrivateDir(this.dataDir); // owner-only (0700): it holds connection ids and messages
      const env = web ? this.#withRedisPassword(this.options.env ?? process.env) : this.options.env;
      generateBindings();
      // Imported only now: the stack's modules import the bindings generated just above.
      const { synthesizeApps } = await import('../stacks/app');
      this.bundles = await this.#build();
      const outdir = path.join(this.dataDir, 'synth');
      // The local run keeps its own deploy state, so a cloud deploy's push address never leaks in.
      synthesizeApps({
        config: this.config,
        selection: { app: this.target.app, stage: this.target.stage, region: this.target.region, mode: this.target.settings.mode },
        outdir,
        bundles: { [this.target.app]: this.bundles },
        env: { CHAT_DEPLOY_STATE_DIR: path.join(this.dataDir, 'deploy') },
      });
      this.log(`synthesized ${this.target.name} in ${Date.now() - started} ms`);

      // Ids are logged short by default (an id is all it takes to push to a client); LOG_IDS=full shows them whole.
      const fullIds = (this.options.env ?? process.env).LOG_IDS === 'full';
      // A standing key for scripts on this machine (`npm run announce -- --data-dir`), kept in the data folder as `npm run cos` keeps its own.
      const { credential: scriptKey } = await loadLocalCredentials(path.join(this.dataDir, 'credentials.json'));
      this.services = await LocalServices.start({
        dataDir: this.dataDir,
        stack: this.target.name,
        region: this.target.region,
        ports,
        limits: this.options.limits,
        maxInstancesPerFunction: this.options.maxInstancesPerFunction,
        maxWebInstances: this.options.maxWebInstances,
        redisBinary: this.options.redisBinary,
        cosCredentials: [scriptKey],
        platformEnvironment: { ...(this.options.quiet ? { LOG_LEVEL: 'warn' } : {}), ...(fullIds ? { LOG_IDS: 'full' } : {}) },
        logFullIds: fullIds,
        log: (line) => this.log(line),
      });
      const { cos, scf, gateway, cloudApi, user, redis } = this.services;
      this.applied = await applyStack({
        stackDir: path.join(outdir, 'stacks', this.target.name),
        services: { cos, scf, gateway, redis },
        appId: LOCAL_APP_ID,
        env,
        stateFile: path.join(this.dataDir, 'apply', `${this.target.name}.json`),
        // What `cdktf deploy` would give the post-deploy hook, pointed at the local Cloud API.
        provisionerEnv: {
          TENCENTCLOUD_SECRET_ID: user.secretId,
          TENCENTCLOUD_SECRET_KEY: user.secretKey,
          TENCENTCLOUD_SECURITY_TOKEN: '',
          CHAT_CLOUD_API_ENDPOINT: `http://${cloudApi.endpoint}`,
          CHAT_DEPLOY_STATE_DIR: path.join(this.dataDir, 'deploy'),
        },
        log: (line) => this.log(line),
      });
      const applied = this.applied;
      // The stack's outputs where a cloud deploy's `--outputs-file` puts them, with the local COS address for scripts.
      writePrivateJsonFile(path.join(this.dataDir, 'deploy', `${applied.name}.cdktf-outputs.json`), {
        [applied.name]: { ...applied.outputs, bucket: applied.bucket, cos_domain: cos.domain },
      });
      this.web = new WebServer({
        root: path.join(ROOT, 'web'),
        port: ports.page,
        config: () => ({ wsUrl: applied.wsUrl, admission: Boolean(this.target.settings.admission), stack: applied.name }),
      });
      await this.web.start();
      this.log(`local cloud ready in ${Date.now() - started} ms`);
      return {
        stack: applied.name,
        mode: applied.mode,
        ...(applied.mode === 'web' && applied.redis ? { redis: applied.redis } : {}),
        wsUrl: applied.wsUrl,
        pageUrl: this.web.url,
        pushUrl: applied.pushUrl,
        cosEndpoint: cos.endpoint,
        cloudApiEndpoint: cloudApi.endpoint,
        applied,
      };
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  /**
   * Rebuilds the bundles and redeploys each function whose code changed, keeping its configuration.
   * Open connections stay open: only the function instances are swapped.
   */
  async reloadFunctions(build: () => Promise<AppBundles> = () => this.#build()): Promise<Array<Role | 'web'>> {
    const scf = this.services?.scf;
    const applied = this.applied;
    if (!scf || !applied || !this.bundles) throw new Error('the local cloud is not started');
    const next = await build();
    const previous = this.bundles;
    // In web mode only the web function runs: open connections keep their instances (the old code).
    const bound: Array<[Role | 'web', { name: string; namespace: string }]> =
      applied.mode === 'web' ? [['web', applied.webFunction]] : ROLES.map((role) => [role, applied.roles[role]]);
    const changed: Array<Role | 'web'> = [];
    for (const [role, ref] of bound) {
      const bundle = next[role];
      if (!bundle || bundle.hash === previous[role]?.hash) continue;
      // The function the applied API binds to this role, whatever it is named.
      const current = scf.getFunction(ref.name, ref.namespace)!;
      await scf.deploy({ ...current, zipPath: bundle.zipPath });
      this.log(`reloaded ${ref.name} (${bundle.hash})`);
      changed.push(role);
    }
    this.bundles = next;
    return changed;
  }

  #build(): Promise<AppBundles> {
    return bundleApp(this.target.app, { entry: this.target.entry, mode: this.target.settings.mode }, this.options.buildDir);
  }

  /**
   * The environment with the stack's Redis password: the one its `redis.passwordEnv` names (or
   * `TF_VAR_<name>`) when set, otherwise one made for this data folder and kept in it, so that
   * `npm start -- --mode web` needs no setup and a restart keeps the same password.
   */
  #withRedisPassword(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
    const name = this.target.settings.redis.passwordEnv;
    if (env[name] !== undefined || env[`TF_VAR_${name}`] !== undefined) return env;
    const file = path.join(this.dataDir, 'redis', 'passwords.json');
    const saved = readJsonFile<Record<string, string>>(file) ?? {};
    // letters, digits and "-": what TencentDB for Redis and the provider both take
    let password = saved[this.target.name];
    if (!password) {
      password = `local-${randomBytes(12).toString('hex')}`;
      writePrivateJsonFile(file, { ...saved, [this.target.name]: password });
    }
    return { ...env, [name]: password };
  }

  /**
   * Web mode: restarts the stack's redis-server on the same port with the same data, as a failover
   * would (instances see their Redis connections drop and come back). For fault tests.
   * @throws Error when the local cloud is not started or its stack has no Redis
   */
  async restartRedis(): Promise<{ host: string; port: number }> {
    const redis = this.services?.redis;
    if (!redis?.server(this.target.name)) throw new Error(`${this.target.name} has no local Redis running (web mode starts one)`);
    return redis.restart(this.target.name);
  }

  /** Web mode: the stack's redis-server, to stop or restart for fault tests; undefined in event mode or before start. */
  get redisServer(): RedisServer | undefined {
    return this.services?.redis.server(this.target.name);
  }

  /** Stops everything, in the reverse order of start. Safe to call twice. */
  async stop(): Promise<void> {
    const { web, services } = this;
    this.web = this.services = undefined;
    await web?.stop();
    await services?.stop();
  }
}
