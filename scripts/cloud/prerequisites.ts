/**
 * What a real deploy needs before it starts: one selected stack, terraform on PATH, credentials,
 * and the admission secret when the stage requires one. Each problem is named.
 */
import { checkRedisPasswords, RedisPasswordError } from '../../config/redis-password';
import { spawnSync } from 'node:child_process';
import { loadConfig } from '../../config/load';
import { CodedError } from '../../lib/errors';
import { defaultApp, targetsFor, type Selection, type Target } from '../../config/select';
import { CredentialEnv } from '../post-deploy/clients';

/** Thrown with every missing prerequisite, one per line. */
export class PrerequisiteError extends CodedError<'ERR_PREREQUISITES'> {
  constructor(readonly problems: string[]) {
    super('ERR_PREREQUISITES', `cannot deploy yet:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** The one stack a command acts on; several matching the selection is an error listing them. */
export function selectOne(selection: Selection): Target {
  const config = loadConfig(process.env.CHAT_CONFIG || undefined);
  // Without --app, the default app (the first the configuration names).
  const targets = targetsFor(config, { ...selection, app: selection.app ?? defaultApp(config) });
  if (targets.length > 1) {
    throw new Error(
      `choose one stack with --stage and --region; the selection matches ${targets.map((t) => `${t.name} (--app ${t.app} --stage ${t.stage} --region ${t.region})`).join(', ')}`,
    );
  }
  return targets[0];
}

/** Checks everything; returns the environment to deploy with (the admission secret as TF_VAR_). */
export function checkPrerequisites(target: Target, env: NodeJS.ProcessEnv = process.env, { needTerraform = true } = {}): Record<string, string> {
  const problems: string[] = [];
  if (needTerraform) {
    const probe = spawnSync('terraform', ['version'], { env: { ...env, CHECKPOINT_DISABLE: '1' }, encoding: 'utf8' });
    if (probe.error || probe.status !== 0) problems.push('terraform is not on PATH: install Terraform (1.4 or later, for terraform_data) and try again');
  }
  for (const name of [CredentialEnv.SECRET_ID, CredentialEnv.SECRET_KEY]) {
    if (!env[name])
      problems.push(
        `${name} is not set: export your Tencent Cloud API key (${CredentialEnv.SECRET_ID}, ${CredentialEnv.SECRET_KEY}; ${CredentialEnv.SECURITY_TOKEN} for temporary keys)`,
      );
  }
  const extra: Record<string, string> = {};
  const admission = target.settings.admission;
  if (admission) {
    const secret = env[admission.secretEnv] ?? env[`TF_VAR_${admission.secretEnv}`];
    if (!secret) problems.push(`stage ${target.stage} requires an admission secret: set ${admission.secretEnv}`);
    else extra[`TF_VAR_${admission.secretEnv}`] = secret;
  }
  if (target.settings.mode === 'web') {
    // Read as Terraform reads it, checked before anything is created; never printed.
    const name = target.settings.redis.passwordEnv;
    try {
      checkRedisPasswords([target], env);
      extra[`TF_VAR_${name}`] = (env[name] ?? env[`TF_VAR_${name}`])!;
    } catch (err) {
      problems.push(...(err instanceof RedisPasswordError ? err.problems : [(err as Error).message]));
    }
  }
  if (problems.length > 0) throw new PrerequisiteError(problems);
  return extra;
}
