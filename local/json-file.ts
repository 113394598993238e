/**
 * The local cloud's small state files: read as JSON (missing is fine, damaged is an error naming
 * the file), written atomically and private to the user, since they describe the user's resources.
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** The parsed file, or undefined when it does not exist. @throws Error naming the file when it is not JSON. */
export function readJsonFile<T>(file: string): T | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new Error(`${file} is not valid JSON (${(err as Error).message}); move it away to start that part afresh`, { cause: err });
  }
}

/** Writes JSON through a temporary file and a rename, so a crash never leaves half a file; 0600 in a 0700 folder. */
export function writePrivateJsonFile(file: string, value: unknown): void {
  const dir = path.dirname(file);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n', { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}
