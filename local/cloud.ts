/**
 * The local cloud: the synthesized stack running on one machine. Synthesizes the selected stack,
 * starts the local COS store, SCF runtime and API gateway (each with what it held when last
 * stopped), applies the stack to them as a re-deploy would, and serves the chat page.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkAdmissionSecrets } from '../config/admission';
import { loadConfig } from '../config/load';
import type { AppConfig } from '../config/schema';
import { defaultApp, targetsFor, type Target } from '../config/select';
import { bundleApp, ROLES, type AppBundles, type Role } from '../scripts/bundle';
import { generateBindings } from '../scripts/gen-bindings';
import { applyStack, type AppliedStack } from './apply/apply';
import { LocalCloudApi } from './cloud-api/server';
import { CosServerThread } from './cos/thread';
import { makePrivateDir } from './cos/private-files';
import { loadLocalCredentials, randomCredential } from './credentials';
import { writePrivateJsonFile } from './json-file';
import { LocalGateway } from './gateway/gateway';
import type { GatewayLimits } from './gateway/limits';
import { LocalScf } from './scf/runtime';
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
  /** 0 picks a free port. @default page 3000, gateway 3001, COS 3002, Cloud API 3003 */
  ports?: { page?: number; gateway?: number; cos?: number; cloudApi?: number };
  /** Gateway limits beyond the defaults (seed 002's numbers). */
  limits?: Partial<GatewayLimits>;
  /** @default 10 */
  maxInstancesPerFunction?: number;
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
  /** ws:// URL of the chat. */
  wsUrl: string;
  /** The chat page. */
  pageUrl: string;
  /** The gateway's reverse-push address. */
  pushUrl: string;
  cosEndpoint: string;
  /** The local Cloud API, as `httpProfile.endpoint` takes it. */
  cloudApiEndpoint: string;
  applied: AppliedStack;
}

export const DEFAULT_PORTS = { page: 3000, gateway: 3001, cos: 3002, cloudApi: 3003 };

