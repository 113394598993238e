/**
 * Bundles each function into a deterministic, content-hashed zip for the SCF Node.js runtime:
 * `dist/functions/<name>-<hash>.zip` holding one CommonJS `index.js` that exports `main_handler`.
 *
 * The provider re-uploads a function only when its `zip_file` path changes, hence the hash in the
 * name; the same sources always give the same bytes, hence the fixed timestamps.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { zipSync } from 'fflate';

/** The three handlers, by the name of their source file in `functions/`. */
export const FUNCTION_NAMES = ['register', 'transport', 'cleanup'] as const;
export type FunctionName = (typeof FUNCTION_NAMES)[number];

/** The runtime the bundles target. */
export const RUNTIME = 'Nodejs18.15';
const ESBUILD_TARGET = 'node18.15';

/** One built function. */
export interface BundleInfo {
  name: FunctionName;
  /** Absolute path of the zip. */
  zipPath: string;
  /** Path relative to the project root, as the stack references it. */
  relativePath: string;
  /** First 16 hex digits of the zip's SHA-256. */
  hash: string;
  bytes: number;
  indexBytes: number;
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** Where zips are written. */
export const DIST_DIR = path.join(ROOT, 'dist', 'functions');
// 1980-01-01, the earliest time a zip entry can hold: any fixed value makes the bytes reproducible.
const ZIP_MTIME = new Date('1980-01-01T00:00:00Z');

async function bundleOne(name: FunctionName, outDir: string): Promise<BundleInfo> {
  const result = await build({
    entryPoints: [path.join(ROOT, 'functions', `${name}.ts`)],
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
    logLevel: 'warning',
  });
  const index = result.outputFiles[0].contents;
  const zip = zipSync({ 'index.js': [index, { mtime: ZIP_MTIME, level: 9 }] });
  const hash = createHash('sha256').update(zip).digest('hex').slice(0, 16);
  const fileName = `${name}-${hash}.zip`;
  const zipPath = path.join(outDir, fileName);
  // Older bundles of this function are removed so the folder shows only what the stack uses.
  for (const entry of await readdir(outDir)) {
    if (entry.startsWith(`${name}-`) && entry.endsWith('.zip') && entry !== fileName) await rm(path.join(outDir, entry));
  }
  await writeFile(zipPath, zip);
  return { name, zipPath, relativePath: path.relative(ROOT, zipPath), hash, bytes: zip.length, indexBytes: index.length };
}

/** Builds all three zips and writes `manifest.json` beside them. */
export async function bundleFunctions(outDir = DIST_DIR): Promise<Record<FunctionName, BundleInfo>> {
  await mkdir(outDir, { recursive: true });
  const infos = await Promise.all(FUNCTION_NAMES.map((name) => bundleOne(name, outDir)));
  const manifest = Object.fromEntries(infos.map((i) => [i.name, i])) as Record<FunctionName, BundleInfo>;
  await writeFile(path.join(outDir, 'manifest.json'), JSON.stringify({ runtime: RUNTIME, functions: manifest }, null, 2) + '\n');
  return manifest;
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const started = Date.now();
  const manifest = await bundleFunctions();
  for (const info of Object.values(manifest)) {
    console.log(`${info.relativePath}  ${kib(info.bytes)} zipped (index.js ${kib(info.indexBytes)})`);
  }
  console.log(`bundled ${FUNCTION_NAMES.length} functions for ${RUNTIME} in ${Date.now() - started} ms`);
}
