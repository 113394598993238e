import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BundleError, ROLES, SCF_BOOTSTRAP, bundleApp, bundleApps, bundleWebApp, type AppBundles, type Role } from '../../scripts/bundle';
import { CHAT_APP } from '../support/bundles';
import { ChatClient } from '../support/chat-client';
import { startRedis, type RedisFixture } from '../support/redis-fixture';
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

/** Each entry's Unix mode, from the zip's central directory (external attributes, high 16 bits). */
function zipModes(zip: Buffer): Record<string, number> {
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const modes: Record<string, number> = {};
  let at = zip.readUInt32LE(end + 16);
  for (let n = zip.readUInt16LE(end + 10); n > 0; n--) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error(`no central directory entry at ${at}`);
    const nameLength = zip.readUInt16LE(at + 28);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    modes[name] = zip.readUInt32LE(at + 38) >>> 16;
    at += 46 + nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
  }
  return modes;
}

/** A web bundle's `index.js` running in a plain node process. */
interface WebProcess {
  child: ChildProcess;
  url: string;
  output(): string;
  exited: Promise<number | null>;
}

/** Runs `node index.js` in `dir` with only the given environment and waits for its "listening" line. */
function startWebProcess(dir: string, env: Record<string, string>): Promise<WebProcess> {
  const child = spawn(process.execPath, ['index.js'], { cwd: dir, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "listening" line within 20 s:\n${output}`)), 20_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const line = output.split('\n').find((l) => l.includes('"msg":"listening"'));
      if (!line) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
      resolve({ child, url: `ws://127.0.0.1:${JSON.parse(line).port}/`, output: () => output, exited });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`exited (${code}) before listening:\n${output}`));
    });
  });
}

describe('the web bundle', () => {
  let out: string;
  let bundles: AppBundles;
  beforeAll(async () => {
    out = await mkdtemp(path.join(os.tmpdir(), 'bundle-web-test-'));
    bundles = (await bundleApps({ chat: { ...CHAT_APP, mode: 'web' } }, out)).chat!;
  });
  afterAll(() => rm(out, { recursive: true, force: true }));

  it('adds web-<hash>.zip: index.js and an executable scf_bootstrap, listed as role web', async () => {
    const web = bundles.web!;
    expect(web).toMatchObject({ role: 'web', hash: expect.stringMatching(/^[0-9a-f]{16}$/) });
    expect((await readdir(path.join(out, 'chat'))).sort()).toEqual([...ROLES.map((r) => path.basename(bundles[r].zipPath)), `web-${web.hash}.zip`].sort());
    const zip = await readFile(web.zipPath);
    expect(web.bytes).toBe(zip.length);
    const entries = unzipSync(zip);
    expect(Object.keys(entries)).toEqual(['index.js', 'scf_bootstrap']);
    expect(Buffer.from(entries.scf_bootstrap!).toString('utf8')).toBe('#!/bin/bash\nexec /var/lang/node18/bin/node index.js\n');
    expect(SCF_BOOTSTRAP).toBe(Buffer.from(entries.scf_bootstrap!).toString('utf8'));
    expect(zipModes(zip)).toEqual({ 'index.js': 0o100644, scf_bootstrap: 0o100755 });
    const written = JSON.parse(await readFile(path.join(out, 'manifest.json'), 'utf8'));
    expect(written.apps.chat.web).toMatchObject({ role: 'web', hash: web.hash, bytes: web.bytes });
  });

  it('is deterministic, replaces an older web zip, and an event-mode app gets none', async () => {
    const first = await readFile(bundles.web!.zipPath);
    await writeFile(path.join(out, 'chat', 'web-0000000000000000.zip'), 'stale');
    const again = await bundleWebApp('chat', CHAT_APP.entry, out);
    expect(again.hash).toBe(bundles.web!.hash);
    expect(await readFile(again.zipPath)).toEqual(first);
    expect(await readdir(path.join(out, 'chat'))).not.toContain('web-0000000000000000.zip');
    const eventOnly = await mkdtemp(path.join(os.tmpdir(), 'bundle-event-test-'));
    try {
      expect((await bundleApp('chat', CHAT_APP, eventOnly)).web).toBeUndefined();
      expect(await readdir(path.join(eventOnly, 'chat'))).toHaveLength(3);
    } finally {
      await rm(eventOnly, { recursive: true, force: true });
    }
  });

  describe('index.js in plain node processes, against a real redis-server', () => {
    let redis: RedisFixture;
    let dir: string;
    const processes: WebProcess[] = [];
    const clients: ChatClient[] = [];
    beforeAll(async () => {
      redis = await startRedis();
      dir = await mkdtemp(path.join(os.tmpdir(), 'unzipped-web-'));
      const zip = await readFile(bundles.web!.zipPath);
      const modes = zipModes(zip);
      for (const [file, bytes] of Object.entries(unzipSync(zip))) {
        await writeFile(path.join(dir, file), bytes);
        await chmod(path.join(dir, file), modes[file]! & 0o777);
      }
    });
    afterAll(async () => {
      await Promise.all(clients.map((c) => c.close().catch(() => c.ws.terminate())));
      for (const p of processes) p.child.kill('SIGKILL');
      await redis?.stop();
      await rm(dir, { recursive: true, force: true });
    });
    const instance = async () => {
      const started = await startWebProcess(dir, { PORT: '0', ...redis.env });
      processes.push(started);
      return started;
    };
    const connect = async (p: WebProcess) => {
      const client = await ChatClient.connect(p.url, ['chat']);
      clients.push(client);
      return client;
    };

    it('chats across two instances; one that crashes ends only its own connections, and the other prunes it', async () => {
      const [one, two] = [await instance(), await instance()];
      const ann = await connect(one);
      const bob = await connect(two);
      const cat = await connect(two);
      await ann.join('x');
      await bob.join('x');
      const hi = await ann.say('x', 'hi from one');
      expect(hi).toMatchObject({ online: 2, delivered: 1 });
      expect(await bob.nextJson((m) => m.type === 'message' && m.room === 'x')).toMatchObject({ id: hi.id, text: 'hi from one' });

      two.child.kill('SIGKILL');
      expect(await two.exited).toBeNull();
      for (const gone of [bob, cat]) await gone.waitFor('the cut', () => gone.closed);
      expect(bob.closed?.code).toBe(1006);
      // Nobody listens for bob any more: the room drops him at its next message.
      expect(await ann.say('x', 'anyone?')).toMatchObject({ online: 1, delivered: 0 });
      expect(ann.closed).toBeUndefined();

      const three = await instance();
      const dave = await connect(three);
      const { joined, history } = await dave.join('x');
      expect(joined.online).toBe(2);
      expect(history.messages.map((m: { text: string }) => m.text)).toEqual(['hi from one', 'anyone?']);
      expect(one.output()).toContain('"msg":"connected"');
    });

    it('closes its connections with 1001 and exits 0 on SIGTERM', async () => {
      const p = await instance();
      const eve = await connect(p);
      p.child.kill('SIGTERM');
      expect(await p.exited).toBe(0);
      await eve.waitFor('the close', () => eve.closed);
      expect(eve.closed).toEqual({ code: 1001, reason: 'server shutting down' });
      expect(p.output()).toContain('"msg":"disconnected"');
    });
  });
});
