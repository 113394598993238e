/**
 * The contract between the stack and its post-deploy step, in one place: the environment the hook
 * hands the step, the function variable the push address goes into, and the per-stack deploy
 * state.
 *
 * The deploy state: what the post-deploy step learned from the cloud (the reverse-push
 * address above all) and what it last released, kept in `.deploy/<stack>.json` (git-ignored) so
 * the next synth feeds it back into the functions' environment and a second deploy plans no
 * change, and the next post-deploy releases only when the API changed. A web-mode stack keeps its
 * web function there instead (created through the Cloud API by `scripts/web-function.ts`, which
 * writes the file), and its releases.
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

/** An event-mode stack's state, written by the post-deploy step. */
export const eventDeployStateSchema = z
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

/** The web function as `scripts/web-function.ts` last made it: what `GetFunction` cannot tell. */
export const webFunctionRecordSchema = z
  .object({
    name: z.string().min(1),
    namespace: z.string().min(1),
    /** The bundle hash whose code the function runs (GetFunction returns no code hash). */
    codeHash: z.string().min(1),
    /** ISO time of the last change the script made. */
    at: z.string(),
  })
  .strict();

export type WebFunctionRecord = z.infer<typeof webFunctionRecordSchema>;

/**
 * A web-mode stack's state, written by `scripts/web-function.ts`: the function (created through the
 * Cloud API, so Terraform's state holds none of it) and, once its `release` step ran, the API and
 * what was last released to it.
 */
export const webDeployStateSchema = z
  .object({
    version: z.literal(1),
    mode: z.literal('web'),
    stack: z.string(),
    region: z.string(),
    function: webFunctionRecordSchema.optional(),
    serviceId: z.string().optional(),
    apiId: z.string().optional(),
    release: releaseSchema.optional(),
    updatedAt: z.string(),
  })
  .strict();

/** An event-mode stack's deploy state. */
export type DeployState = z.infer<typeof eventDeployStateSchema>;
/** A web-mode stack's deploy state. */
export type WebDeployState = z.infer<typeof webDeployStateSchema>;

/** The file's JSON, undefined when there is none yet; a file that is not JSON is an error naming it. */
function readStateFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`deploy state ${file} is not valid JSON (${(err as Error).message}); delete it and deploy again`, { cause: err });
  }
}

function checked<S extends z.ZodType<{ stack: string }>>(schema: S, parsed: unknown, file: string, stack: string): z.infer<S> {
  const result = schema.safeParse(parsed);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new Error(`deploy state ${file} is invalid (${problems}); delete it and deploy again`);
  }
  if (result.data.stack !== stack) throw new Error(`deploy state ${file} belongs to stack "${result.data.stack}", not "${stack}"`);
  return result.data;
}

const isWeb = (parsed: unknown) => typeof parsed === 'object' && parsed !== null && (parsed as { mode?: unknown }).mode === 'web';

/**
 * Reads an event-mode stack's state; undefined when there is none yet, or when the file is a
 * web-mode stack's (switching modes starts afresh, as {@link readWebDeployState} does: the next
 * deploy's step writes it again). A damaged file is an error naming it.
 */
export function readDeployState(stack: string, env: NodeJS.ProcessEnv = process.env): DeployState | undefined {
  const file = deployStatePath(stack, env);
  const parsed = readStateFile(file);
  if (parsed === undefined || isWeb(parsed)) return undefined;
  return checked(eventDeployStateSchema, parsed, file, stack);
}

/** Reads a web-mode stack's state; undefined when there is none yet, or when the file is an event-mode stack's (switching modes starts afresh). */
export function readWebDeployState(stack: string, env: NodeJS.ProcessEnv = process.env): WebDeployState | undefined {
  const file = deployStatePath(stack, env);
  const parsed = readStateFile(file);
  if (parsed === undefined || !isWeb(parsed)) return undefined;
  return checked(webDeployStateSchema, parsed, file, stack);
}

function writeStateFile(stack: string, content: unknown, env: NodeJS.ProcessEnv): string {
  const file = deployStatePath(stack, env);
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  // Owner-only, as Terraform state should be: it names the account's resources and the push address.
  writeFileSync(tmp, JSON.stringify(content, null, 2) + '\n', { mode: 0o600 });
  renameSync(tmp, file);
  return file;
}

/** Writes an event-mode stack's state atomically (a crash never leaves half a file). */
export function writeDeployState(state: DeployState, env: NodeJS.ProcessEnv = process.env): string {
  return writeStateFile(state.stack, eventDeployStateSchema.parse(state), env);
}

/** Writes a web-mode stack's state atomically. */
export function writeWebDeployState(state: WebDeployState, env: NodeJS.ProcessEnv = process.env): string {
  return writeStateFile(state.stack, webDeployStateSchema.parse(state), env);
}
