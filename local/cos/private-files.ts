/**
 * Files only their owner can read: the local data holds connection ids, messages and whatever the
 * functions store, so others on the machine must not read it. Modes are set explicitly after
 * creation, because a mode given to mkdir or open is narrowed by the umask, never widened or fixed.
 */
import { type WriteStream } from 'node:fs';
import { chmod, lstat, mkdir, open, readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

/** Folders: owner only (rwx------). */
export const PRIVATE_DIR_MODE = 0o700;
/** Files: owner only (rw-------). */
export const PRIVATE_FILE_MODE = 0o600;

/**
 * Creates a folder (and missing parents) owner-only; an existing one is made owner-only too.
 * Parents that already existed are left as they are.
 */
export async function makePrivateDir(path: string): Promise<void> {
  const first = await mkdir(path, { recursive: true, mode: PRIVATE_DIR_MODE });
  if (first === undefined) {
    await chmod(path, PRIVATE_DIR_MODE);
    return;
  }
  // every folder created now, from the first one down to `path`
  let folder = first;
  await chmod(folder, PRIVATE_DIR_MODE);
  for (const part of relative(first, path).split(sep).filter(Boolean)) {
    folder = join(folder, part);
    await chmod(folder, PRIVATE_DIR_MODE);
  }
}

/** Writes a whole file, created owner-only or made so. */
export async function writePrivateFile(path: string, data: string | Buffer): Promise<void> {
  const handle = await open(path, 'w', PRIVATE_FILE_MODE);
  try {
    await handle.chmod(PRIVATE_FILE_MODE);
    await handle.writeFile(data);
  } finally {
    await handle.close();
  }
}

/** A write stream to a file created (or truncated) owner-only; it closes the file when it ends or fails. */
export async function createPrivateWriteStream(path: string): Promise<WriteStream> {
  const handle = await open(path, 'w', PRIVATE_FILE_MODE);
  try {
    await handle.chmod(PRIVATE_FILE_MODE);
  } catch (err) {
    await handle.close();
    throw err;
  }
  return handle.createWriteStream();
}

/**
 * Makes every folder and file under `root` (and `root`) owner-only, for data written by earlier
 * versions or by hand. Symbolic links are not followed.
 * @returns how many entries had their mode changed
 */
export async function makeTreePrivate(root: string): Promise<number> {
  let changed = 0;
  const visit = async (path: string): Promise<void> => {
    const stat = await lstat(path);
    if (stat.isSymbolicLink()) return;
    const mode = stat.isDirectory() ? PRIVATE_DIR_MODE : PRIVATE_FILE_MODE;
    if ((stat.mode & 0o7777) !== mode) {
      await chmod(path, mode);
      changed++;
    }
    if (stat.isDirectory()) {
      for (const name of await readdir(path)) await visit(join(path, name));
    }
  };
  await visit(root);
  return changed;
}
