/**
 * What a web-mode stack needs of its merged settings, checked per target (an app's stage in one
 * region) since the mode, the timeouts and the zones may each come from the defaults, the app, the
 * stage or `--mode`. A combination the cloud would refuse is refused here, naming the setting.
 */
import { CodedError } from '../lib/errors';
import { DEFAULT_REDIS_ZONES } from './regions';
import type { Target } from './select';

/**
 * The web function's WebSocket idle timeout range: `ProtocolParams.WSParams.IdleTimeOut` is
 * "1~1800s" in the SDK's scf_models.d.ts (tencentcloud-sdk-nodejs), seed 002 says 10-7200 s; a
 * value both allow.
 */
export const WEB_IDLE_TIMEOUT_RANGE = { min: 10, max: 1800 } as const;

/** Thrown for targets whose settings cannot make their stack; `problems` has one line each. */
export class TargetError extends CodedError<'ERR_TARGET'> {
  constructor(readonly problems: string[]) {
    super('ERR_TARGET', `cannot build these stacks:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** The zone the target's subnet and Redis go in; undefined when neither the config nor the built-in table has one. */
export function redisZone(target: Target): string | undefined {
  return target.settings.redis.zones[target.region] ?? DEFAULT_REDIS_ZONES[target.region];
}

/** The parts of an IPv4 CIDR block, or undefined for a malformed one. */
function parseCidr(block: string): { base: number; bits: number } | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(block);
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  const bits = Number(m[5]);
  if (octets.some((o) => o > 255) || bits > 32) return undefined;
  const base = octets.reduce((n, o) => n * 256 + o, 0);
  return { base, bits };
}

const size = (bits: number) => 2 ** (32 - bits);

/** Whether `inner` lies inside `outer`. */
function within(inner: { base: number; bits: number }, outer: { base: number; bits: number }): boolean {
  return inner.bits >= outer.bits && inner.base >= outer.base && inner.base + size(inner.bits) <= outer.base + size(outer.bits);
}

/** The private ranges a VPC may use, with the masks the VPC console allows (/12 to /28). */
const PRIVATE_RANGES = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'].map((r) => parseCidr(r)!);

function cidrProblems(vpc: Target['settings']['vpc']): string[] {
  const problems: string[] = [];
  const outer = parseCidr(vpc.cidr);
  const inner = parseCidr(vpc.subnetCidr);
  if (!outer) problems.push(`vpc.cidr ${vpc.cidr} is not a CIDR block`);
  if (!inner) problems.push(`vpc.subnetCidr ${vpc.subnetCidr} is not a CIDR block`);
  if (!outer || !inner) return problems;
  if (outer.base % size(outer.bits) !== 0) problems.push(`vpc.cidr ${vpc.cidr} has host bits set`);
  if (inner.base % size(inner.bits) !== 0) problems.push(`vpc.subnetCidr ${vpc.subnetCidr} has host bits set`);
  if (outer.bits < 12 || outer.bits > 28 || !PRIVATE_RANGES.some((r) => within(outer, r))) {
    problems.push(`vpc.cidr ${vpc.cidr} must lie in 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16, with a mask from /12 to /28`);
  }
  if (!within(inner, outer)) problems.push(`vpc.subnetCidr ${vpc.subnetCidr} must lie inside vpc.cidr ${vpc.cidr}`);
  return problems;
}

/** Why the target's web-mode stack cannot be built; empty when it can (or the target is in event mode). */
export function webModeProblems(target: Target): string[] {
  const { settings } = target;
  if (settings.mode !== 'web') return [];
  const problems: string[] = [];
  const idle = settings.idleTimeoutSeconds;
  if (idle < WEB_IDLE_TIMEOUT_RANGE.min || idle > WEB_IDLE_TIMEOUT_RANGE.max) {
    problems.push(
      `web mode takes idleTimeoutSeconds from ${WEB_IDLE_TIMEOUT_RANGE.min} to ${WEB_IDLE_TIMEOUT_RANGE.max} (the web function's WSParams.IdleTimeOut), got ${idle}`,
    );
  }
  if (settings.web.timeoutSeconds < idle) {
    problems.push(
      `web.timeoutSeconds (${settings.web.timeoutSeconds}) must be at least idleTimeoutSeconds (${idle}): a web function's execution timeout may not be shorter than its idle timeout`,
    );
  }
  if (!redisZone(target)) {
    problems.push(
      `web mode needs an availability zone for Redis in ${target.region}: set redis.zones["${target.region}"] (e.g. "${target.region}-1") in the app or the stage; the data source tencentcloud_redis_zone_config lists the zones that sell it`,
    );
  } else if (!redisZone(target)!.startsWith(`${target.region}-`)) {
    problems.push(`redis.zones["${target.region}"] is ${redisZone(target)}, a zone of another region`);
  }
  if (settings.admission && settings.admission.secretEnv === settings.redis.passwordEnv) {
    problems.push(
      `redis.passwordEnv and admission.secretEnv are both ${settings.redis.passwordEnv}: the Redis password and the admission secret must be different variables`,
    );
  }
  problems.push(...cidrProblems(settings.vpc));
  return problems;
}
