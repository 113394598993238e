/**
 * `npm run announce -- --app board --stage dev --region ap-guangzhou --text "…"`: pushes
 * `{"type":"announcement","text":…}` to every connection of a deployed app through the server-side
 * client, from outside the gateway's events.
 *
 * What it needs comes from the deploy's files: the push address from `.deploy/<stack>.outputs.json`
 * (the post-deploy step's), the bucket from `.deploy/<stack>.cdktf-outputs.json` (the deploy's
 * `--outputs-file`), and COS access from your API key in TENCENTCLOUD_SECRET_ID / _SECRET_KEY (and
 * TENCENTCLOUD_SECURITY_TOKEN for a temporary key), read from the environment and never stored.
 * With `--data-dir .data` it announces on the local cloud instead: the same two files under
 * `.data/deploy/`, and the standing key the local cloud keeps in `.data/credentials.json`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load';
import type { AppConfig } from '../config/schema';
import { defaultApp, targetsFor, type Target } from '../config/select';
import type { RegistryConfig } from '../functions/lib/config';
import { createServerClient, type ServerBroadcastResult } from '../functions/toolkit';
import { CodedError, describeError } from '../lib/errors';
import { deployStatePath } from '../stacks/post-deploy-contract';
import { CredentialEnv } from './post-deploy/clients';
import { outputsPath } from './post-deploy/run';

type AnnounceCode = 'ERR_ANNOUNCE_INPUT' | 'ERR_NO_OUTPUTS' | 'ERR_BAD_OUTPUTS' | 'ERR_NO_CREDENTIALS';

/** Why an announcement could not be made: bad flags, a stack not deployed, a damaged file, no key. */
export class AnnounceError extends CodedError<AnnounceCode> {}

export interface AnnounceOptions {
  text: string;
  /** @default the configuration's first */
  app?: string;
  stage?: string;
  region?: string;
  /** A local cloud's data folder: announce there instead of in the cloud. */
  dataDir?: string;
  /** The bucket, when the deploy's outputs file is missing. @default read from it */
  bucket?: string;
  /** @default config/app.json (or the file CHAT_CONFIG names) */
  config?: AppConfig;
  /** Credentials and CHAT_DEPLOY_STATE_DIR. @default process.env */
  env?: NodeJS.ProcessEnv;
}

/** Where an app's connections are: its push address and registry. */
export interface AppLocation {
  stack: string;
  pushUrl: string;
  registry: RegistryConfig;
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function readJson(file: string, what: string, fix: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new AnnounceError('ERR_NO_OUTPUTS', `no ${what} at ${shown(file)}: ${fix}`);
    throw err;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new AnnounceError('ERR_BAD_OUTPUTS', `${shown(file)} is not valid JSON (${(err as Error).message}): ${fix}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new AnnounceError('ERR_BAD_OUTPUTS', `${shown(file)} is not a JSON object: ${fix}`);
  return value as Record<string, unknown>;
}

function shown(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative.startsWith('..') || path.isAbsolute(relative) ? file : relative;
}

function stringField(source: Record<string, unknown>, field: string, file: string, fix: string): string {
  const value = source[field];
  if (typeof value !== 'string' || value === '') throw new AnnounceError('ERR_BAD_OUTPUTS', `${shown(file)} has no ${field}: ${fix}`);
  return value;
}

function selectTarget(options: Omit<AnnounceOptions, 'text'>, config: AppConfig): Target {
  const app = options.app ?? defaultApp(config);
  let targets: Target[];
  try {
    targets = targetsFor(config, { app, stage: options.stage, region: options.region });
  } catch (err) {
    throw new AnnounceError('ERR_ANNOUNCE_INPUT', describeError(err));
  }
  // A local cloud runs one stack: its first stage and region unless told.
  if (options.dataDir && targets.length > 1 && !options.stage) targets = targets.filter((t) => t.stage === targets[0].stage);
  if (options.dataDir && targets.length > 1 && !options.region) targets = [targets[0]];
  if (targets.length !== 1) {
    throw new AnnounceError(
      'ERR_ANNOUNCE_INPUT',
      `choose one stack with --stage and --region; the selection matches ${targets.map((t) => `${t.name} (--stage ${t.stage} --region ${t.region})`).join(', ')}`,
    );
  }
  return targets[0];
}

/**
 * Finds an app's push address and registry from its deploy's files (or a local cloud's).
 * @throws AnnounceError `ERR_NO_OUTPUTS` when it was never deployed (or the local cloud never ran it),
 * `ERR_BAD_OUTPUTS`, `ERR_NO_CREDENTIALS`, `ERR_ANNOUNCE_INPUT`.
 */
export function locateApp(options: Omit<AnnounceOptions, 'text'> = {}): AppLocation {
  const env = options.env ?? process.env;
  const config = options.config ?? loadConfig(env.CHAT_CONFIG || undefined);
  const target = selectTarget(options, config);
  const dataDir = options.dataDir ? path.resolve(options.dataDir) : undefined;
  // The local cloud keeps its deploy files in <data dir>/deploy, as it tells its post-deploy step.
  const stateEnv = dataDir ? { ...env, CHAT_DEPLOY_STATE_DIR: path.join(dataDir, 'deploy') } : env;
  const fix = dataDir
    ? `start the local cloud with it first (npm start -- --app ${target.app}${dataDir !== path.join(ROOT, '.data') ? ` --data-dir ${shown(dataDir)}` : ''})`
    : `deploy it first (npm run deploy -- --app ${target.app} --stage ${target.stage} --region ${target.region})`;

  const outputsFile = outputsPath(target.name, stateEnv);
  const outputs = readJson(outputsFile, `outputs for ${target.name}`, fix);
  const pushUrl = stringField(outputs, 'pushUrl', outputsFile, fix);

  const cdktfFile = deployStatePath(target.name, stateEnv).replace(/\.json$/, '.cdktf-outputs.json');
  let stackOutputs: Record<string, unknown> = {};
  if (!options.bucket || dataDir) {
    const all = readJson(cdktfFile, `stack outputs for ${target.name}`, options.bucket ? fix : `${fix}, or give --bucket`);
    const mine = all[target.name];
    if (typeof mine !== 'object' || mine === null)
      throw new AnnounceError('ERR_BAD_OUTPUTS', `${shown(cdktfFile)} has no outputs of stack ${target.name}: ${fix}`);
    stackOutputs = mine as Record<string, unknown>;
  }
  const bucket = options.bucket ?? stringField(stackOutputs, 'bucket', cdktfFile, fix);

  if (dataDir) {
    const keyFile = path.join(dataDir, 'credentials.json');
    const key = readJson(keyFile, 'local COS key', fix);
    return {
      stack: target.name,
      pushUrl,
      registry: {
        bucket,
        region: target.region,
        credentials: { secretId: stringField(key, 'secretId', keyFile, fix), secretKey: stringField(key, 'secretKey', keyFile, fix) },
        cosDomain: stringField(stackOutputs, 'cos_domain', cdktfFile, fix),
      },
    };
  }
  const secretId = env[CredentialEnv.SECRET_ID];
  const secretKey = env[CredentialEnv.SECRET_KEY];
  if (!secretId || !secretKey) {
    throw new AnnounceError(
      'ERR_NO_CREDENTIALS',
      `${CredentialEnv.SECRET_ID} and ${CredentialEnv.SECRET_KEY} must be set to read ${target.name}'s connections (your Tencent Cloud API key; ${CredentialEnv.SECURITY_TOKEN} too for a temporary one)`,
    );
  }
  return {
    stack: target.name,
    pushUrl,
    registry: { bucket, region: target.region, credentials: { secretId, secretKey, sessionToken: env[CredentialEnv.SECURITY_TOKEN] || undefined } },
  };
}

