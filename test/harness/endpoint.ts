/**
 * Where an app's tests connect: a local cloud started for them, or a deployed stack, named by its
 * outputs file or by `WS_URL`. Either way a suite gets one {@link AppEndpoint} and needs not know
 * which it is, beyond `local` (a local cloud is exact: no other users, order kept).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../config/load';
import type { AppConfig } from '../../config/schema';
import { defaultApp, targetsFor, type Target } from '../../config/select';
import { createAdmissionToken, type TokenUser } from '../../functions/lib/admission';
import { CodedError } from '../../lib/errors';
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
  /** The gateway's reverse-push address, for the push client. Local only: a deployed one is reachable only from inside the cloud. */
  pushUrl?: string;
  /** The local cloud's data folder, removed by {@link stop}. Local only. */
  dataDir?: string;
  /** Stops the local cloud and removes its data folder; does nothing for a deployed endpoint. Safe to call twice. */
  stop(): Promise<void>;
}

type HarnessCode =
  'ERR_NO_OUTPUTS' | 'ERR_BAD_OUTPUTS' | 'ERR_NO_CLIENT_URL' | 'ERR_BAD_WS_URL' | 'ERR_WRONG_APP' | 'ERR_AMBIGUOUS_TARGET' | 'ERR_NO_ADMISSION_SECRET';

/** A harness refusal: no outputs file for the stack, a damaged one, a bad `WS_URL`, an endpoint of another app, a verified user without a secret, … */
export class HarnessError extends CodedError<HarnessCode> {}

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
  /** The local cloud's log lines. @default dropped */
  log?: (line: string) => void;
}

/** The variable the local stage reads the admission secret from, when {@link LocalAppOptions.admissionSecret} is given. */
export const LOCAL_ADMISSION_SECRET_ENV = 'HARNESS_ADMISSION_SECRET';

/** A random admission secret, long enough for any stage. */
export function newAdmissionSecret(): string {
  return randomBytes(24).toString('base64url');
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
  const env: NodeJS.ProcessEnv = { ...baseEnv };
  if (options.admissionSecret !== undefined && config.stages[stage]) {
    // On the stage: its settings override the app's, so this wins over either.
    config.stages[stage].admission = { secretEnv: LOCAL_ADMISSION_SECRET_ENV };
    env[LOCAL_ADMISSION_SECRET_ENV] = options.admissionSecret;
  }
  // Imported here: reading a deployed endpoint should not load the local cloud.
  const { LocalCloud } = await import('../../local/cloud');
  const dataDir = await mkdtemp(path.join(os.tmpdir(), `harness-${app}-`));
  let cloud: InstanceType<typeof LocalCloud>;
  let endpoints: Awaited<ReturnType<InstanceType<typeof LocalCloud>['start']>>;
  try {
    cloud = new LocalCloud({
      config,
      app,
      stage,
      dataDir,
      buildDir: path.join(dataDir, 'dist'),
      ports: { page: 0, gateway: 0, cos: 0, cloudApi: 0 },
      env,
      limits: options.limits,
      maxInstancesPerFunction: options.maxInstancesPerFunction,
      log: options.log ?? (() => {}),
    });
    endpoints = await cloud.start();
  } catch (err) {
    // start() has stopped what it started; the folder is ours.
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  const admissionSecret = secretOf(cloud.target, env);
  let stopping: Promise<void> | undefined;
  return {
    url: endpoints.wsUrl,
    local: true,
    app,
    stack: endpoints.stack,
    ...admissionWith(admissionSecret),
    pushUrl: endpoints.pushUrl,
    dataDir,
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
  return { url, local: false, app, stack: target.name, ...admissionWith(admissionSecret), stop: async () => {} };
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
 * The endpoint `WS_URL` names, with `ADMISSION_SECRET` when it requires admission and `APP` (the
 * app it serves; `app`, else the configuration's first, when unset). Undefined when `WS_URL` is not set.
 */
export function endpointFromEnv(env: NodeJS.ProcessEnv = process.env, { app }: { app?: string } = {}): AppEndpoint | undefined {
  if (!env.WS_URL) return undefined;
  const url = checkedUrl(env.WS_URL, 'WS_URL');
  const admissionSecret = env.ADMISSION_SECRET || undefined;
  return {
    url,
    local: false,
    app: env.APP || app || defaultApp(configFrom(undefined, env)),
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
