/**
 * Local credentials: random values the local services accept. Nothing here is a real key, and none
 * is stored in the code: they are generated on first use.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';

/** A key pair, with a session token when it stands for temporary (role) credentials. */
export interface LocalCredential {
  secretId: string;
  secretKey: string;
  sessionToken?: string;
}

const credentialFile = z.object({
  secretId: z.string().min(1),
  secretKey: z.string().min(1),
  sessionToken: z.string().min(1).optional(),
});

/** New random credentials, shaped like real ones: a 36-character SecretId starting with AKID. */
export function randomCredential({ temporary = false } = {}): LocalCredential {
  return {
    secretId: 'AKID' + randomBytes(16).toString('hex'),
    secretKey: randomBytes(24).toString('base64url'),
    ...(temporary ? { sessionToken: randomBytes(32).toString('base64url') } : {}),
  };
}

/** Reads a credentials file, or creates it with random credentials (readable by the owner only). */
export async function loadLocalCredentials(path: string): Promise<{ credential: LocalCredential; created: boolean }> {
  let text: string | undefined;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (text !== undefined) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new Error(`${path} is not valid JSON: ${(err as Error).message}`, { cause: err });
    }
    const parsed = credentialFile.safeParse(json);
    if (!parsed.success) {
      throw new Error(`${path} must hold {"secretId": "...", "secretKey": "..."}: ${parsed.error.message}`);
    }
    return { credential: parsed.data, created: false };
  }
  const credential = randomCredential();
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  try {
    // 'wx' refuses to overwrite a file another process created meanwhile
    await writeFile(path, JSON.stringify(credential, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return loadLocalCredentials(path);
    throw err;
  }
  return { credential, created: true };
}
