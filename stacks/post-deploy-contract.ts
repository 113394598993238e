/**
 * The contract between the stack and its post-deploy step, in one place: the environment the hook
 * hands the step, the function variable the push address goes into, and the per-stack deploy
 * state.
 *
 * The deploy state: what the post-deploy step learned from the cloud (the reverse-push
 * address above all) and what it last released, kept in `.deploy/<stack>.json` (git-ignored) so
 * the next synth feeds it back into the functions' environment and a second deploy plans no
 * change, and the next post-deploy releases only when the API changed.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { Env } from '../functions/lib/config';

/** Environment variables the post-deploy hook hands the step. */
export const HookEnv = {
  STACK: 'CHAT_STACK',
  REGION: 'CHAT_REGION',
  SERVICE_ID: 'CHAT_SERVICE_ID',
  API_ID: 'CHAT_API_ID',
  ENVIRONMENT: 'CHAT_ENVIRONMENT',
  NAMESPACE: 'CHAT_NAMESPACE',
  REGISTER_FUNCTION: 'CHAT_REGISTER_FUNCTION',
  TRANSPORT_FUNCTION: 'CHAT_TRANSPORT_FUNCTION',
  CLEANUP_FUNCTION: 'CHAT_CLEANUP_FUNCTION',
  QUALIFIER: 'CHAT_QUALIFIER',
  CLIENT_URL: 'CHAT_CLIENT_URL',
  SCF_FUNCTION_TYPE: 'CHAT_SCF_FUNCTION_TYPE',
} as const;

/** The function environment variable the step writes the reverse-push address into. */
export const URL_VARIABLE = Env.URL;

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Where state files live: `.deploy/`, or `CHAT_DEPLOY_STATE_DIR` (the local cloud keeps its own). */
export function deployStateDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(ROOT, env.CHAT_DEPLOY_STATE_DIR || '.deploy');
}

/** The state file of one stack. */
export function deployStatePath(stack: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(deployStateDir(env), `${stack}.json`);
}

/** What the post-deploy step last released. */
export const releaseSchema = z
  .object({
    /** `apiFingerprint` of the definition released: SHA-256 hex of its ModifyApiRequest-shaped fields. */
    fingerprint: z.string().regex(/^[0-9a-f]{64}$/, 'must be a SHA-256 hex digest'),
    /** The API Gateway environment released to. */
    environment: z.string().min(1),
    /** `ReleaseService`'s `ReleaseVersion`; absent when the answer had none. */
    version: z.string().optional(),
    /** ISO time of the release. */
    at: z.string(),
  })
  .strict();

export type ReleaseRecord = z.infer<typeof releaseSchema>;

export const deployStateSchema = z
  .object({
    version: z.literal(1),
    stack: z.string(),
    region: z.string(),
    serviceId: z.string(),
    apiId: z.string(),
    /** The gateway's reverse-push address (`DescribeApi` → `InternalDomain`). */
    url: z.string().regex(/^https?:\/\//, 'must be an http(s) address'),
    updatedAt: z.string(),
    /**
     * The last release the post-deploy step made (`ReleaseService`). Absent in files written before
     * the step released on its own, and until its first release: it then releases once.
     */
    release: releaseSchema.optional(),
  })
  .strict();

export type DeployState = z.infer<typeof deployStateSchema>;

/** Reads a stack's state; undefined when there is none yet. A damaged file is an error naming it. */
export function readDeployState(stack: string, env: NodeJS.ProcessEnv = process.env): DeployState | undefined {
  const file = deployStatePath(stack, env);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`deploy state ${file} is not valid JSON (${(err as Error).message}); delete it and deploy again`, { cause: err });
  }
  const result = deployStateSchema.safeParse(parsed);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new Error(`deploy state ${file} is invalid (${problems}); delete it and deploy again`);
  }
  if (result.data.stack !== stack) throw new Error(`deploy state ${file} belongs to stack "${result.data.stack}", not "${stack}"`);
  return result.data;
}

/** Writes a stack's state atomically (a crash never leaves half a file). */
export function writeDeployState(state: DeployState, env: NodeJS.ProcessEnv = process.env): string {
  const file = deployStatePath(state.stack, env);
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  // Owner-only, as Terraform state should be: it names the account's resources and the push address.
  writeFileSync(tmp, JSON.stringify(deployStateSchema.parse(state), null, 2) + '\n', { mode: 0o600 });
  renameSync(tmp, file);
  return file;
}
