/**
 * Starts the local COS store for a test file and gives the environment the functions read.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import COS from 'cos-nodejs-sdk-v5';
import { randomCredential as newCredential, type LocalCredential } from '../../local/credentials';
import { CosServer } from '../../local/cos/server';

export const TEST_REGION = 'ap-guangzhou';

export interface CosFixture {
  server: CosServer;
  bucket: string;
  credential: LocalCredential;
  /** Environment for the functions: bucket, region, role credentials, local COS domain. */
  env: Record<string, string>;
  /** A real SDK client with the same credentials. */
  cos: COS;
  dir: string;
  stop(): Promise<void>;
}

/** Random credentials, the way the local cloud makes them: nothing is stored in code. */
export function randomCredential(): LocalCredential {
  return newCredential({ temporary: true });
}

export async function startCos(bucket = `chat-test-gz-${1250000000 + Math.floor(Math.random() * 1e6)}`): Promise<CosFixture> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cos-test-'));
  const credential = randomCredential();
  const server = new CosServer({ directory: dir, credentials: [credential], buckets: [bucket] });
  await server.start();
  const env = {
    bucket,
    region: TEST_REGION,
    TENCENTCLOUD_SECRETID: credential.secretId,
    TENCENTCLOUD_SECRETKEY: credential.secretKey,
    TENCENTCLOUD_SESSIONTOKEN: credential.sessionToken!,
    LOCAL_COS_DOMAIN: server.domain,
  };
  const cos = new COS({
    SecretId: credential.secretId,
    SecretKey: credential.secretKey,
    SecurityToken: credential.sessionToken,
    Domain: server.domain,
    Protocol: 'http:',
  });
  return {
    server,
    bucket,
    credential,
    env,
    cos,
    dir,
    async stop() {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Sets environment variables for the duration of a test file. */
export function useEnv(vars: Record<string, string | undefined>): () => void {
  const saved = new Map<string, string | undefined>();
  for (const [k, v] of Object.entries(vars)) {
    saved.set(k, process.env[k]);
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  return () => {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}
