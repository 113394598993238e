/**
 * What a web function reads from its environment beyond event mode's variables: where to listen,
 * where Redis is, and the gateway's idle timeout (which the pings stay below).
 */
import { ChatError, ErrNo } from '../../lib/errors';

/** Environment variable names a web function reads (event mode's `Env` names the rest). */
export const WebEnv = {
  /** Port to listen on: 9000 in the cloud; the local runtime gives a free one. */
  PORT: 'PORT',
  REDIS_HOST: 'REDIS_HOST',
  /** @default 6379 */
  REDIS_PORT: 'REDIS_PORT',
  /** Optional locally; TencentDB for Redis has one. */
  REDIS_PASSWORD: 'REDIS_PASSWORD',
  /** The WebSocket API's idle timeout: pings go at a third of it, at most every 30 s. */
  IDLE_TIMEOUT_SECONDS: 'IDLE_TIMEOUT_SECONDS',
} as const;

/** The port SCF web functions listen on. */
export const DEFAULT_WEB_PORT = 9000;
export const DEFAULT_REDIS_PORT = 6379;
/** The gateway's default idle timeout. */
export const DEFAULT_IDLE_TIMEOUT_SECONDS = 600;
/** Pings never go less often than this, whatever the idle timeout. */
export const MAX_PING_INTERVAL_MS = 30_000;

/** Where Redis is. */
export interface RedisAddress {
  host: string;
  port: number;
  password?: string;
}

type EnvSource = Record<string, string | undefined>;

function misconfigured(message: string): ChatError {
  return new ChatError('MISCONFIGURED', message, ErrNo.MISCONFIGURED);
}

function intIn(env: EnvSource, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw misconfigured(`environment variable ${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  return n;
}

/** Reads `REDIS_HOST`, `REDIS_PORT` and `REDIS_PASSWORD`. @throws ChatError `MISCONFIGURED` naming the variable */
export function readRedisAddress(env: EnvSource = process.env): RedisAddress {
  const host = env[WebEnv.REDIS_HOST]?.trim();
  if (!host) throw misconfigured(`missing environment variable ${WebEnv.REDIS_HOST} (the Redis that web mode's rooms go through)`);
  const port = intIn(env, WebEnv.REDIS_PORT, DEFAULT_REDIS_PORT, 1, 65_535);
  const password = env[WebEnv.REDIS_PASSWORD] || undefined;
  return password ? { host, port, password } : { host, port };
}

/** Reads `PORT`. */
export function readWebPort(env: EnvSource = process.env): number {
  return intIn(env, WebEnv.PORT, DEFAULT_WEB_PORT, 0, 65_535);
}

/** How often to ping: a third of `IDLE_TIMEOUT_SECONDS`, at most {@link MAX_PING_INTERVAL_MS}. */
export function readPingIntervalMs(env: EnvSource = process.env): number {
  const idle = intIn(env, WebEnv.IDLE_TIMEOUT_SECONDS, DEFAULT_IDLE_TIMEOUT_SECONDS, 1, 86_400);
  return Math.min(MAX_PING_INTERVAL_MS, Math.floor((idle * 1000) / 3));
}
