/**
 * Unpacks a code zip once per content: `<workDir>/<name>-<16 hex of its SHA-256>/`, reused when
 * present, so the same hashed zip the stack deploys is what runs.
 */
import { createHash, randomBytes } from 'node:crypto';
import { access, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { unzipSync } from 'fflate';
import { describeError } from '../coded-error';
import { ScfError } from './errors';

export interface UnpackedCode {
  /** Absolute folder holding the zip's files. */
  directory: string;
  /** Hex SHA-256 of the zip's bytes. */
  codeSha256: string;
  /** Paths of the files in the zip, `/`-separated, sorted. */
  files: string[];
}

/**
 * Marker written to the work folder (when it has no package.json) so the unpacked `.js` files load
 * as CommonJS, as on SCF: without it, a work folder inside an ESM project (`"type": "module"`)
 * would make Node load the bundles as ES modules.
 */
const WORK_DIR_PACKAGE_JSON = JSON.stringify({ private: true, type: 'commonjs' }, null, 2) + '\n';

/**
 * Unpacks `zipPath` for function `name` into `workDir`, or reuses an earlier unpacking of the same bytes.
 * @throws ScfError `ERR_BAD_ZIP` when the zip cannot be read or an entry would land outside the folder.
 */
export async function unpackZip(zipPath: string, workDir: string, name: string): Promise<UnpackedCode> {
  let zip: Buffer;
  try {
    zip = await readFile(zipPath);
  } catch (err) {
    throw new ScfError('ERR_BAD_ZIP', `cannot read the code zip ${zipPath}: ${describeError(err)}`, { cause: err });
  }
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(zip);
  } catch (err) {
    throw new ScfError('ERR_BAD_ZIP', `${zipPath} is not a readable zip: ${describeError(err)}`, { cause: err });
  }
  const contents = new Map<string, Uint8Array>();
  for (const [entry, bytes] of Object.entries(entries)) {
    if (!entry.endsWith('/')) contents.set(checkedEntryPath(entry, zipPath), bytes);
  }
  const files = [...contents.keys()].sort();

  const codeSha256 = createHash('sha256').update(zip).digest('hex');
  const root = path.resolve(workDir);
  const directory = path.join(root, `${name}-${codeSha256.slice(0, 16)}`);
  await mkdir(root, { recursive: true });
  await writeFile(path.join(root, 'package.json'), WORK_DIR_PACKAGE_JSON, { flag: 'wx' }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
  });
  if (await exists(directory)) return { directory, codeSha256, files };

  // Unpacked beside the target and renamed into place: a folder that exists is always complete,
  // even after a crash halfway or two deploys of the same zip at once.
  const staging = `${directory}.partial-${randomBytes(4).toString('hex')}`;
  try {
    for (const file of files) {
      const target = path.join(staging, ...file.split('/'));
      await mkdir(path.dirname(target), { recursive: true });
      await writeFile(target, contents.get(file)!);
    }
    await mkdir(staging, { recursive: true }); // an empty zip still gets its folder
    await rename(staging, directory);
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    // another deploy of the same bytes got there first
    if (await exists(directory)) return { directory, codeSha256, files };
    throw err;
  }
  return { directory, codeSha256, files };
}

/** Normalizes a zip entry name to `a/b.js`, refusing absolute paths and `..` (zip slip). */
function checkedEntryPath(entry: string, zipPath: string): string {
  const normalized = entry.replaceAll('\\', '/').replace(/^(\.\/)+/, '');
  const segments = normalized.split('/');
  if (normalized.startsWith('/') || /^[A-Za-z]:/.test(normalized) || segments.some((s) => s === '..' || s === '')) {
    throw new ScfError('ERR_BAD_ZIP', `${zipPath} holds an entry outside its folder: "${entry}"`);
  }
  return normalized;
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}
