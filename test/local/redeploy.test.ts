/**
 * Re-deploys as a user runs them: `npm start` again and again on one data folder, with the stack
 * unchanged, changed, and the gateway moved. Each start is a `cdktf deploy` of the new synth
 * against what the last one left.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/load';
import { createAdmissionToken } from '../../functions/lib/admission';
import type { AppConfig } from '../../config/schema';
import { LocalCloud, type LocalEndpoints } from '../../local/cloud';
import { ChatClient } from '../support/chat-client';

/** Two clients chat: a message reaches the other one and the sender gets its ack. */
async function chatWorks(wsUrl: string, text: string, protocols?: string[]): Promise<void> {
  const a = await ChatClient.connect(wsUrl, protocols);
  const b = await ChatClient.connect(wsUrl, protocols);
  try {
    a.send(text);
    await b.waitFor(`"${text}" to reach the other client`, () => b.messages().find((m) => m.text === text));
    expect(await a.waitFor(`the ack of "${text}"`, () => a.of('ack')[0])).toMatchObject({ type: 'ack', delivered: 1 });
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('re-deploys on the local cloud', () => {
  let dataDir: string;
  let base: AppConfig;
  let gatewayPort: number;

  /** One `npm start`: starts, checks the chat, stops; returns its log. */
  async function start(
    config: AppConfig,
    port = gatewayPort,
    stage?: { stage: string; env: NodeJS.ProcessEnv; protocols: string[] },
  ): Promise<{ log: string; endpoints: LocalEndpoints }> {
    const lines: string[] = [];
    const cloud = new LocalCloud({
      dataDir,
      buildDir: path.join(dataDir, 'dist'),
      config,
      stage: stage?.stage,
      env: stage?.env,
      ports: { page: 0, gateway: port, cos: 0, cloudApi: 0 },
      log: (line) => lines.push(line),
      quiet: true,
    });
    try {
      const endpoints = await cloud.start();
      await chatWorks(endpoints.wsUrl, `hello after start ${lines.length}`, stage?.protocols);
      return { log: lines.join('\n'), endpoints };
    } finally {
      await cloud.stop();
    }
  }

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'redeploy-'));
    base = loadConfig();
    gatewayPort = await freePort();
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  let first: { log: string; endpoints: LocalEndpoints };
  let latest: AppConfig;

  it('first start: creates everything, the hook binds the functions and injects url; the chat works', async () => {
    latest = base;
    first = await start(base);
    expect(first.log).toMatch(/chat-dev-gz: \d+ to add, 0 to change, 0 to replace, 0 to destroy/);
    expect(first.log).toMatch(/tencentcloud_api_gateway_api\.\S+: create/);
    expect(first.log).toMatch(/\[1\/4\] WebSocket bindings of api-\w+ differ \(9 fields\); ModifyApi/);
    for (const fn of ['register', 'transport', 'cleanup']) expect(first.log).toMatch(new RegExp(`chat-dev-gz-${fn}: setting url`));
  }, 180_000);

  it('second start with nothing changed: no changes, no hook, no ModifyApi or UpdateFunctionConfiguration; the chat works', async () => {
    const second = await start(base);
    expect(second.log).toMatch(/chat-dev-gz: no changes/);
    expect(second.log).not.toMatch(/update in place|replace|: create\b/);
    expect(second.log).not.toMatch(/scripts\/post-deploy\.ts/);
    expect(second.log).not.toMatch(/ModifyApi|UpdateFunctionConfiguration|ReleaseService/);
    // The same API, at the same address: the cloud kept it.
    expect(second.endpoints.applied.apiId).toBe(first.endpoints.applied.apiId);
    expect(second.endpoints.pushUrl).toBe(first.endpoints.pushUrl);
  }, 180_000);

  it('third start with a new idle timeout: the API is updated in place, the hook re-binds and releases; the chat works', async () => {
    const changed = structuredClone(base);
    changed.stages.dev!.idleTimeoutSeconds = (base.defaults.idleTimeoutSeconds ?? 600) + 300;
    latest = changed;
    const third = await start(changed);
    expect(third.log).toMatch(/chat-dev-gz: 0 to add, 1 to change, 1 to replace, 0 to destroy/);
    expect(third.log).toMatch(
      new RegExp(
        `tencentcloud_api_gateway_api\\.\\S+: update in place \\(service_config_timeout: ${base.defaults.idleTimeoutSeconds ?? 600} -> ${(base.defaults.idleTimeoutSeconds ?? 600) + 300}\\)`,
      ),
    );
    expect(third.log).toMatch(/terraform_data\.\S+: replace \(replace_triggered_by tencentcloud_api_gateway_api\.\S+, which is planned to update in place\)/);
    // The provider's ModifyApi dropped the bindings; the hook set them again and released.
    expect(third.log).toMatch(/\[1\/4\] WebSocket bindings of api-\w+ differ \(9 fields\); ModifyApi/);
    expect(third.log).toMatch(/ReleaseService/);
    expect(third.log).not.toMatch(/tencentcloud_api_gateway_service_release\.\S+: (replace|destroy)/);
    expect(third.endpoints.applied.apiId).toBe(first.endpoints.applied.apiId);
    // And the next start settles on it.
    const fourth = await start(changed);
    expect(fourth.log).toMatch(/chat-dev-gz: no changes/);
  }, 240_000);

  it('a start on another gateway port: the hook re-runs for the moved address and updates url, saying why; the chat works', async () => {
    const moved = await start(latest, await freePort());
    expect(moved.endpoints.pushUrl).not.toBe(first.endpoints.pushUrl);
    expect(moved.log).toMatch(/terraform_data\.\S+: replace \(.*triggers_replace\.CHAT_CLIENT_URL/);
    for (const fn of ['register', 'transport', 'cleanup']) {
      expect(moved.log).toMatch(
        new RegExp(`chat-dev-gz-${fn}: updating url \\(push address changed from ${first.endpoints.pushUrl.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`),
      );
    }
    const deployed = JSON.parse(await readFile(path.join(dataDir, 'scf', 'stacks', 'chat-dev-gz', 'functions.json'), 'utf8')).functions as Array<{
      environment: Record<string, string>;
    }>;
    expect(deployed.map((f) => f.environment.url)).toEqual([moved.endpoints.pushUrl, moved.endpoints.pushUrl, moved.endpoints.pushUrl]);
    gatewayPort = Number(new URL(moved.endpoints.pushUrl).port);
  }, 240_000);

  it('another stage on the same data folder and port is a stack of its own; the first is untouched', async () => {
    const secret = 'a-local-admission-secret-of-32-bytes!';
    const prod = await start(latest, gatewayPort, {
      stage: 'prod',
      env: { ...process.env, CHAT_PROD_ADMISSION_SECRET: secret },
      protocols: ['chat', createAdmissionToken(secret, { ttlSeconds: 600 })],
    });
    expect(prod.endpoints.stack).toBe('chat-prod-gz');
    expect(prod.log).toMatch(/chat-prod-gz: \d+ to add, 0 to change, 0 to replace, 0 to destroy/);
    const dev = await start(latest);
    expect(dev.log).toMatch(/chat-dev-gz: no changes/);
  }, 240_000);
});
