/**
 * Function configuration, read from the environment of each invocation.
 *
 * Names below are what the stack sets. `bucket`, `region` and `url` keep the design's names; the
 * platform reserves the `TENCENTCLOUD_`, `SCF_` and `QCLOUD_` prefixes, so nothing of ours uses them.
 */
import { ChatError, ErrNo } from './errors';

/** Environment variable names the functions read. */
export const Env = {
  /** COS bucket holding the connection registry, `<name>-<appid>`. */
  BUCKET: 'bucket',
  /** Region of the bucket, e.g. `ap-guangzhou`. */
  REGION: 'region',
  /** The gateway's reverse-push address. */
  URL: 'url',
  /** Concurrent reverse-push requests per broadcast. Default 32. */
  PUSH_CONCURRENCY: 'PUSH_CONCURRENCY',
  /** Timeout of one reverse-push request in milliseconds. Default 3000. */
  PUSH_TIMEOUT_MS: 'PUSH_TIMEOUT_MS',
  /** Shared secret for admission tokens; unset means everyone may connect. */
  ADMISSION_SECRET: 'ADMISSION_SECRET',
  /** COS `Domain` template override, e.g. `http://127.0.0.1:4568/{Bucket}`. Local cloud only. */
  LOCAL_COS_DOMAIN: 'LOCAL_COS_DOMAIN',
  /** `info` (default), `warn`, `error` or `silent`. */
  LOG_LEVEL: 'LOG_LEVEL',
  /** Execution-role credentials, injected by the platform. */
  SECRET_ID: 'TENCENTCLOUD_SECRETID',
  SECRET_KEY: 'TENCENTCLOUD_SECRETKEY',
  SESSION_TOKEN: 'TENCENTCLOUD_SESSIONTOKEN',
} as const;

export const DEFAULT_PUSH_CONCURRENCY = 32;
export const DEFAULT_PUSH_TIMEOUT_MS = 3000;

/** Where the registry lives and how to sign requests to it. */
export interface RegistryConfig {
  bucket: string;
  region: string;
  credentials: { secretId: string; secretKey: string; sessionToken?: string };
  /** Set only by the local cloud. */
  cosDomain?: string;
}

/** How the transport function pushes. */
export interface PushConfig {
  url: string;
  concurrency: number;
  timeoutMs: number;
}

type EnvSource = Record<string, string | undefined>;

function required(env: EnvSource, name: string, why: string): string {
  const value = env[name];
  if (value === undefined || value.trim() === '') {
    throw new ChatError('MISCONFIGURED', `missing environment variable ${name} (${why})`, ErrNo.MISCONFIGURED);
  }
  return value.trim();
}

function positiveInt(env: EnvSource, name: string, fallback: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw new ChatError('MISCONFIGURED', `environment variable ${name} must be an integer from 1 to ${max}, got "${raw}"`);
  }
  return n;
}

/** Reads the registry settings and the execution role's credentials. */
export function readRegistryConfig(env: EnvSource = process.env): RegistryConfig {
  const bucket = required(env, Env.BUCKET, 'the connection registry bucket');
  const region = required(env, Env.REGION, 'the bucket region');
  const secretId = required(env, Env.SECRET_ID, 'execution role credentials: give the function a role');
  const secretKey = required(env, Env.SECRET_KEY, 'execution role credentials: give the function a role');
  const sessionToken = env[Env.SESSION_TOKEN]?.trim() || undefined;
  const cosDomain = env[Env.LOCAL_COS_DOMAIN]?.trim() || undefined;
  return { bucket, region, credentials: { secretId, secretKey, sessionToken }, cosDomain };
}

/** Reads the reverse-push settings. */
export function readPushConfig(env: EnvSource = process.env): PushConfig {
  const url = required(env, Env.URL, 'the reverse-push address, set after deploy');
  if (!/^https?:\/\//.test(url)) {
    throw new ChatError('MISCONFIGURED', `environment variable ${Env.URL} must be an http(s) address, got "${url}"`);
  }
  return {
    url,
    concurrency: positiveInt(env, Env.PUSH_CONCURRENCY, DEFAULT_PUSH_CONCURRENCY, 1024),
    timeoutMs: positiveInt(env, Env.PUSH_TIMEOUT_MS, DEFAULT_PUSH_TIMEOUT_MS, 60_000),
  };
}

/** The admission secret, or undefined when admission is open. */
export function readAdmissionSecret(env: EnvSource = process.env): string | undefined {
  return env[Env.ADMISSION_SECRET] || undefined;
}
