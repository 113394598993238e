/**
 * The local services keep what was deployed to them across restarts, as the cloud does: the SCF
 * runtime its functions (code included), the gateway its services, APIs and releases.
 */
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { strToU8, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { LocalGateway } from '../../local/gateway/gateway';
import type { ApiDef } from '../../local/gateway/model';
import type { Invoker } from '../../local/invoker';
import { LocalScf } from '../../local/scf/runtime';

const CREDENTIALS = { secretId: 'AKIDlocaltestsecretid0000000000000', secretKey: 'local-test-secret-key', sessionToken: 'token' };

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'service-state-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function zipOf(name: string, version: string): Promise<string> {
  const file = path.join(root, `${name}-${version}.zip`);
  const code = `exports.main_handler = async () => ({ version: ${JSON.stringify(version)}, url: process.env.url });`;
  await writeFile(file, zipSync({ 'index.js': [strToU8(code), { mtime: new Date('1980-01-01T00:00:00Z') }] }));
  return file;
}

describe('LocalScf state file', () => {
  const runtime = (workDir: string) => new LocalScf({ workDir, credentials: CREDENTIALS, log: () => {}, stateFile: path.join(workDir, 'functions.json') });
  const invoke = async (scf: LocalScf, name: string) => {
    const result = await scf.invoke({ name, namespace: 'default', qualifier: '$LATEST' }, {});
    if (!result.ok) throw new Error(result.message);
    return result.value;
  };

  it('restores code and configuration after a restart, even once the zip it was deployed from is gone', async () => {
    const workDir = path.join(root, 'scf');
    let scf = runtime(workDir);
    const v1 = await zipOf('fn', 'v1');
    await scf.deploy({ name: 'fn', zipPath: v1, handler: 'index.main_handler', environment: {}, memoryMb: 128, timeoutSeconds: 3 });
    await scf.updateConfiguration('fn', 'default', { environment: { url: 'http://push' } });
    await scf.stop();
    await rm(v1);

    scf = runtime(workDir);
    expect(scf.getFunction('fn')).toBeUndefined();
    expect(await scf.restore()).toEqual(['fn']);
    expect(await invoke(scf, 'fn')).toEqual({ version: 'v1', url: 'http://push' });
    expect((await stat(path.join(workDir, 'functions.json'))).mode & 0o777).toBe(0o600);

    // A new version replaces the stored code; the old copy is dropped at the next restore.
    await scf.deploy({ ...scf.getFunction('fn')!, zipPath: await zipOf('fn', 'v2') });
    await scf.stop();
    scf = runtime(workDir);
    await scf.restore();
    expect(await invoke(scf, 'fn')).toEqual({ version: 'v2', url: 'http://push' });
    expect(await readdir(path.join(workDir, 'code'))).toHaveLength(1);

    // A deleted function stays deleted.
    await scf.deleteFunction('fn');
    await scf.stop();
    scf = runtime(workDir);
    expect(await scf.restore()).toEqual([]);
    await scf.stop();
  }, 60_000);

  it('names a damaged state file', async () => {
    const workDir = path.join(root, 'damaged');
    const scf = runtime(workDir);
    await writeFile(path.join(root, 'damaged.json'), '{');
    const broken = new LocalScf({ workDir, credentials: CREDENTIALS, log: () => {}, stateFile: path.join(root, 'damaged.json') });
    await expect(broken.restore()).rejects.toThrow(/damaged\.json is not valid JSON/);
    await Promise.all([scf.stop(), broken.stop()]);
  });
});

describe('LocalGateway state file', () => {
  const invoker: Invoker = {
    invoke: async (_fn: unknown, event: unknown) => ({
      ok: true,
      value: {
        errNo: 0,
        errMsg: 'ok',
        websocket: { action: 'connecting', secConnectionID: (event as { websocket: { secConnectionID: string } }).websocket.secConnectionID },
      },
      durationMs: 0,
    }),
  } as unknown as Invoker;
  const api: ApiDef = {
    serviceId: 'service-a',
    apiId: 'api-a',
    apiName: 'chat',
    path: '/',
    method: 'GET',
    protocol: 'WEBSOCKET',
    serviceType: 'SCF',
    serviceTimeout: 600,
    register: { name: 'chat-register', namespace: 'default', qualifier: '$LATEST' },
  };

  it('keeps services, drafts and releases, and serves the released snapshot after a restart', async () => {
    const stateFile = path.join(root, 'gateway', 'catalog.json');
    let gateway = new LocalGateway({ invoker, log: () => {}, stateFile });
    gateway.createService({ serviceId: 'service-a', serviceName: 'chat' });
    gateway.createApi(api);
    gateway.releaseService('service-a', 'release', 'first');
    // A draft change after the release: live only after the next one.
    gateway.modifyApi('api-a', { ...api, serviceTimeout: 900, register: undefined });

    gateway = new LocalGateway({ invoker, log: () => {}, stateFile });
    await gateway.start();
    try {
      expect(gateway.describeService('service-a')).toEqual({ serviceId: 'service-a', serviceName: 'chat' });
      expect(gateway.describeApi('api-a')).toMatchObject({ serviceTimeout: 900 });
      expect(gateway.describeApi('api-a')!.register).toBeUndefined();
      expect(gateway.isReleased('service-a', 'release')).toBe(true);
      // The release still holds the bound snapshot: a client gets through register.
      const ws = new WebSocket(`${gateway.origin.replace(/^http/, 'ws')}/release/`);
      const outcome = await new Promise<string>((resolve) => {
        ws.on('open', () => resolve('open'));
        ws.on('unexpected-response', (_req, res) => resolve(`HTTP ${res.statusCode}`));
        ws.on('error', (err) => resolve(err.message));
      });
      expect(outcome).toBe('open');
      ws.close();
      expect((await stat(stateFile)).mode & 0o777).toBe(0o600);

      gateway.unreleaseService('service-a', 'release');
      expect(gateway.isReleased('service-a', 'release')).toBe(false);
      expect(() => gateway.deleteService('service-a')).toThrow(/still has API api-a/);
      gateway.deleteApi('api-a');
      gateway.deleteService('service-a');
    } finally {
      await gateway.stop();
    }
    const empty = new LocalGateway({ invoker, log: () => {}, stateFile });
    expect(empty.describeService('service-a')).toBeUndefined();
  });
});
