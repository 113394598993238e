/**
 * Bundles each app's three functions into deterministic, content-hashed zips for the SCF Node.js
 * runtime: `dist/functions/<app>/<role>-<hash>.zip`, each holding one CommonJS `index.js` whose
 * `main_handler` is that role's handler of the app's `defineApp(...)` (its module's default export).
 *
 * The provider re-uploads a function only when its `zip_file` path changes, hence the hash in the
 * name; the same sources always give the same bytes, hence the fixed timestamps.
 *
 *   npm run build:functions [-- --app NAME]
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { zipSync } from 'fflate';
import { ROLES, RUNTIME, type AppBundles, type BundleInfo, type Role } from '../stacks/roles';

export { ROLES, RUNTIME, type AppBundles, type BundleInfo, type Role } from '../stacks/roles';

const ESBUILD_TARGET = 'node18.15';
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** Where zips are written. */
export const DIST_DIR = path.join(ROOT, 'dist', 'functions');
// 1980-01-01, the earliest time a zip entry can hold: any fixed value makes the bytes reproducible.
const ZIP_MTIME = new Date('1980-01-01T00:00:00Z');

/** What the bundler needs of an app: its module, relative to the project root (or absolute). */
export interface AppSource {
  entry: string;
}

/** Thrown for an app the bundler cannot build, naming it. */
export class BundleError extends Error {
  readonly code = 'ERR_BUNDLE';
}

async function bundleOne(app: string, entry: string, role: Role, outDir: string): Promise<BundleInfo> {
  let result;
  try {
    result = await build({
      // A module of one line per function: that role's handler of the app, as SCF's main_handler.
      stdin: {
        contents: `import app from ${JSON.stringify(entry)};\nexport const main_handler = app.${role};\n`,
        resolveDir: ROOT,
        sourcefile: `${app}-${role}.ts`,
        loader: 'ts',
      },
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: ESBUILD_TARGET,
      write: false,
      outfile: 'index.js',
      legalComments: 'none',
      // Smaller code loads faster on a cold start; identifiers stay so stack traces remain readable.
      minifyWhitespace: true,
      minifySyntax: true,
      logLevel: 'silent',
    });
  } catch (err) {
    throw new BundleError(`app ${app}: cannot bundle ${path.relative(ROOT, entry)} for ${role}: ${(err as Error).message}`);
  }
  const index = result.outputFiles[0]!.contents;
  const zip = zipSync({ 'index.js': [index, { mtime: ZIP_MTIME, level: 9 }] });
  const hash = createHash('sha256').update(zip).digest('hex').slice(0, 16);
  const fileName = `${role}-${hash}.zip`;
  const zipPath = path.join(outDir, fileName);
  // Older bundles of this function are removed so the folder shows only what the stack uses.
  for (const file of await readdir(outDir)) {
    if (file.startsWith(`${role}-`) && file.endsWith('.zip') && file !== fileName) await rm(path.join(outDir, file));
  }
  await writeFile(zipPath, zip);
  return { role, zipPath, relativePath: path.relative(ROOT, zipPath), hash, bytes: zip.length, indexBytes: index.length };
}

/** Builds one app's three zips into `<outDir>/<app>/`. @throws BundleError naming the app. */
export async function bundleApp(app: string, source: AppSource, outDir = DIST_DIR): Promise<AppBundles> {
  const entry = path.resolve(ROOT, source.entry);
  if (!existsSync(entry)) throw new BundleError(`app ${app}: its entry ${source.entry} does not exist`);
  const dir = path.join(outDir, app);
  await mkdir(dir, { recursive: true });
  const infos = await Promise.all(ROLES.map((role) => bundleOne(app, entry, role, dir)));
  return Object.fromEntries(infos.map((i) => [i.role, i])) as AppBundles;
}

/** Builds every app's zips and writes `manifest.json` (runtime, and each app's bundles) beside them. */
export async function bundleApps(apps: Record<string, AppSource>, outDir = DIST_DIR): Promise<Record<string, AppBundles>> {
  const built = Object.fromEntries(
    await Promise.all(Object.entries(apps).map(async ([name, source]) => [name, await bundleApp(name, source, outDir)] as const)),
  );
  await writeFile(path.join(outDir, 'manifest.json'), JSON.stringify({ runtime: RUNTIME, apps: built }, null, 2) + '\n');
  return built;
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const { loadConfig } = await import('../config/load');
  const { selectionFrom } = await import('../config/select');
  const started = Date.now();
  const config = loadConfig(process.env.CHAT_CONFIG || undefined);
  const only = selectionFrom().app;
  if (only && !config.apps[only]) {
    console.error(`unknown app "${only}"; the configuration has: ${Object.keys(config.apps).join(', ')}`);
    process.exit(1);
  }
  try {
    const built = await bundleApps(only ? { [only]: config.apps[only]! } : config.apps);
    for (const bundles of Object.values(built)) {
      for (const info of Object.values(bundles)) console.log(`${info.relativePath}  ${kib(info.bytes)} zipped (index.js ${kib(info.indexBytes)})`);
    }
    console.log(
      `bundled ${Object.keys(built).length * ROLES.length} functions of ${Object.keys(built).join(', ')} for ${RUNTIME} in ${Date.now() - started} ms`,
    );
  } catch (err) {
    console.error((err as Error).message);
    process.exit(1);
  }
}
