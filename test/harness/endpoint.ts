/**
 * Where an app's tests connect: a local cloud started for them, or a deployed stack, named by its
 * outputs file or by `WS_URL`. Either way a suite gets one {@link AppEndpoint} and needs not know
 * which it is, beyond `local` (a local cloud is exact: no other users, order kept) and `mode`
 * (`event`, or `web`: one instance per connection, rooms on Redis).
 *
 * A local cloud runs in the mode `mode` asks for, else the one `CHAT_MODE` names (as for
 * `npm start`), else the configuration's (event): `CHAT_MODE=web npx vitest run test/integration`
 * runs a suite against a web-mode stack unchanged.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../config/load';
import { MODES, type AppConfig, type Mode } from '../../config/schema';
import { defaultApp, targetsFor, type Target } from '../../config/select';
import { createAdmissionToken, type TokenUser } from '../../functions/lib/admission';
import { CodedError } from '../../lib/errors';
// Types only: reading a deployed endpoint should not load the local cloud.
import type { LocalCloud, LocalEndpoints } from '../../local/cloud';
import type { GatewayLimits } from '../../local/gateway/limits';
import { outputsPath } from '../../scripts/post-deploy/run';

/** What {@link AppEndpoint.protocols} puts in the admission token. */
export interface ProtocolOptions {
  /**
   * Connect as this user, verified: the token carries `{ id, name }` as admission claims, so the
   * app sees that user (verified true) instead of a guest. Needs the endpoint's admission secret:
   * on an endpoint without one (a deployed endpoint run without `ADMISSION_SECRET`),
   * {@link AppEndpoint.protocols} throws `ERR_NO_ADMISSION_SECRET`. A suite that needs verified
   * users checks {@link AppEndpoint.verifiesUsers} first, reports what it cannot exercise, and
   * uses guests where the scenario allows.
   */
  user?: TokenUser;
}

/** An app to test, wherever it runs. */
export interface AppEndpoint {
  /** The app's WebSocket URL (ws:// locally, wss:// when deployed). */
  url: string;
  /** True for a local cloud started by {@link startLocalApp}: counts and order are exact there. */
  local: boolean;
  /** The app's name in the configuration. */
  app: string;
  /** The stack's name (`<app>-<stage>-<region short>`), when known. */
  stack?: string;
  /**
   * The subprotocols to offer: `base`, plus a fresh admission token when the secret is known; with
   * `options.user`, a token naming that user (see {@link ProtocolOptions.user}).
   * @throws HarnessError `ERR_NO_ADMISSION_SECRET` when a user is asked for and the secret is not known
   * @example
   * TestClient.connect(endpoint.url, { protocols: endpoint.protocols(['chat']) }); // a guest
   * if (endpoint.verifiesUsers) TestClient.connect(endpoint.url, { protocols: endpoint.protocols(['chat'], { user: { id: 'ann', name: 'Ann' } }) });
   */
  protocols(base: string[], options?: ProtocolOptions): string[];
  /** The admission secret, when the endpoint requires admission and the tests know it. */
  admissionSecret?: string;
  /**
   * Whether tests can connect as named, verified users here (`protocols(base, { user })`): true
   * exactly when {@link admissionSecret} is known.
   */
  verifiesUsers: boolean;
  /**
   * `event` (the gateway invokes functions per frame and pushes back) or `web` (one web-function
   * instance per connection, rooms on Redis): a local cloud's; a deployed stack's as its
   * configuration says; for `WS_URL`, what `CHAT_MODE` says, else unknown.
   */
  mode?: Mode;
  /** The gateway's reverse-push address, for the push client. Local event mode only: a deployed one is reachable only from inside the cloud, and web mode has none. */
  pushUrl?: string;
  /** The local cloud's data folder, removed by {@link stop}. Local only. */
  dataDir?: string;
  /** The chat page the local cloud serves (it connects to {@link url}). Local only. */
  pageUrl?: string;
  /** The stack's Redis, to stop, start and restart under running clients. Local web mode only. */
  redis?: RedisControl;
  /**
   * Calls `listener` with every line the local cloud logs from now on (cold starts, invocation
   * ends, function output), besides {@link LocalAppOptions.log}; returns the function that stops it.
   * Local only.
   */
  onLog?(listener: (line: string) => void): () => void;
  /** Stops the local cloud and removes its data folder; does nothing for a deployed endpoint. Safe to call twice. */
  stop(): Promise<void>;
}