/** Pushes the announcement to every registered connection; returns what the broadcast did. */
export async function announce(options: AnnounceOptions): Promise<ServerBroadcastResult & { stack: string; pushUrl: string }> {
  if (typeof options.text !== 'string' || options.text.trim() === '') throw new AnnounceError('ERR_ANNOUNCE_INPUT', 'give the announcement with --text "…"');
  const location = locateApp(options);
  const server = createServerClient({ url: location.pushUrl, registry: location.registry });
  const result = await server.broadcast({ type: 'announcement', text: options.text });
  return { ...result, stack: location.stack, pushUrl: location.pushUrl };
}

const USAGE = `Usage: npm run announce -- --text "…" [--app NAME] [--stage S] [--region R] [--data-dir .data] [--bucket NAME]

  --text      what to announce: every connection receives {"type":"announcement","text":…}
  --app       the app (default: the configuration's first)
  --stage, --region   the stack, when the app has several
  --data-dir  announce on the local cloud that keeps its data there (npm start's is .data)
  --bucket    the registry bucket, when .deploy/<stack>.cdktf-outputs.json is missing

In the cloud it reads your API key from ${CredentialEnv.SECRET_ID} and ${CredentialEnv.SECRET_KEY}.`;

async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        text: { type: 'string' },
        app: { type: 'string' },
        stage: { type: 'string' },
        region: { type: 'string' },
        'data-dir': { type: 'string' },
        bucket: { type: 'string' },
        help: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const result = await announce({
    text: values.text ?? '',
    app: values.app || process.env.APP || undefined,
    stage: values.stage || process.env.STAGE || undefined,
    region: values.region || process.env.REGION || undefined,
    dataDir: values['data-dir'],
    bucket: values.bucket,
  });
  console.log(
    `announced on ${result.stack}: delivered to ${result.delivered} of ${result.attempted} connection(s)` +
      (result.gone + result.refused > 0 ? `; ${result.gone + result.refused} found gone and removed from the registry` : ''),
  );
  if (result.failed > 0) {
    const first = result.outcomes.find((o) => o.status === 'failed') as { error: string } | undefined;
    console.error(
      `${result.failed} push(es) got no answer from ${result.pushUrl} (${first?.error}). The push address is the API's internal domain: ` +
        'if it is not reachable from here, run the announcement from inside Tencent Cloud (a function or a server in the region).',
    );
    return 1;
  }
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      console.error(describeError(err));
      process.exit(1);
    },
  );
}
