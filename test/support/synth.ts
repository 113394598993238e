/**
 * Synthesizes stacks into a temporary folder, the way `cdktf synth` does, and reads them back.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { AppConfig } from '../../config/schema';
import type { Selection } from '../../config/select';
import type { AppBundles } from '../../scripts/bundle';
import { synthesizeApps } from '../../stacks/app';

/** A synthesized `cdk.tf.json`, typed loosely. */
export type TerraformJson = Record<string, any>;

export interface Synthesized {
  outdir: string;
  /** By stack name. */
  docs: Record<string, TerraformJson>;
  stackDir(name: string): string;
}

const made: string[] = [];

/** Removes every folder `synth` made; call from afterAll. */
export async function removeSynthOutput(): Promise<void> {
  await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}

/** Synthesizes with the bundles of each app, by app name. */
export async function synth(
  config: AppConfig,
  bundles: Record<string, AppBundles>,
  options: { selection?: Selection; env?: NodeJS.ProcessEnv } = {},
): Promise<Synthesized> {
  const outdir = await mkdtemp(path.join(os.tmpdir(), 'synth-'));
  made.push(outdir);
  const { targets } = synthesizeApps({
    config,
    bundles,
    outdir,
    selection: options.selection,
    env: options.env ?? { CHAT_DEPLOY_STATE_DIR: path.join(outdir, 'no-state') },
  });
  const docs: Record<string, TerraformJson> = {};
  for (const t of targets) docs[t.name] = JSON.parse(await readFile(path.join(outdir, 'stacks', t.name, 'cdk.tf.json'), 'utf8'));
  return { outdir, docs, stackDir: (name) => path.join(outdir, 'stacks', name) };
}

/** The only resource of a type in a document (its body and logical id). */
export function only(doc: TerraformJson, type: string): { id: string; body: TerraformJson } {
  const entries = Object.entries(doc.resource?.[type] ?? {});
  if (entries.length !== 1) throw new Error(`expected one ${type}, found ${entries.length}`);
  return { id: entries[0][0], body: entries[0][1] as TerraformJson };
}

/** Every resource of a type, by logical id. */
export function all(doc: TerraformJson, type: string): Record<string, TerraformJson> {
  return doc.resource?.[type] ?? {};
}

/** A copy without cdktf's `//` metadata. */
export function withoutMetadata<T>(value: T): T {
  if (Array.isArray(value)) return value.map(withoutMetadata) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([k]) => k !== '//')
        .map(([k, v]) => [k, withoutMetadata(v)]),
    ) as T;
  }
  return value;
}
