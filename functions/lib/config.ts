/**
 * Function configuration, read from the environment of each invocation.
 *
 * Names below are what the stack sets. `bucket`, `region` and `url` keep the design's names; the
 * platform reserves the `TENCENTCLOUD_`, `SCF_` and `QCLOUD_` prefixes, so nothing of ours uses them.
 */
import { admissionSecretProblem } from '../../config/admission';
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
  /** Shared secret for admission tokens, at least 16 bytes; unset means everyone may connect. */
  ADMISSION_SECRET: 'ADMISSION_SECRET',
  /** `true` when the stage requires admission: then a missing secret refuses every connection too. */
  ADMISSION_REQUIRED: 'ADMISSION_REQUIRED',
  /** Days after its last write that the bucket's lifecycle rule expires a record; fractions allowed. Default 1. */
  REGISTRY_EXPIRY_DAYS: 'REGISTRY_EXPIRY_DAYS',
  /** Messages each room keeps in its history (the stack's `rooms.historySize`). Default 100. */
  HISTORY_SIZE: 'HISTORY_SIZE',
  /** Rooms up to this many connections get presence events; larger ones only counts. Default 100. */
  PRESENCE_LIMIT: 'PRESENCE_LIMIT',
  /** COS `Domain` template override, e.g. `http://127.0.0.1:4568/{Bucket}`. Local cloud only. */
  LOCAL_COS_DOMAIN: 'LOCAL_COS_DOMAIN',
  /** `debug`, `info` (default), `warn`, `error` or `silent`. */
  LOG_LEVEL: 'LOG_LEVEL',
  /** `full` logs whole connection ids; by default logs carry only their first characters. */
  LOG_IDS: 'LOG_IDS',
  /** Execution-role credentials, injected by the platform. */
  SECRET_ID: 'TENCENTCLOUD_SECRETID',
  SECRET_KEY: 'TENCENTCLOUD_SECRETKEY',
  SESSION_TOKEN: 'TENCENTCLOUD_SESSIONTOKEN',
} as const;

export const DEFAULT_PUSH_CONCURRENCY = 32;
export const DEFAULT_PUSH_TIMEOUT_MS = 3000;
/** The stack's default `registryExpiryDays`. */
export const DEFAULT_REGISTRY_EXPIRY_DAYS = 1;

/** The stack's default `rooms.historySize`. */
export const DEFAULT_HISTORY_SIZE = 100;
/** The stack's default `rooms.presenceLimit`: Pusher's limit on presence channels. */
export const DEFAULT_PRESENCE_LIMIT = 100;

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

function positiveInt(env: EnvSource, name: string, fallback: number, max: number, min = 1): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ChatError('MISCONFIGURED', `environment variable ${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return n;
}

/** How rooms keep history and announce presence. */
export interface RoomsConfig {
  historySize: number;
  presenceLimit: number;
}

/** Reads the rooms' settings. */
export function readRoomsConfig(env: EnvSource = process.env): RoomsConfig {
  return {
    historySize: positiveInt(env, Env.HISTORY_SIZE, DEFAULT_HISTORY_SIZE, 1000, 0),
    presenceLimit: positiveInt(env, Env.PRESENCE_LIMIT, DEFAULT_PRESENCE_LIMIT, 100_000, 0),
  };
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

/**
 * The admission secret, or undefined when admission is open (no secret, and not required).
 * Fails closed: an empty or short secret, or none where `ADMISSION_REQUIRED` says there must be one,
 * throws MISCONFIGURED with the reason, so register refuses every connection instead of admitting all.
 */
export function readAdmissionSecret(env: EnvSource = process.env): string | undefined {
  const secret = env[Env.ADMISSION_SECRET];
  const required = env[Env.ADMISSION_REQUIRED]?.trim().toLowerCase() === 'true';
  if (secret === undefined && !required) return undefined;
  const problem = admissionSecretProblem(Env.ADMISSION_SECRET, secret);
  if (problem) {
    throw new ChatError('MISCONFIGURED', `admission is configured but ${problem}; every connection is refused until it is set`, ErrNo.MISCONFIGURED);
  }
  return secret;
}

/**
 * How long a registry record lives after its last write (the stack's `registryExpiryDays`), in days.
 * A positive number; fractions are allowed (tests use seconds' worth). Absent means 1 day.
 */
export function readRegistryExpiryDays(env: EnvSource = process.env): number {
  const raw = env[Env.REGISTRY_EXPIRY_DAYS];
  if (raw === undefined || raw.trim() === '') return DEFAULT_REGISTRY_EXPIRY_DAYS;
  const days = Number(raw);
  if (!Number.isFinite(days) || days <= 0) {
    throw new ChatError('MISCONFIGURED', `environment variable ${Env.REGISTRY_EXPIRY_DAYS} must be a positive number of days, got "${raw}"`);
  }
  return days;
}