/** Runs one stack of the configuration on this machine. */
export class LocalCloud {
  private cos?: CosServerThread;
  private scf?: LocalScf;
  private gateway?: LocalGateway;
  private cloudApi?: LocalCloudApi;
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
    [this.target] = targetsFor(this.config, { app, stage, region });
    this.dataDir = path.resolve(options.dataDir ?? path.join(ROOT, '.data'));
    const log = options.log ?? ((line: string) => console.log(line));
    // Routine lines: one per connection, open or closed.
    this.log = options.quiet ? (line) => (/^(connected|closed) /.test(line) ? undefined : log(line)) : log;
  }

  /** Builds, synthesizes, starts every service and applies the stack. */
  async start(): Promise<LocalEndpoints> {
    checkAdmissionSecrets([this.target], this.options.env ?? process.env);
    const ports = { ...DEFAULT_PORTS, ...this.options.ports };
    const started = Date.now();
    try {
      await makePrivateDir(this.dataDir); // owner-only (0700): it holds connection ids and messages
      generateBindings();
      // Imported only now: the stack's modules import the bindings generated just above.
      const { synthesizeApps } = await import('../stacks/app');
      this.bundles = await this.#build();
      const outdir = path.join(this.dataDir, 'synth');
      // The local run keeps its own deploy state, so a cloud deploy's push address never leaks in.
      synthesizeApps({
        config: this.config,
        selection: { app: this.target.app, stage: this.target.stage, region: this.target.region },
        outdir,
        bundles: { [this.target.app]: this.bundles },
        env: { CHAT_DEPLOY_STATE_DIR: path.join(this.dataDir, 'deploy') },
      });
      this.log(`synthesized ${this.target.name} in ${Date.now() - started} ms`);

      // Temporary role credentials, new on every start, as STS would hand out.
      const role = randomCredential({ temporary: true });
      // Ids are logged short by default (an id is all it takes to push to a client); LOG_IDS=full shows them whole.
      const fullIds = (this.options.env ?? process.env).LOG_IDS === 'full';
      // A standing key for scripts on this machine (`npm run announce -- --data-dir`), kept in the data folder as `npm run cos` keeps its own.
      const { credential: scriptKey } = await loadLocalCredentials(path.join(this.dataDir, 'credentials.json'));
      this.cos = new CosServerThread({ directory: path.join(this.dataDir, 'cos'), port: ports.cos, credentials: [role, scriptKey] });
      await this.cos.start();
      this.scf = new LocalScf({
        workDir: path.join(this.dataDir, 'scf'),
        credentials: role,
        region: this.target.region,
        maxInstancesPerFunction: this.options.maxInstancesPerFunction,
        platformEnvironment: {
          LOCAL_COS_DOMAIN: this.cos.domain,
          ...(this.options.quiet ? { LOG_LEVEL: 'warn' } : {}),
          ...(fullIds ? { LOG_IDS: 'full' } : {}),
        },
        log: (line) => this.log(line),
        // What was deployed stays deployed across restarts, as in the cloud; the apply below diffs
        // against it. Kept per stack: one local cloud runs one stack, on one gateway port.
        stateFile: path.join(this.dataDir, 'scf', 'stacks', this.target.name, 'functions.json'),
      });
      await this.scf.restore();
      this.gateway = new LocalGateway({
        port: ports.gateway,
        invoker: this.scf,
        limits: this.options.limits,
        log: (line) => this.log(line),
        logFullIds: fullIds,
        stateFile: path.join(this.dataDir, 'gateway', `${this.target.name}.json`),
      });
      await this.gateway.start();
      // The deploying user's key for the Cloud API: also new on every start.
      const user = randomCredential();
      this.cloudApi = new LocalCloudApi({ port: ports.cloudApi, credentials: [user], gateway: this.gateway, scf: this.scf, log: (line) => this.log(line) });
      await this.cloudApi.start();
      this.applied = await applyStack({
        stackDir: path.join(outdir, 'stacks', this.target.name),
        services: { cos: this.cos, scf: this.scf, gateway: this.gateway },
        appId: LOCAL_APP_ID,
        env: this.options.env,
        stateFile: path.join(this.dataDir, 'apply', `${this.target.name}.json`),
        // What `cdktf deploy` would give the post-deploy hook, pointed at the local Cloud API.
        provisionerEnv: {
          TENCENTCLOUD_SECRET_ID: user.secretId,
          TENCENTCLOUD_SECRET_KEY: user.secretKey,
          TENCENTCLOUD_SECURITY_TOKEN: '',
          CHAT_CLOUD_API_ENDPOINT: `http://${this.cloudApi.endpoint}`,
          CHAT_DEPLOY_STATE_DIR: path.join(this.dataDir, 'deploy'),
        },
        log: (line) => this.log(line),
      });
      const applied = this.applied;
      // The stack's outputs where a cloud deploy's `--outputs-file` puts them, with the local COS address for scripts.
      writePrivateJsonFile(path.join(this.dataDir, 'deploy', `${applied.name}.cdktf-outputs.json`), {
        [applied.name]: { ...applied.outputs, bucket: applied.bucket, cos_domain: this.cos.domain },
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
        wsUrl: applied.wsUrl,
        pageUrl: this.web.url,
        pushUrl: applied.pushUrl,
        cosEndpoint: this.cos.endpoint,
        cloudApiEndpoint: this.cloudApi.endpoint,
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
  async reloadFunctions(build: () => Promise<AppBundles> = () => this.#build()): Promise<Role[]> {
    if (!this.scf || !this.applied || !this.bundles) throw new Error('the local cloud is not started');
    const next = await build();
    const changed = ROLES.filter((role) => next[role].hash !== this.bundles![role].hash);
    for (const role of changed) {
      // The function the applied API binds to this role, whatever it is named.
      const ref = this.applied.roles[role];
      const current = this.scf.getFunction(ref.name, ref.namespace)!;
      await this.scf.deploy({ ...current, zipPath: next[role].zipPath });
      this.log(`reloaded ${ref.name} (${next[role].hash})`);
    }
    this.bundles = next;
    return changed;
  }

  #build(): Promise<AppBundles> {
    return bundleApp(this.target.app, { entry: this.target.entry }, this.options.buildDir);
  }

  /** Stops everything, in the reverse order of start. Safe to call twice. */
  async stop(): Promise<void> {
    const web = this.web;
    const gateway = this.gateway;
    const scf = this.scf;
    const cos = this.cos;
    const cloudApi = this.cloudApi;
    this.web = this.gateway = this.scf = this.cos = this.cloudApi = undefined;
    await web?.stop();
    await cloudApi?.stop();
    // The gateway closes connections and runs their cleanups, which need the SCF and COS.
    await gateway?.stop();
    await scf?.stop();
    await cos?.stop();
  }
}
