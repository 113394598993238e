/**
 * Admission fails closed: a stage configured for admission never runs with an empty or short secret.
 *
 * The same rule is applied at synth, deploy and start (here) and by the register function (through
 * {@link admissionSecretProblem}), so a weak secret is refused where it is given, naming the variable,
 * instead of letting everyone in. This module imports nothing at run time: the functions bundle it.
 */
import type { Target } from './select';

/**
 * Fewest bytes (UTF-8) an admission secret may have: 16 bytes is 128 bits, enough for an HMAC-SHA256
 * key that is random (e.g. `openssl rand -base64 32`); anything shorter is likely a word or a placeholder.
 */
export const MIN_ADMISSION_SECRET_BYTES = 16;

/** Thrown when a stage's admission secret is missing, empty or short; `problems` names each variable. */
export class AdmissionSecretError extends Error {
  readonly code = 'ERR_ADMISSION_SECRET';
  constructor(readonly problems: string[]) {
    super(`admission secret refused:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'AdmissionSecretError';
  }
}

/**
 * Why a secret cannot be used, or undefined when it can. `undefined` (not set) is a problem only when
 * `required`; an empty, blank or short value always is.
 * @param name the variable the secret came from, named in the reason
 */
export function admissionSecretProblem(name: string, value: string | undefined, { required = true }: { required?: boolean } = {}): string | undefined {
  if (value === undefined) return required ? `${name} is not set: admission needs a secret of at least ${MIN_ADMISSION_SECRET_BYTES} bytes` : undefined;
  if (value.trim() === '') return `${name} is empty: an empty secret would let everyone in; set at least ${MIN_ADMISSION_SECRET_BYTES} bytes`;
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes < MIN_ADMISSION_SECRET_BYTES) return `${name} is ${bytes} bytes, fewer than the ${MIN_ADMISSION_SECRET_BYTES} an admission secret needs`;
  return undefined;
}

/**
 * Checks the admission secret of every target that requires admission, read as Terraform would:
 * `<secretEnv>`, else `TF_VAR_<secretEnv>`. Throws an {@link AdmissionSecretError} naming each bad one.
 * @param required refuse a secret that is not set at all (deploy and start); synth passes false, since
 *   the secret is a Terraform variable filled only at deploy
 */
export function checkAdmissionSecrets(targets: Target[], env: NodeJS.ProcessEnv = process.env, { required = true }: { required?: boolean } = {}): void {
  const problems = new Set<string>();
  for (const target of targets) {
    const name = target.settings.admission?.secretEnv;
    if (!name) continue;
    const source = env[name] !== undefined ? name : env[`TF_VAR_${name}`] !== undefined ? `TF_VAR_${name}` : name;
    const problem = admissionSecretProblem(source, env[source], { required });
    if (problem) problems.add(`stage ${target.stage}: ${problem}`);
  }
  if (problems.size > 0) throw new AdmissionSecretError([...problems]);
}
