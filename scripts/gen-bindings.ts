/**
 * Generates the typed tencentcloud provider bindings in `.gen/` with `cdktf get`, offline: the
 * Terraform registry is not needed because the provider's own schema is vendored in
 * `stacks/provider/` and handed to cdktf as a schema cache. Does nothing when `.gen/` is current.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SCHEMA_FILE = path.join(ROOT, 'stacks', 'provider', 'tencentcloud-1.82.97.schema.json');
const GEN_DIR = path.join(ROOT, '.gen');
const CACHE_DIR = path.join(ROOT, '.gen-cache');
const STAMP = path.join(GEN_DIR, '.schema-stamp');

/** The provider constraint, as `cdktf.json` declares it. */
function providerConstraint(): { name: string; version: string } {
  const cdktf = JSON.parse(readFileSync(path.join(ROOT, 'cdktf.json'), 'utf8')) as { terraformProviders: string[] };
  const spec = cdktf.terraformProviders.find((p) => p.startsWith('tencentcloudstack/tencentcloud@'));
  if (!spec) throw new Error('cdktf.json declares no tencentcloudstack/tencentcloud provider');
  return { name: 'tencentcloud', version: spec.slice(spec.indexOf('@') + 1).trim() };
}

/** Regenerates the bindings if the schema, the constraint or cdktf changed. Returns whether it ran. */
export function generateBindings({ force = false } = {}): boolean {
  const schemaText = readFileSync(SCHEMA_FILE, 'utf8');
  const { name, version } = providerConstraint();
  const cdktfVersion = JSON.parse(readFileSync(path.join(ROOT, 'node_modules', 'cdktf', 'package.json'), 'utf8')).version as string;
  const stamp = createHash('sha256').update(schemaText).update(version).update(cdktfVersion).digest('hex');
  if (!force && existsSync(STAMP) && readFileSync(STAMP, 'utf8') === stamp) return false;

  // cdktf looks the schema up as <provider name>@<url-encoded constraint>.json. provider_versions is
  // dropped so that the synthesized constraint stays the declared `~> 1.82` instead of pinning 1.82.97.
  const schema = JSON.parse(schemaText) as Record<string, unknown>;
  delete schema.provider_versions;
  mkdirSync(CACHE_DIR, { recursive: true });
  writeFileSync(path.join(CACHE_DIR, `${name}@${encodeURIComponent(version)}.json`), JSON.stringify(schema));

  const started = Date.now();
  try {
    execFileSync(path.join(ROOT, 'node_modules', '.bin', 'cdktf'), ['get', '--force', '--experimental-provider-schema-cache-path', CACHE_DIR], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CHECKPOINT_DISABLE: '1', CI: '1' },
    });
  } catch (err) {
    // The CLI is chatty even when it works; its output is shown only when it fails.
    const e = err as { stdout?: Buffer; stderr?: Buffer; message: string };
    throw new Error(`cdktf get failed: ${e.message}\n${e.stdout?.toString() ?? ''}${e.stderr?.toString() ?? ''}`, { cause: err });
  }
  writeFileSync(STAMP, stamp);
  console.log(`generated tencentcloud provider bindings (${version}) in .gen/ in ${Date.now() - started} ms`);
  return true;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  try {
    if (!generateBindings({ force: process.argv.includes('--force') })) console.log('tencentcloud provider bindings in .gen/ are up to date');
  } catch (err) {
    console.error(`could not generate the provider bindings: ${(err as Error).message}`);
    process.exit(1);
  }
}