type HarnessCode =
  | 'ERR_NO_OUTPUTS'
  | 'ERR_BAD_OUTPUTS'
  | 'ERR_NO_CLIENT_URL'
  | 'ERR_BAD_WS_URL'
  | 'ERR_WRONG_APP'
  | 'ERR_AMBIGUOUS_TARGET'
  | 'ERR_NO_ADMISSION_SECRET'
  | 'ERR_BAD_MODE';

/** A harness refusal: no outputs file for the stack, a damaged one, a bad `WS_URL` or `CHAT_MODE`, an endpoint of another app, a verified user without a secret, … */
export class HarnessError extends CodedError<HarnessCode> {}

/** A local web-mode stack's Redis, as {@link AppEndpoint.redis} hands it out. */
export interface RedisControl {
  readonly host: string;
  readonly port: number;
  /** Whether the server runs. */
  readonly running: boolean;
  /** Stops the server as a shutdown does (SIGTERM: it writes its data and exits); the instances lose it. */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same data and password; resolves once it answers PING. */
  start(): Promise<void>;
  /**
   * {@link stop} then {@link start}: a maintenance restart or a failover, as clients see one; with
   * `downMs`, it stays stopped that long in between (a restart that takes its time).
   */
  restart(options?: { downMs?: number }): Promise<void>;
}

export interface LocalAppOptions {
  /** The app to run. @default the configuration's first */
  app?: string;
  /** @default config/app.json (or the file CHAT_CONFIG names) */
  config?: AppConfig;
  /** @default the configuration's first stage */
  stage?: string;
  /**
   * Switches admission on for the app's stage with this secret (16 bytes at least), so tests can
   * connect with a token and see refusals without one. See {@link newAdmissionSecret}.
   */
  admissionSecret?: string;
  /** Environment for the stack's variables. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Gateway limits beyond the defaults. */
  limits?: Partial<GatewayLimits>;
  maxInstancesPerFunction?: number;
  /**
   * `event` or `web`, over what the configuration says for the app and stage.
   * @default `CHAT_MODE` in {@link env} when set (see {@link modeFromEnv}), else the configuration's
   */
  mode?: Mode;
  /** Web mode: instances (processes, one per connection) running at once. @default the local cloud's (by memory, 256 at least) */
  maxWebInstances?: number;
  /** The local cloud's log lines. @default dropped */
  log?: (line: string) => void;
}

/** The variable the local stage reads the admission secret from, when {@link LocalAppOptions.admissionSecret} is given. */
export const LOCAL_ADMISSION_SECRET_ENV = 'HARNESS_ADMISSION_SECRET';

/** A random admission secret, long enough for any stage. */
export function newAdmissionSecret(): string {
  return randomBytes(24).toString('base64url');
}

/**
 * The mode `CHAT_MODE` names (as `npm start` reads it), undefined when unset.
 * @throws HarnessError `ERR_BAD_MODE` for anything but `event` or `web`
 */
export function modeFromEnv(env: NodeJS.ProcessEnv = process.env): Mode | undefined {
  const mode = env.CHAT_MODE || undefined;
  if (mode !== undefined && !(MODES as readonly string[]).includes(mode)) {
    throw new HarnessError('ERR_BAD_MODE', `CHAT_MODE must be ${MODES.join(' or ')}, not "${mode}"`);
  }
  return mode as Mode | undefined;
}

function configFrom(config: AppConfig | undefined, env: NodeJS.ProcessEnv): AppConfig {
  return config ?? loadConfig(env.CHAT_CONFIG || undefined);
}

/** The endpoint's {@link AppEndpoint.protocols} and {@link AppEndpoint.verifiesUsers}, for its secret. */
function admissionWith(secret: string | undefined): Pick<AppEndpoint, 'protocols' | 'verifiesUsers' | 'admissionSecret'> {
  return {
    admissionSecret: secret,
    verifiesUsers: secret !== undefined,
    protocols: (base, { user } = {}) => {
      if (user && !secret) {
        // Connecting as a guest instead would pass for the user and fail later, far from the cause.
        throw new HarnessError(
          'ERR_NO_ADMISSION_SECRET',
          `cannot connect as verified user ${user.id}: the endpoint's admission secret is not known (set ADMISSION_SECRET); check verifiesUsers first`,
        );
      }
      return secret ? [...base, createAdmissionToken(secret, user ? { user } : {})] : [...base];
    },
  };
}

/** The secret a target's admission reads, when the environment has it (as Terraform reads it). */
function secretOf(target: Target, env: NodeJS.ProcessEnv): string | undefined {
  const name = target.settings.admission?.secretEnv;
  return name ? env[name] || env[`TF_VAR_${name}`] || undefined : undefined;
}

