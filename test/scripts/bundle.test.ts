import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BundleError, ROLES, bundleApp, bundleApps, type AppBundles, type Role } from '../../scripts/bundle';
import { CHAT_APP } from '../support/bundles';
import { readRegistryConfig } from '../../functions/lib/config';
import { ConnectionRegistry } from '../../functions/lib/registry';
import { startCos, type CosFixture } from '../support/cos-fixture';
import { PushRecorder } from '../support/push-recorder';

/** Runs `main_handler` of an unpacked bundle in a plain `node` process with only the given env. */
function invokeInNode(dir: string, event: unknown, env: Record<string, string>): Promise<{ result: any; stdout: string }> {
  const runner = `
    const { main_handler } = require(${JSON.stringify(path.join(dir, 'index.js'))});
    let input = '';
    process.stdin.on('data', (d) => (input += d)).on('end', async () => {
      const result = await main_handler(JSON.parse(input), { request_id: 'local-test' });
      process.stdout.write('\\nRESULT ' + JSON.stringify(result) + '\\n');
    });`;
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      ['-e', runner],
      { cwd: dir, env: { PATH: process.env.PATH ?? '', ...env }, timeout: 20_000 },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`${err.message}\n${stderr}`));
        const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
        if (!line) return reject(new Error(`no result in output:\n${stdout}\n${stderr}`));
        resolve({ result: JSON.parse(line.slice('RESULT '.length)), stdout });
      },
    );
    child.stdin!.end(JSON.stringify(event));
  });
}

describe('function bundles', () => {
  let out: string;
  let manifest: AppBundles;
  beforeAll(async () => {
    out = await mkdtemp(path.join(os.tmpdir(), 'bundle-test-'));
    manifest = (await bundleApps({ chat: CHAT_APP }, out)).chat!;
  });
  afterAll(() => rm(out, { recursive: true, force: true }));

  it('writes one hashed zip per function of each app, holding only index.js, and a manifest', async () => {
    expect((await readdir(out)).sort()).toEqual(['chat', 'manifest.json']);
    expect(await readdir(path.join(out, 'chat'))).toHaveLength(3);
    for (const name of ROLES) {
      const info = manifest[name];
      expect(path.dirname(info.zipPath)).toBe(path.join(out, 'chat'));
      expect(path.basename(info.zipPath)).toMatch(new RegExp(`^${name}-[0-9a-f]{16}\\.zip$`));
      const entries = unzipSync(await readFile(info.zipPath));
      expect(Object.keys(entries)).toEqual(['index.js']);
      expect(info.bytes).toBe((await readFile(info.zipPath)).length);
    }
    const written = JSON.parse(await readFile(path.join(out, 'manifest.json'), 'utf8'));
    expect(written.runtime).toBe('Nodejs18.15');
    expect(written.apps.chat.transport.hash).toBe(manifest.transport.hash);
  });

  it('is deterministic: rebuilding gives the same bytes and paths, and old zips are removed', async () => {
    const first = await readFile(manifest.transport.zipPath);
    await writeFile(path.join(out, 'chat', 'transport-0000000000000000.zip'), 'stale');
    const again = await bundleApp('chat', CHAT_APP, out);
    for (const name of ROLES) expect(again[name].hash).toBe(manifest[name].hash);
    expect(await readFile(again.transport.zipPath)).toEqual(first);
    expect(await readdir(path.join(out, 'chat'))).not.toContain('transport-0000000000000000.zip');
  });

  it('names the app whose entry is missing or does not build', async () => {
    await expect(bundleApp('ghost', { entry: 'functions/ghost/app.ts' }, out)).rejects.toThrow(
      new BundleError('app ghost: its entry functions/ghost/app.ts does not exist'),
    );
    const broken = path.join(out, 'broken.ts');
    await writeFile(broken, 'import { nothing } from "./nowhere";\nexport default nothing;\n');
    await expect(bundleApp('broken', { entry: broken }, out)).rejects.toThrow(/app broken: cannot bundle .* for (register|transport|cleanup): .*nowhere/s);
  });

  describe('each zip in a plain node process', () => {
    let cos: CosFixture;
    const push = new PushRecorder();
    const dirs: Partial<Record<Role, string>> = {};
    beforeAll(async () => {
      cos = await startCos();
      await push.start();
      for (const name of ROLES) {
        const dir = await mkdtemp(path.join(os.tmpdir(), `unzipped-${name}-`));
        for (const [file, bytes] of Object.entries(unzipSync(await readFile(manifest[name].zipPath)))) await writeFile(path.join(dir, file), bytes);
        dirs[name] = dir;
      }
    });
    afterAll(async () => {
      await push.stop();
      await cos.stop();
      for (const dir of Object.values(dirs)) await rm(dir!, { recursive: true, force: true });
    });

    it('registers, broadcasts and cleans up with the bundled COS SDK and no node_modules', async () => {
      const env = { ...cos.env, url: push.url };
      const registry = new ConnectionRegistry(readRegistryConfig(cos.env));
      const [alice, bob] = ['YWxpY2UtY29ubmVjdGlvbi1pZC0xMjM0', 'Ym9i+/Bib2Jib2Jib2Jib2Jib2Jib2I='];
      for (const id of [alice, bob]) {
        const { result } = await invokeInNode(
          dirs.register!,
          { requestContext: { sourceIp: '127.0.0.1' }, websocket: { action: 'connecting', secConnectionID: id, secWebSocketProtocol: 'chat' } },
          env,
        );
        expect(result).toMatchObject({ errNo: 0, websocket: { secConnectionID: id, secWebSocketProtocol: 'chat' } });
      }
      expect(new Set(await registry.list())).toEqual(new Set([alice, bob]));

      const { result: sent } = await invokeInNode(
        dirs.transport!,
        { websocket: { action: 'data send', secConnectionID: alice, dataType: 'text', data: 'hi bob' } },
        env,
      );
      expect(sent).toMatchObject({ errNo: 0, delivered: 1 });
      expect(push.jsonTo(bob)).toEqual([expect.objectContaining({ type: 'message', text: 'hi bob', online: 2 })]);

      const { result: closed } = await invokeInNode(dirs.cleanup!, { websocket: { action: 'closing', secConnectionID: alice } }, env);
      expect(closed).toEqual({ errNo: 0, errMsg: 'ok' });
      expect(await registry.list()).toEqual([bob]);
    }, 60_000);
  });
});
