import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { strToU8, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRegistryConfig } from '../../functions/lib/config';
import { RoomRegistry } from '../../functions/lib/rooms';
import { guestOf } from '../../functions/lib/users';
import { ConnectionRegistry } from '../../functions/lib/registry';
import { applyStack, LocalApplyError } from '../../local/apply/apply';
import { CosServer } from '../../local/cos/server';
import { randomCredential } from '../../local/credentials';
import { LocalCloud, type LocalEndpoints } from '../../local/cloud';
import { watchSources } from '../../local/watch';
import type { AppBundles } from '../../scripts/bundle';
import { bundleChat } from '../support/bundles';
import { ChatClient } from '../support/chat-client';

describe('LocalCloud', () => {
  let dataDir: string;
  let cloud: LocalCloud;
  let endpoints: LocalEndpoints;
  const startLog: string[] = [];
  const options = () => ({ dataDir, buildDir: path.join(dataDir, 'dist'), ports: { page: 0, gateway: 0, cos: 0, cloudApi: 0 }, log: () => {} });

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'cloud-test-'));
    cloud = new LocalCloud({ ...options(), log: (line) => startLog.push(line) });
    endpoints = await cloud.start();
  }, 120_000);
  afterAll(async () => {
    await cloud?.stop();
    await rm(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('serves the page and tells it where the WebSocket is', async () => {
    const page = await fetch(endpoints.pageUrl);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<script src="chat.js">');
    const config = await (await fetch(new URL('config.json', endpoints.pageUrl))).json();
    expect(config).toEqual({ wsUrl: endpoints.wsUrl, admission: false, stack: 'chat-dev-gz' });
    expect(endpoints.wsUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/release\/$/);
    expect((await fetch(new URL('../package.json', endpoints.pageUrl))).status).toBe(404);
  });

  it('applies the stack as the provider would, then runs its post-deploy hook against the local Cloud API', () => {
    const text = startLog.join('\n');
    // The API came without bindings and the functions without url: the real step had to fix both.
    expect(text).toMatch(/running "node --import tsx scripts\/post-deploy\.ts"/);
    expect(text).toMatch(/\[1\/4\] WebSocket bindings of api-\w+ differ \(9 fields\); ModifyApi/);
    for (const fn of ['register', 'transport', 'cleanup']) expect(text).toMatch(new RegExp(`\\[3/4\\] chat-dev-gz-${fn}: setting url`));
    expect(text).toMatch(/post-deploy done: bindings set, released to release, url injected into 3 function\(s\)/);
  });

  it('applies the synthesized stack: the functions carry the local push address', async () => {
    expect(endpoints.applied.functions.map((f) => f.name).sort()).toEqual(['chat-dev-gz-cleanup', 'chat-dev-gz-register', 'chat-dev-gz-transport']);
    expect(endpoints.applied.bucket).toBe('chat-dev-gz-1250000000');
    // The push address is the gateway's port and the API's id, and the hook injected it into each
    // function (as the local SCF keeps them).
    expect(endpoints.pushUrl).toBe(`http://127.0.0.1:${new URL(endpoints.wsUrl).port}/${endpoints.applied.apiId}`);
    const deployed = JSON.parse(await readFile(path.join(dataDir, 'scf', 'stacks', 'chat-dev-gz', 'functions.json'), 'utf8')).functions as Array<{
      name: string;
      environment: Record<string, string>;
    }>;
    expect(deployed.map((f) => [f.name, f.environment.url]).sort()).toEqual(
      ['chat-dev-gz-cleanup', 'chat-dev-gz-register', 'chat-dev-gz-transport'].map((name) => [name, endpoints.pushUrl]),
    );
    expect(endpoints.applied.outputs.client_url).toBe(endpoints.wsUrl);
  });

  it('keeps its data owner-only: the folder 0700, the state files 0600', async () => {
    expect((await stat(dataDir)).mode & 0o777).toBe(0o700);
    for (const file of ['apply/chat-dev-gz.json', 'scf/stacks/chat-dev-gz/functions.json', 'gateway/chat-dev-gz.json', 'deploy/chat-dev-gz.json']) {
      expect([file, (await stat(path.join(dataDir, file))).mode & 0o777]).toEqual([file, 0o600]);
    }
  });

  it('refuses a port in use, naming it', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as net.AddressInfo).port;
    const other = new LocalCloud({ ...options(), dataDir: path.join(dataDir, 'other'), ports: { page: 0, gateway: port, cos: 0, cloudApi: 0 } });
    await expect(other.start()).rejects.toThrow(new RegExp(`${port}.*in use`, 'i'));
    blocker.close();
  }, 60_000);

  it('swaps a rebuilt function without dropping open connections', async () => {
    const a = await ChatClient.connect(endpoints.wsUrl);
    const b = await ChatClient.connect(endpoints.wsUrl);
    a.send('before');
    await b.waitFor('the first message', () => b.messages().find((m) => m.text === 'before'));
    // A different transport: it answers the sender with a marker through the push address.
    const code = `exports.main_handler = async (event) => {
      const ws = event.websocket;
      await fetch(process.env.url, { method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ websocket: { action: 'data send', secConnectionID: ws.secConnectionID, dataType: 'text', data: 'v2:' + ws.data } }) });
      return { errNo: 0 };
    };`;
    const zipPath = path.join(dataDir, 'transport-v2.zip');
    await writeFile(zipPath, zipSync({ 'index.js': [strToU8(code), { mtime: new Date('1980-01-01T00:00:00Z') }] }));
    // Rebuilding gives the same bytes, hence the bundles the cloud runs.
    const current: AppBundles = await bundleChat(path.join(dataDir, 'dist'));
    const changed = await cloud.reloadFunctions(async () => ({ ...current, transport: { ...current.transport, zipPath, hash: 'v2' } }));
    expect(changed).toEqual(['transport']);
    a.ws.send('after');
    await a.waitFor('the new transport to answer', () => a.received.find((r) => r.text === 'v2:after'));
    expect(a.closed).toBeUndefined();
    expect(b.closed).toBeUndefined();
    await Promise.all([a.close(), b.close()]);
  }, 60_000);
});

