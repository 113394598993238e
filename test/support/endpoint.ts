/**
 * The endpoint the integration suite talks to: the deployed one named by WS_URL, or a local cloud
 * started for the suite.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../config/load';
import { createAdmissionToken } from '../../functions/lib/admission';
import { LocalCloud } from '../../local/cloud';

export interface Endpoint {
  wsUrl: string;
  /** Local endpoints are exact (counts, order); a deployed one may have other users and no order promise. */
  local: boolean;
  /** Subprotocols to offer: ['chat'] plus a valid token when admission is on. */
  protocols(): string[];
  /** Set when the endpoint requires admission and the suite knows the secret. */
  secret?: string;
  stop(): Promise<void>;
}

const LOCAL_SECRET_ENV = 'CHAT_TEST_ADMISSION_SECRET';

/** Starts (or names) the endpoint. Locally, admission is switched on so refusal can be tested too. */
export async function openEndpoint(options: { maxInstancesPerFunction?: number } = {}): Promise<Endpoint> {
  const remote = process.env.WS_URL;
  if (remote) {
    const secret = process.env.ADMISSION_SECRET || undefined;
    return {
      wsUrl: remote,
      local: false,
      secret,
      protocols: () => (secret ? ['chat', createAdmissionToken(secret)] : ['chat']),
      stop: async () => {},
    };
  }
  const config = loadConfig();
  const dev = Object.keys(config.stages)[0];
  config.stages[dev].admission = { secretEnv: LOCAL_SECRET_ENV };
  const secret = `test-secret-${Math.random().toString(36).slice(2)}`;
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'local-cloud-'));
  const cloud = new LocalCloud({
    config,
    stage: dev,
    dataDir,
    buildDir: path.join(dataDir, 'dist'),
    ports: { page: 0, gateway: 0, cos: 0, cloudApi: 0 },
    env: { [LOCAL_SECRET_ENV]: secret },
    maxInstancesPerFunction: options.maxInstancesPerFunction,
    log: () => {},
  });
  const endpoints = await cloud.start();
  return {
    wsUrl: endpoints.wsUrl,
    local: true,
    secret,
    protocols: () => ['chat', createAdmissionToken(secret)],
    stop: async () => {
      await cloud.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