/** The local cloud's handle on its stack's redis-server, as a {@link RedisControl}. */
function redisControl(cloud: LocalCloud, address: { host: string; port: number }): RedisControl {
  const server = () => {
    const found = cloud.redisServer;
    if (!found) throw new Error('the local cloud has no Redis for its stack (stopped, or not in web mode)');
    return found;
  };
  return {
    host: address.host,
    port: address.port,
    get running() {
      return cloud.redisServer?.running ?? false;
    },
    stop: () => server().stop(),
    start: () => server().start(),
    restart: async ({ downMs } = {}) => {
      if (!downMs) {
        await cloud.restartRedis();
        return;
      }
      await server().stop();
      await new Promise((resolve) => setTimeout(resolve, downMs));
      await server().start();
    },
  };
}

/**
 * Starts a local cloud running one app, on free ports and in a temporary data folder that
 * {@link AppEndpoint.stop} removes. Takes as long as a build and an apply (seconds): call it in a
 * `beforeAll` with a generous timeout.
 */
export async function startLocalApp(options: LocalAppOptions = {}): Promise<AppEndpoint> {
  const baseEnv = options.env ?? process.env;
  // A copy: the caller's configuration is left as it was.
  const config = structuredClone(configFrom(options.config, baseEnv));
  const app = options.app ?? defaultApp(config);
  const stage = options.stage ?? Object.keys(config.stages)[0];
  const mode = options.mode ?? modeFromEnv(baseEnv);
  const env: NodeJS.ProcessEnv = { ...baseEnv };
  if (options.admissionSecret !== undefined && config.stages[stage]) {
    // On the stage: its settings override the app's, so this wins over either.
    config.stages[stage].admission = { secretEnv: LOCAL_ADMISSION_SECRET_ENV };
    env[LOCAL_ADMISSION_SECRET_ENV] = options.admissionSecret;
  }
  // Imported here: reading a deployed endpoint should not load the local cloud.
  const { LocalCloud: Cloud } = await import('../../local/cloud');
  const dataDir = await mkdtemp(path.join(os.tmpdir(), `harness-${app}-`));
  let cloud: LocalCloud;
  let endpoints: LocalEndpoints;
  const listeners = new Set<(line: string) => void>();
  const log = options.log ?? (() => {});
  try {
    cloud = new Cloud({
      config,
      app,
      stage,
      mode,
      maxWebInstances: options.maxWebInstances,
      dataDir,
      buildDir: path.join(dataDir, 'dist'),
      ports: { page: 0, gateway: 0, cos: 0, cloudApi: 0 },
      env,
      limits: options.limits,
      maxInstancesPerFunction: options.maxInstancesPerFunction,
      log: (line) => {
        log(line);
        for (const listener of listeners) listener(line);
      },
    });
    endpoints = await cloud.start();
  } catch (err) {
    // start() has stopped what it started; the folder is ours.
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  const admissionSecret = secretOf(cloud.target, env);
  const redis = endpoints.mode === 'web' && endpoints.redis ? redisControl(cloud, endpoints.redis) : undefined;
  let stopping: Promise<void> | undefined;
  return {
    url: endpoints.wsUrl,
    local: true,
    app,
    stack: endpoints.stack,
    mode: endpoints.mode,
    ...admissionWith(admissionSecret),
    // Web mode has none: each instance holds its own socket.
    ...(endpoints.pushUrl ? { pushUrl: endpoints.pushUrl } : {}),
    dataDir,
    pageUrl: endpoints.pageUrl,
    ...(redis ? { redis } : {}),
    onLog: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    stop: () =>
      (stopping ??= (async () => {
        try {
          await cloud.stop();
        } finally {
          await rm(dataDir, { recursive: true, force: true });
        }
      })()),
  };
}

export interface DeployedAppOptions {
  /** @default the configuration's first */
  app?: string;
  /** Needed when the configuration has several stages. */
  stage?: string;
  /** Needed when the stage has several regions. */
  region?: string;
  /** @default config/app.json (or the file CHAT_CONFIG names) */
  config?: AppConfig;
  /** Where `.deploy/` is (CHAT_DEPLOY_STATE_DIR) and the stage's admission secret. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** @default the stage's admission variable's value, when it is set */
  admissionSecret?: string;
}

/** A path as short as it reads well: relative to the working folder when inside it. */
function shown(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative.startsWith('..') || path.isAbsolute(relative) ? file : relative;
}

/**
 * The deployed stack of an app, from the outputs file its last deploy wrote
 * (`.deploy/<stack>.outputs.json`). Throws a {@link HarnessError}: `ERR_NO_OUTPUTS` when it was
 * never deployed, `ERR_BAD_OUTPUTS`, `ERR_NO_CLIENT_URL`, or `ERR_AMBIGUOUS_TARGET` when the
 * selection names several stacks.
 */
export function deployedApp(options: DeployedAppOptions = {}): AppEndpoint {
  const env = options.env ?? process.env;
  const config = configFrom(options.config, env);
  const app = options.app ?? defaultApp(config);
  const targets = targetsFor(config, { app, stage: options.stage, region: options.region });
  if (targets.length > 1) {
    throw new HarnessError(
      'ERR_AMBIGUOUS_TARGET',
      `choose one stack with stage and region; app ${app} has ${targets.map((t) => `${t.name} (stage ${t.stage}, region ${t.region})`).join(', ')}`,
    );
  }
  const target = targets[0];
  const file = outputsPath(target.name, env);
  if (!existsSync(file)) {
    throw new HarnessError(
      'ERR_NO_OUTPUTS',
      `no outputs for ${target.name} at ${shown(file)}: deploy it first (npm run deploy -- --app ${target.app} --stage ${target.stage} --region ${target.region})`,
    );
  }
  let outputs: { stack?: unknown; clientUrl?: unknown };
  try {
    outputs = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new HarnessError('ERR_BAD_OUTPUTS', `${shown(file)} is not valid JSON (${(err as Error).message}); deploy again to rewrite it`);
  }
  if (typeof outputs !== 'object' || outputs === null || Array.isArray(outputs))
    throw new HarnessError('ERR_BAD_OUTPUTS', `${shown(file)} is not a JSON object; deploy again to rewrite it`);
  if (outputs.stack !== undefined && outputs.stack !== target.name)
    throw new HarnessError('ERR_BAD_OUTPUTS', `${shown(file)} belongs to stack "${String(outputs.stack)}", not "${target.name}"`);
  if (typeof outputs.clientUrl !== 'string' || !outputs.clientUrl) throw new HarnessError('ERR_NO_CLIENT_URL', `${shown(file)} has no clientUrl`);
  const url = checkedUrl(outputs.clientUrl, `${shown(file)}'s clientUrl`);
  const admissionSecret = options.admissionSecret ?? secretOf(target, env);
  return { url, local: false, app, stack: target.name, mode: target.settings.mode, ...admissionWith(admissionSecret), stop: async () => {} };
}

function checkedUrl(value: string, source: string): string {
  let protocol: string;
  try {
    protocol = new URL(value).protocol;
  } catch {
    throw new HarnessError('ERR_BAD_WS_URL', `${source} is not a URL: ${value}`);
  }
  if (protocol !== 'ws:' && protocol !== 'wss:') throw new HarnessError('ERR_BAD_WS_URL', `${source} must be a ws:// or wss:// URL, not ${value}`);
  return value;
}

/**
 * The endpoint `WS_URL` names, with `ADMISSION_SECRET` when it requires admission, `APP` (the
 * app it serves; `app`, else the configuration's first, when unset) and `CHAT_MODE` (its mode,
 * when known). Undefined when `WS_URL` is not set.
 */
export function endpointFromEnv(env: NodeJS.ProcessEnv = process.env, { app }: { app?: string } = {}): AppEndpoint | undefined {
  if (!env.WS_URL) return undefined;
  const url = checkedUrl(env.WS_URL, 'WS_URL');
  const admissionSecret = env.ADMISSION_SECRET || undefined;
  return {
    url,
    local: false,
    app: env.APP || app || defaultApp(configFrom(undefined, env)),
    ...(modeFromEnv(env) ? { mode: modeFromEnv(env) } : {}),
    ...admissionWith(admissionSecret),
    stop: async () => {},
  };
}

/**
 * What a suite calls in its `beforeAll`: the deployed endpoint `WS_URL` names when set (as
 * `npm run test:deployed` sets it), else a local cloud started with `options`. Refuses with
 * `ERR_WRONG_APP` when `APP` says the deployed endpoint serves another app than `options.app`.
 */
export async function openAppEndpoint(options: LocalAppOptions = {}): Promise<AppEndpoint> {
  const env = options.env ?? process.env;
  const remote = endpointFromEnv(env, { app: options.app });
  if (!remote) return startLocalApp(options);
  if (options.app && remote.app !== options.app) {
    throw new HarnessError('ERR_WRONG_APP', `WS_URL is an endpoint of app ${remote.app} (APP), but this suite tests ${options.app}`);
  }
  return remote;
}