describe('LocalCloud restarts', () => {
  /** Opens the cloud's store directly (the cloud is stopped), with credentials of the test's own. */
  async function withStore<T>(dataDir: string, fn: (registry: ConnectionRegistry, rooms: RoomRegistry) => Promise<T>): Promise<T> {
    const credential = randomCredential({ temporary: true });
    const server = new CosServer({ directory: path.join(dataDir, 'cos'), credentials: [credential] });
    await server.start();
    try {
      const env = {
        bucket: 'chat-dev-gz-1250000000',
        region: 'ap-guangzhou',
        TENCENTCLOUD_SECRETID: credential.secretId,
        TENCENTCLOUD_SECRETKEY: credential.secretKey,
        TENCENTCLOUD_SESSIONTOKEN: credential.sessionToken!,
        LOCAL_COS_DOMAIN: server.domain,
      };
      return await fn(new ConnectionRegistry(readRegistryConfig(env)), new RoomRegistry(readRegistryConfig(env)));
    } finally {
      await server.stop();
    }
  }

  it('keeps the registry on disk, and prunes ids left from before the restart at the first failed push', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'cloud-restart-'));
    const options = { dataDir, buildDir: path.join(dataDir, 'dist'), ports: { page: 0, gateway: 0, cos: 0, cloudApi: 0 }, log: () => {} };
    try {
      let cloud = new LocalCloud(options);
      await cloud.start();
      await cloud.stop();
      // An id whose cleanup never came, as a crash would leave it.
      const stale = 'c3RhbGUtY29ubmVjdGlvbi1pZC0xMjM0';
      await withStore(dataDir, async (registry, rooms) => {
        await registry.add({ id: stale, connectedAt: new Date().toISOString() });
        await rooms.join(stale, { room: 'lobby', explicit: false, user: guestOf(stale) });
      });

      cloud = new LocalCloud(options);
      const endpoints = await cloud.start();
      const a = await ChatClient.connect(endpoints.wsUrl);
      const b = await ChatClient.connect(endpoints.wsUrl);
      a.send('after restart');
      const first = await b.waitFor('the message', () => b.messages().find((m) => m.text === 'after restart'));
      // The stale id survived the restart on disk and is counted, until its push fails.
      expect(first.online).toBe(3);
      expect(await a.waitFor('the ack', () => a.of('ack')[0])).toEqual({ type: 'ack', id: first.id, room: 'lobby', online: 2, delivered: 1 });
      a.send('again');
      expect((await b.waitFor('the second message', () => b.messages().find((m) => m.text === 'again'))).online).toBe(2);
      await Promise.all([a.close(), b.close()]);
      await cloud.stop();
      expect(await withStore(dataDir, (registry) => registry.list())).toEqual([]);
      expect(await withStore(dataDir, (_, rooms) => rooms.members('lobby'))).toEqual([]);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('applyStack', () => {
  it('refuses a resource type the local cloud does not run, naming it', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'apply-test-'));
    await writeFile(
      path.join(dir, 'cdk.tf.json'),
      JSON.stringify({ provider: { tencentcloud: [{ region: 'ap-guangzhou' }] }, resource: { tencentcloud_clb_instance: { main: { clb_name: 'x' } } } }),
    );
    const services = {} as Parameters<typeof applyStack>[0]['services'];
    await expect(applyStack({ stackDir: dir, services, appId: '1' })).rejects.toThrow(LocalApplyError);
    await expect(applyStack({ stackDir: dir, services, appId: '1' })).rejects.toThrow(/does not support resource type tencentcloud_clb_instance/);
    await writeFile(
      path.join(dir, 'cdk.tf.json'),
      JSON.stringify({
        provider: { tencentcloud: [{ region: 'ap-guangzhou' }] },
        resource: { tencentcloud_cam_role: { r: { name: '${upper("x")}', document: '{}' } } },
      }),
    );
    await expect(applyStack({ stackDir: dir, services, appId: '1' })).rejects.toThrow(/cannot evaluate \$\{upper\("x"\)\}/);
    // One WebSocket API per stack, checked before anything is touched (the services here are empty).
    const api = (name: string) => ({ service_id: 's', api_name: name, protocol: 'WEBSOCKET', request_config_path: `/${name}` });
    await writeFile(
      path.join(dir, 'cdk.tf.json'),
      JSON.stringify({
        provider: { tencentcloud: [{ region: 'ap-guangzhou' }] },
        resource: {
          tencentcloud_api_gateway_api: { a: api('a'), b: api('b') },
          tencentcloud_api_gateway_service_release: { r: { service_id: 's', environment_name: 'release', release_desc: 'x' } },
        },
      }),
    );
    await expect(applyStack({ stackDir: dir, services, appId: '1' })).rejects.toThrow(
      /declares 2 tencentcloud_api_gateway_api resources; the local cloud runs a stack with exactly one/,
    );
    await rm(dir, { recursive: true, force: true });
  });
});

