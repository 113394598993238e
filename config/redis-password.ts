/**
 * The Redis password of a web-mode stack: read from the variable its `redis.passwordEnv` names (or
 * `TF_VAR_<name>`), never from the configuration, and checked as both the provider and the cloud
 * check it, so a password either would refuse is refused before anything is created.
 *
 * - The provider (terraform-provider-tencentcloud v1.82.97, `tencentcloud_redis_instance.password`,
 *   `ValidateMysqlPassword` in tencentcloud/common/validators.go): 8-64 characters, with at least
 *   two of: letters, digits, and the characters `_+-&=!@#$%^*()`.
 * - The cloud (tencentcloud-sdk-nodejs, redis_models.d.ts, `CreateInstancesRequest.Password`, for
 *   Redis 2.8-7.0): 8-64 characters, at least two of lowercase letters, uppercase letters, digits
 *   and ``()`~!@#$%^&*-+=_|{}[]:;<>,.?/``, and not starting with `/`.
 */
import type { Target } from './select';

const CLOUD_SPECIALS = '()`~!@#$%^&*-+=_|{}[]:;<>,.?/';
const PROVIDER_SPECIALS = '_+-&=!@#$%^*()';

/** Thrown when a web-mode stack's Redis password is missing or one the provider or cloud refuses. */
export class RedisPasswordError extends Error {
  readonly code = 'ERR_REDIS_PASSWORD';
  constructor(readonly problems: string[]) {
    super(`Redis password refused:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'RedisPasswordError';
  }
}

/**
 * Why a password cannot be used, or undefined when it can. The value itself is never in the reason.
 * @param name the variable it came from, named in the reason
 * @param required whether an unset variable is a problem (synth passes false: Terraform reads it at deploy)
 */
export function redisPasswordProblem(name: string, value: string | undefined, { required = true }: { required?: boolean } = {}): string | undefined {
  if (value === undefined) return required ? `${name} is not set: a web-mode stack's Redis needs a password (8-64 characters)` : undefined;
  if (value.length < 8 || value.length > 64) return `${name} has ${value.length} characters; a Redis password has 8 to 64`;
  if (value.startsWith('/')) return `${name} starts with "/", which TencentDB for Redis refuses`;
  const outside = [...value].filter((c) => !/[A-Za-z0-9]/.test(c) && !CLOUD_SPECIALS.includes(c));
  if (outside.length > 0) return `${name} holds characters TencentDB for Redis does not take (only letters, digits and ${CLOUD_SPECIALS})`;
  const cloudKinds = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((re) => re.test(value)).length;
  const providerKinds = [/[A-Za-z]/.test(value), /[0-9]/.test(value), [...value].some((c) => PROVIDER_SPECIALS.includes(c))].filter(Boolean).length;
  if (cloudKinds < 2 || providerKinds < 2) {
    return `${name} must mix at least two of: letters, digits, and ${PROVIDER_SPECIALS} (the provider counts upper- and lowercase letters as one kind)`;
  }
  return undefined;
}

/**
 * Checks the Redis password of every web-mode target, read as Terraform would: `<passwordEnv>`,
 * else `TF_VAR_<passwordEnv>`. Throws a {@link RedisPasswordError} naming each bad one.
 */
export function checkRedisPasswords(targets: Target[], env: NodeJS.ProcessEnv = process.env, { required = true }: { required?: boolean } = {}): void {
  const problems = new Set<string>();
  for (const target of targets) {
    if (target.settings.mode !== 'web') continue;
    const name = target.settings.redis.passwordEnv;
    const source = env[name] !== undefined ? name : env[`TF_VAR_${name}`] !== undefined ? `TF_VAR_${name}` : name;
    const problem = redisPasswordProblem(source, env[source], { required });
    if (problem) problems.add(`${target.name}: ${problem}`);
  }
  if (problems.size > 0) throw new RedisPasswordError([...problems]);
}
