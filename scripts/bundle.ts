/**
 * Bundles each app's three functions into deterministic, content-hashed zips for the SCF Node.js
 * runtime: `dist/functions/<app>/<role>-<hash>.zip`, each holding one CommonJS `index.js` whose
 * `main_handler` is that role's handler of the app's `defineApp(...)` (its module's default export).
 * An app in web mode gets one more, `web-<hash>.zip`: an `index.js` whose top level serves the app
 * on `PORT` (functions/toolkit/web), and the executable `scf_bootstrap` SCF starts a web function with.
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
import { ROLES, RUNTIME, type AppBundles, type BundleInfo, type BundleRole } from '../stacks/roles';

export { ROLES, RUNTIME, type AppBundles, type BundleInfo, type BundleRole, type Role } from '../stacks/roles';

const ESBUILD_TARGET = 'node18.15';
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** Where zips are written. */
export const DIST_DIR = path.join(ROOT, 'dist', 'functions');
// 1980-01-01, the earliest time a zip entry can hold: any fixed value makes the bytes reproducible.
const ZIP_MTIME = new Date('1980-01-01T00:00:00Z');

/** What the bundler needs of an app: its module, relative to the project root (or absolute), and its mode. */
export interface AppSource {
  entry: string;
  /** `web` also builds the web function's zip. @default 'event' */
  mode?: 'event' | 'web';
}

/** What SCF runs to start a web function: the runtime's node on the bundle (`PORT` is 9000 there). */
export const SCF_BOOTSTRAP = '#!/bin/bash\nexec /var/lang/node18/bin/node index.js\n';
// Unix file modes in the zip's external attributes (made by Unix: os 3).
const FILE_MODE = 0o100644;
const EXECUTABLE_MODE = 0o100755;

/** Thrown for an app the bundler cannot build, naming it. */
export class BundleError extends Error {
  readonly code = 'ERR_BUNDLE';
}

/** Each role's one-line module over the app: its handler as SCF's main_handler, or the web server started. */
function moduleFor(entry: string, role: BundleRole): string {
  if (role === 'web') return `import app from ${JSON.stringify(entry)};\nimport { runWebFunction } from './functions/toolkit/web';\nrunWebFunction(app);\n`;
  return `import app from ${JSON.stringify(entry)};\nexport const main_handler = app.${role};\n`;
}

async function bundleOne(app: string, entry: string, role: BundleRole, outDir: string): Promise<BundleInfo> {
  let result;
  try {
    result = await build({
      stdin: {
        contents: moduleFor(entry, role),
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
  const unix = (mode: number) => ({ mtime: ZIP_MTIME, level: 9, os: 3, attrs: (mode << 16) >>> 0 }) as const;
  const zip =
    role === 'web'
      ? zipSync({ 'index.js': [index, unix(FILE_MODE)], scf_bootstrap: [Buffer.from(SCF_BOOTSTRAP, 'utf8'), unix(EXECUTABLE_MODE)] })
      : zipSync({ 'index.js': [index, { mtime: ZIP_MTIME, level: 9 }] });
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

function entryOf(app: string, source: AppSource): string {
  const entry = path.resolve(ROOT, source.entry);
  if (!existsSync(entry)) throw new BundleError(`app ${app}: its entry ${source.entry} does not exist`);
  return entry;
}

/**
 * Builds one app's web function into `<outDir>/<app>/web-<hash>.zip`: `index.js` serving the app
 * (`serveWeb`, on `PORT`, default 9000) and the executable `scf_bootstrap`.
 * @throws BundleError naming the app
 */
export async function bundleWebApp(app: string, entry: string, outDir = DIST_DIR): Promise<BundleInfo> {
  const resolved = entryOf(app, { entry });
  const dir = path.join(outDir, app);
  await mkdir(dir, { recursive: true });
  return bundleOne(app, resolved, 'web', dir);
}

/** Builds one app's three zips, and its web zip in web mode, into `<outDir>/<app>/`. @throws BundleError naming the app. */
export async function bundleApp(app: string, source: AppSource, outDir = DIST_DIR): Promise<AppBundles> {
  const entry = entryOf(app, source);
  const dir = path.join(outDir, app);
  await mkdir(dir, { recursive: true });
  const roles: BundleRole[] = source.mode === 'web' ? [...ROLES, 'web'] : [...ROLES];
  const infos = await Promise.all(roles.map((role) => bundleOne(app, entry, role, dir)));
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
  const selection = selectionFrom();
  const only = selection.app;
  if (only && !config.apps[only]) {
    console.error(`unknown app "${only}"; the configuration has: ${Object.keys(config.apps).join(', ')}`);
    process.exit(1);
  }
  try {
    // An app is built for web mode when it, the defaults or any stage says so, or `--mode web` does.
    const stageSaysWeb = [config.defaults, ...Object.values(config.stages)].some((s) => (s as { mode?: string }).mode === 'web');
    const sources = Object.fromEntries(
      Object.entries(only ? { [only]: config.apps[only]! } : config.apps).map(([name, app]) => {
        const web = selection.mode === 'web' || (app as { mode?: string }).mode === 'web' || (selection.mode !== 'event' && stageSaysWeb);
        return [name, { entry: app.entry, mode: web ? ('web' as const) : ('event' as const) }];
      }),
    );
    const built = await bundleApps(sources);
    let count = 0;
    for (const bundles of Object.values(built)) {
      for (const info of Object.values(bundles)) {
        count += 1;
        console.log(`${info.relativePath}  ${kib(info.bytes)} zipped (index.js ${kib(info.indexBytes)})`);
      }
    }
    console.log(`bundled ${count} functions of ${Object.keys(built).join(', ')} for ${RUNTIME} in ${Date.now() - started} ms`);
  } catch (err) {
    console.error((err as Error).message);
    process.exit(1);
  }
}