describe('watchSources', () => {
  it('calls back once per burst of changes, with the source files changed in it', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'watch-test-'));
    await mkdir(path.join(dir, 'lib'));
    const bursts: string[][] = [];
    const waiters: Array<() => void> = [];
    const nextBurst = (count: number) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`expected ${count} burst(s) of changes, saw ${JSON.stringify(bursts)}`)), 10_000);
        const check = () => (bursts.length >= count ? (clearTimeout(timer), resolve()) : waiters.push(check));
        check();
      });
    // A long debounce, so that five writes in a row are one burst even on a busy machine.
    const stop = watchSources(
      dir,
      async (files) => {
        bursts.push(files);
        waiters.splice(0).forEach((w) => w());
      },
      { debounceMs: 400 },
    );
    try {
      for (let i = 0; i < 5; i++) await writeFile(path.join(dir, 'lib', `f${i}.ts`), `export const x = ${i};`);
      await nextBurst(1);
      expect(bursts).toEqual([['lib/f0.ts', 'lib/f1.ts', 'lib/f2.ts', 'lib/f3.ts', 'lib/f4.ts']]);
      // A file that is no source is not reported, and does not trigger a burst of its own.
      await writeFile(path.join(dir, 'notes.txt'), 'ignored');
      await writeFile(path.join(dir, 'lib', 'g.ts'), 'export const y = 1;');
      await nextBurst(2);
      expect(bursts[1]).toEqual(['lib/g.ts']);
    } finally {
      stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
