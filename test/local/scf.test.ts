import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Zippable, strToU8, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FunctionRef, InvocationResult } from '../../local/invoker';
import { DEFAULT_MAX_INSTANCES, type FunctionSpec, LocalScf, type LocalScfOptions, ScfError } from '../../local/scf/runtime';
import { type AppBundles, RUNTIME } from '../../scripts/bundle';
import { bundleChat } from '../support/bundles';

const CREDENTIALS = { secretId: 'AKIDlocaltestsecretid0000000000000', secretKey: 'local-test-secret-key', sessionToken: 'local-test-session-token' };
const REGION = 'ap-guangzhou';
const ZIP_MTIME = new Date('1980-01-01T00:00:00Z');

/**
 * A handler that does what the event asks: the real bundles never sleep, throw, exit or run out of
 * memory on purpose. `VERSION` is replaced to build distinct versions for hot swap.
 */
const TOOLBOX = `
const { threadId } = require('node:worker_threads');
const VERSION = '__VERSION__';
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
exports.main_handler = async (event, context) => {
  switch (event.op) {
    case 'env': return { env: { ...process.env } };
    case 'setenv': process.env.SET_BY_HANDLER = 'yes'; return process.env.SET_BY_HANDLER;
    case 'whoami': return { threadId, pid: process.pid, version: VERSION };
    case 'sleep': {
      const start = Date.now();
      await sleep(event.ms);
      return { threadId, start, end: Date.now(), i: event.i, version: VERSION };
    }
    case 'throw': throw new Error('boom: ' + event.why);
    case 'log':
      console.log('hello from ' + context.request_id);
      console.error('to stderr from ' + context.request_id);
      process.stdout.write('unterminated from ' + context.request_id);
      return 'logged';
    case 'exit': process.exit(3);
    case 'oom': { const keep = []; for (;;) keep.push(new Array(10000).fill(Math.random())); }
    case 'context': return { context, remaining: context.getRemainingTimeInMillis(), keys: Object.keys(context) };
    case 'bigint': return { n: 1n };
    default: return { echo: event, version: VERSION };
  }
};
exports.with_callback = (event, context, callback) => { setTimeout(() => callback(null, { via: 'callback', event }), 5); };
`;

const ref = (name: string, qualifier = '$LATEST'): FunctionRef => ({ name, namespace: 'default', qualifier });

function expectOk(result: InvocationResult): unknown {
  if (!result.ok) throw new Error(`expected success, got ${result.kind}: ${result.message}`);
  return result.value;
}

async function scfError(promise: Promise<unknown>): Promise<ScfError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(ScfError);
    return err as ScfError;
  }
  throw new Error('expected the call to fail');
}

/** Waits until `check` holds, polling; fails after `ms`. */
async function until(check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('LocalScf', () => {
  let root: string;
  let bundles: AppBundles;
  const runtimes: LocalScf[] = [];
  const lines: Array<{ line: string; stream: 'stdout' | 'stderr' }> = [];
  let scf: LocalScf;

  /** Writes a zip of the given files and returns its path. */
  async function zipOf(name: string, files: Record<string, string>): Promise<string> {
    const zipPath = join(root, 'zips', `${name}.zip`);
    await mkdir(join(root, 'zips'), { recursive: true });
    // fixed timestamps: the same files give the same bytes, hence the same code hash
    const zippable: Zippable = {};
    for (const [file, code] of Object.entries(files)) zippable[file] = [strToU8(code), { mtime: ZIP_MTIME }];
    await writeFile(zipPath, zipSync(zippable));
    return zipPath;
  }

  const toolbox = (version = 'v1') => zipOf(`toolbox-${version}`, { 'index.js': TOOLBOX.replace('__VERSION__', version) });

  function newRuntime(options: Partial<LocalScfOptions> = {}): LocalScf {
    const runtime = new LocalScf({
      workDir: join(root, 'work'),
      credentials: CREDENTIALS,
      region: REGION,
      log: (line, stream) => lines.push({ line, stream }),
      ...options,
    });
    runtimes.push(runtime);
    return runtime;
  }

  async function deployToolbox(runtime: LocalScf, name: string, extra: Partial<FunctionSpec> = {}): Promise<void> {
    await runtime.deploy({
      name,
      zipPath: await toolbox(),
      handler: 'index.main_handler',
      environment: {},
      memoryMb: 128,
      timeoutSeconds: 10,
      ...extra,
    });
  }

  const logged = (prefix: string) => lines.filter((l) => l.line.startsWith(prefix));

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'local-scf-'));
    bundles = await bundleChat(join(root, 'bundles'));
    scf = newRuntime();
  });

  afterAll(async () => {
    await Promise.all(runtimes.map((runtime) => runtime.stop()));
    if (root) await rm(root, { recursive: true, force: true });
  });

  describe('the real bundles', () => {
    it('runs the register zip: a malformed event is refused with errNo 101, logged under the request id', async () => {
      const bundle = bundles.register;
      await scf.deploy({
        name: 'register',
        zipPath: bundle.zipPath,
        handler: 'index.main_handler',
        environment: { bucket: 'chat-dev-gz-1250000000', region: REGION },
        memoryMb: 128,
        timeoutSeconds: 15,
        runtime: RUNTIME,
      });
      const result = await scf.invoke(ref('register'), { not: 'a gateway event' }, { requestId: 'reg-malformed-1' });
      expect(expectOk(result)).toMatchObject({ errNo: 101 });
      expect(result.durationMs).toBeGreaterThan(0);
      // the handler's JSON log line comes out of the worker's stderr, prefixed
      const warn = logged('[register reg-malformed-1] {');
      expect(warn.some((l) => l.stream === 'stderr' && l.line.includes('"errNo":101'))).toBe(true);

      const info = scf.getFunction('register', 'default')!;
      const sha = createHash('sha256')
        .update(await readFile(bundle.zipPath))
        .digest('hex');
      expect(info).toMatchObject({ name: 'register', namespace: 'default', status: 'Active', codeSha256: sha, runtime: RUNTIME });
      // unpacked once, under the same hash prefix the bundle's name carries
      expect((await stat(join(root, 'work', `register-${bundle.hash}`, 'index.js'))).isFile()).toBe(true);
    });

    it('deploys transport and cleanup too; transport without url fails as an error naming it', async () => {
      for (const name of ['transport', 'cleanup'] as const) {
        await scf.deploy({ name, zipPath: bundles[name].zipPath, handler: 'index.main_handler', environment: {}, memoryMb: 128, timeoutSeconds: 15 });
      }
      const transport = await scf.invoke(ref('transport'), {});
      expect(transport).toMatchObject({ ok: false, kind: 'error' });
      expect(!transport.ok && transport.message).toMatch(/url/);
      const cleanup = expectOk(await scf.invoke(ref('cleanup'), {})) as { errNo: number };
      expect(cleanup.errNo).toBeGreaterThan(100);
      expect(scf.listFunctions().map((f) => f.name)).toEqual(['cleanup', 'register', 'transport']);
    });
  });

  describe('isolation', () => {
    it('gives a handler its own variables and the platform ones, nothing of the host', async () => {
      process.env.LOCAL_SCF_HOST_MARKER = 'host-only';
      try {
        await deployToolbox(scf, 'env-reader', { environment: { FOO: 'bar', LOG_LEVEL: 'warn' }, memoryMb: 256, timeoutSeconds: 7, runtime: RUNTIME });
        const { env } = expectOk(await scf.invoke(ref('env-reader'), { op: 'env' })) as { env: Record<string, string> };
        expect(env).toMatchObject({
          FOO: 'bar',
          LOG_LEVEL: 'warn',
          TENCENTCLOUD_SECRETID: CREDENTIALS.secretId,
          TENCENTCLOUD_SECRETKEY: CREDENTIALS.secretKey,
          TENCENTCLOUD_SESSIONTOKEN: CREDENTIALS.sessionToken,
          TENCENTCLOUD_REGION: REGION,
          SCF_FUNCTIONNAME: 'env-reader',
          SCF_FUNCTIONVERSION: '$LATEST',
          SCF_NAMESPACE: 'default',
          SCF_MEMORY_SIZE: '256',
          SCF_TIMEOUT: '7',
          SCF_RUNTIME: RUNTIME,
        });
        expect(env).not.toHaveProperty('LOCAL_SCF_HOST_MARKER');
        expect(env).not.toHaveProperty('HOME');
        expect(env).not.toHaveProperty('PATH');
        // and what a handler writes stays in its instance
        expect(expectOk(await scf.invoke(ref('env-reader'), { op: 'setenv' }))).toBe('yes');
        expect(process.env.SET_BY_HANDLER).toBeUndefined();
      } finally {
        delete process.env.LOCAL_SCF_HOST_MARKER;
      }
    });

    it('does not let the function environment override the credentials', async () => {
      await deployToolbox(scf, 'impostor', {
        environment: {
          TENCENTCLOUD_SECRETID: 'AKIDfake',
          TENCENTCLOUD_SECRETKEY: 'fake',
          TENCENTCLOUD_SESSIONTOKEN: 'fake',
          SCF_FUNCTIONNAME: 'someone-else',
          OWN: 'kept',
        },
      });
      const { env } = expectOk(await scf.invoke(ref('impostor'), { op: 'env' })) as { env: Record<string, string> };
      expect(env).toMatchObject({
        TENCENTCLOUD_SECRETID: CREDENTIALS.secretId,
        TENCENTCLOUD_SECRETKEY: CREDENTIALS.secretKey,
        TENCENTCLOUD_SESSIONTOKEN: CREDENTIALS.sessionToken,
        SCF_FUNCTIONNAME: 'impostor',
        OWN: 'kept',
      });
      expect(logged('[impostor deploy] reserved environment variables ignored').length).toBe(1);
    });

    it("drops a session token the function brings when the platform has none; adds the host's platform variables", async () => {
      const runtime = newRuntime({
        credentials: { secretId: 'AKIDnotoken', secretKey: 'key' },
        region: undefined,
        platformEnvironment: { LOCAL_COS_DOMAIN: 'http://127.0.0.1:1/{Bucket}', TENCENTCLOUD_SECRETID: 'not-from-here' },
      });
      await deployToolbox(runtime, 'no-token', { environment: { TENCENTCLOUD_SESSIONTOKEN: 'fake', LOCAL_COS_DOMAIN: 'own' } });
      const { env } = expectOk(await runtime.invoke(ref('no-token'), { op: 'env' })) as { env: Record<string, string> };
      expect(env).not.toHaveProperty('TENCENTCLOUD_SESSIONTOKEN');
      expect(env).not.toHaveProperty('TENCENTCLOUD_REGION');
      expect(env.TENCENTCLOUD_SECRETID).toBe('AKIDnotoken');
      expect(env.LOCAL_COS_DOMAIN).toBe('http://127.0.0.1:1/{Bucket}');
      await runtime.stop();
    });

    it('passes the SCF context, JSON data plus getRemainingTimeInMillis', async () => {
      await deployToolbox(scf, 'context-reader', { memoryMb: 64, timeoutSeconds: 3 });
      const value = expectOk(await scf.invoke(ref('context-reader'), { op: 'context' }, { requestId: 'ctx-1' })) as {
        context: Record<string, unknown>;
        remaining: number;
        keys: string[];
      };
      expect(value.context).toEqual({
        request_id: 'ctx-1',
        function_name: 'context-reader',
        function_version: '$LATEST',
        namespace: 'default',
        memory_limit_in_mb: 64,
        time_limit_in_ms: 3000,
        tencentcloud_region: REGION,
      });
      expect(value.keys).not.toContain('getRemainingTimeInMillis');
      expect(value.remaining).toBeGreaterThan(0);
      expect(value.remaining).toBeLessThanOrEqual(3000);
    });

    it('supports callback-style handlers', async () => {
      await deployToolbox(scf, 'callback', { handler: 'index.with_callback' });
      expect(expectOk(await scf.invoke(ref('callback'), { a: 1 }))).toEqual({ via: 'callback', event: { a: 1 } });
    });
  });

  describe('instances', () => {
    it('reuses a warm instance, and logs and counts the cold start', async () => {
      await deployToolbox(scf, 'warm');
      const first = expectOk(await scf.invoke(ref('warm'), { op: 'whoami' }, { requestId: 'warm-1' })) as { threadId: number };
      const second = expectOk(await scf.invoke(ref('warm'), { op: 'whoami' }, { requestId: 'warm-2' })) as { threadId: number };
      expect(second.threadId).toBe(first.threadId);
      expect(scf.stats('warm', 'default')).toEqual({ instances: 1, busy: 0, coldStarts: 1, invocations: 2 });
      expect(logged('[warm warm-1] cold start: ').length).toBe(1);
      expect(logged('[warm warm-1] cold start: ')[0]!.line).toMatch(/cold start: \d+ ms$/);
      expect(logged('[warm warm-2] cold start')).toEqual([]);
    });

    it('prefixes every line with the function and the request id', async () => {
      await deployToolbox(scf, 'chatty');
      await Promise.all([scf.invoke(ref('chatty'), { op: 'log' }, { requestId: 'log-a' }), scf.invoke(ref('chatty'), { op: 'log' }, { requestId: 'log-b' })]);
      expectOk(await scf.invoke(ref('chatty'), { op: 'log' }, { requestId: 'log-c' }));
      for (const id of ['log-a', 'log-b', 'log-c']) {
        const mine = lines.filter((l) => l.line.includes(` from ${id}`));
        expect(mine).toEqual([
          { line: `[chatty ${id}] hello from ${id}`, stream: 'stdout' },
          { line: `[chatty ${id}] to stderr from ${id}`, stream: 'stderr' },
          { line: `[chatty ${id}] unterminated from ${id}`, stream: 'stdout' },
        ]);
      }
    });

    it('allows by default the documented number of instances: twice the cores, at least 4', () => {
      // the README's rule, worked out here rather than read from the constant
      const cores = availableParallelism();
      const documented = cores * 2 < 4 ? 4 : cores * 2;
      expect(DEFAULT_MAX_INSTANCES).toBe(documented);
    });

    it('runs parallel invocations on separate instances up to the limit, then queues them', async () => {
      const runtime = newRuntime({ maxInstancesPerFunction: 3 });
      await deployToolbox(runtime, 'parallel');
      type Slept = { threadId: number; start: number; end: number; i: number };
      const burst = async (count: number, ms: number) => {
        const results = await Promise.all(
          Array.from({ length: count }, (_, i) => runtime.invoke(ref('parallel'), { op: 'sleep', ms, i }).then((r) => expectOk(r) as Slept)),
        );
        return { results };
      };
      const maxOverlap = (results: Slept[]) => Math.max(...results.map((r) => results.filter((o) => o.start <= r.start && r.start < o.end).length));

      const three = await burst(3, 300);
      expect(new Set(three.results.map((r) => r.threadId)).size).toBe(3);
      // all three ran at once: each started before any had ended
      expect(maxOverlap(three.results)).toBe(3);

      const seven = await burst(7, 200);
      expect(new Set(seven.results.map((r) => r.threadId)).size).toBeLessThanOrEqual(3);
      expect(maxOverlap(seven.results)).toBeLessThanOrEqual(3);
      // the others queued: on each instance one invocation started only after the one before it ended
      const byThread = new Map<number, Slept[]>();
      for (const r of seven.results) byThread.set(r.threadId, [...(byThread.get(r.threadId) ?? []), r]);
      for (const runs of byThread.values()) {
        const ordered = [...runs].sort((a, b) => a.start - b.start);
        for (let i = 1; i < ordered.length; i++) expect(ordered[i].start).toBeGreaterThanOrEqual(ordered[i - 1].end);
      }
      // 7 on 3 instances: one of them ran three
      expect(Math.max(...[...byThread.values()].map((runs) => runs.length))).toBeGreaterThanOrEqual(3);
      expect(runtime.stats('parallel', 'default')).toMatchObject({ instances: 3, busy: 0, coldStarts: 3, invocations: 10 });
      await runtime.stop();
    });

    it('serves queued invocations in arrival order', async () => {
      const runtime = newRuntime({ maxInstancesPerFunction: 1 });
      await deployToolbox(runtime, 'fifo');
      const results = await Promise.all(
        Array.from({ length: 5 }, (_, i) => runtime.invoke(ref('fifo'), { op: 'sleep', ms: 20, i }).then((r) => expectOk(r) as { i: number; start: number })),
      );
      const byStart = [...results].sort((a, b) => a.start - b.start || a.i - b.i).map((r) => r.i);
      expect(byStart).toEqual([0, 1, 2, 3, 4]);
      expect(runtime.stats('fifo', 'default')).toMatchObject({ instances: 1, coldStarts: 1 });
      await runtime.stop();
    });
  });

  describe('failures', () => {
    it('times out, terminates the instance, and runs the next call on a fresh one', async () => {
      await deployToolbox(scf, 'slow', { timeoutSeconds: 1 });
      const before = expectOk(await scf.invoke(ref('slow'), { op: 'whoami' })) as { threadId: number };
      const result = await scf.invoke(ref('slow'), { op: 'sleep', ms: 5000 }, { requestId: 'slow-1' });
      expect(result).toMatchObject({ ok: false, kind: 'timeout', message: 'function slow timed out after 1 s' });
      expect(result.durationMs).toBeGreaterThanOrEqual(900);
      expect(result.durationMs).toBeLessThan(4000);
      expect(logged('[slow slow-1] function slow timed out').length).toBe(1);
      const after = expectOk(await scf.invoke(ref('slow'), { op: 'whoami' })) as { threadId: number };
      expect(after.threadId).not.toBe(before.threadId);
      expect(scf.stats('slow', 'default')).toMatchObject({ instances: 1, coldStarts: 2, invocations: 3 });
    });

    it('answers a thrown error as kind error and keeps the instance warm', async () => {
      await deployToolbox(scf, 'thrower');
      const before = expectOk(await scf.invoke(ref('thrower'), { op: 'whoami' })) as { threadId: number };
      const result = await scf.invoke(ref('thrower'), { op: 'throw', why: 'on purpose' }, { requestId: 'throw-1' });
      expect(result).toMatchObject({ ok: false, kind: 'error', message: 'boom: on purpose' });
      // the stack is in the log
      expect(logged('[thrower throw-1]    at ').length + logged('[thrower throw-1]     at ').length).toBeGreaterThan(0);
      const after = expectOk(await scf.invoke(ref('thrower'), { op: 'whoami' })) as { threadId: number };
      expect(after.threadId).toBe(before.threadId);
      // a result that is not JSON is an error too
      expect(await scf.invoke(ref('thrower'), { op: 'bigint' })).toMatchObject({ ok: false, kind: 'error' });
    });

    it('reports a handler that exits as a crash, then recovers', async () => {
      await deployToolbox(scf, 'quitter');
      const result = await scf.invoke(ref('quitter'), { op: 'exit' });
      expect(result).toMatchObject({ ok: false, kind: 'crash' });
      expect(!result.ok && result.message).toMatch(/quitter crashed: .*exited with code 3/);
      expect(scf.stats('quitter', 'default').instances).toBe(0);
      expect(expectOk(await scf.invoke(ref('quitter'), { op: 'whoami' }))).toMatchObject({ version: 'v1' });
    });

    it('kills an instance past its memory as a crash, then recovers', async () => {
      await deployToolbox(scf, 'hungry', { memoryMb: 32 });
      const result = await scf.invoke(ref('hungry'), { op: 'oom' });
      expect(result).toMatchObject({ ok: false, kind: 'crash' });
      expect(!result.ok && result.message).toMatch(/out of memory \(limit 32 MB\)/);
      expect(expectOk(await scf.invoke(ref('hungry'), { op: 'whoami' }))).toMatchObject({ version: 'v1' });
    });

    it('answers not-found for unknown functions and other qualifiers', async () => {
      expect(await scf.invoke(ref('nobody'), {})).toMatchObject({ ok: false, kind: 'not-found' });
      expect(await scf.invoke({ name: 'warm', namespace: 'other', qualifier: '$LATEST' }, {})).toMatchObject({ ok: false, kind: 'not-found' });
      expect(await scf.invoke(ref('warm', '1'), {})).toMatchObject({ ok: false, kind: 'not-found' });
      expect(scf.getFunction('nobody', 'default')).toBeUndefined();
    });

    it('refuses a deploy whose zip lacks the handler file or export, or whose code throws on load', async () => {
      const noFile = await scfError(
        scf.deploy({
          name: 'bad-file',
          zipPath: await zipOf('bad-file', { 'main.js': 'exports.main_handler = () => 1' }),
          handler: 'index.main_handler',
          environment: {},
          memoryMb: 128,
          timeoutSeconds: 3,
        }),
      );
      expect(noFile.code).toBe('ERR_BAD_HANDLER');
      expect(noFile.message).toMatch(/index\.js.*not in .*main\.js/);

      const noExport = await scfError(
        scf.deploy({
          name: 'bad-export',
          zipPath: await zipOf('bad-export', { 'index.js': 'exports.handler = () => 1' }),
          handler: 'index.main_handler',
          environment: {},
          memoryMb: 128,
          timeoutSeconds: 3,
        }),
      );
      expect(noExport.code).toBe('ERR_BAD_HANDLER');
      expect(noExport.message).toMatch(/no exported function main_handler \(it exports handler\)/);

      const malformed = await scfError(
        scf.deploy({ name: 'bad-string', zipPath: await toolbox(), handler: 'index', environment: {}, memoryMb: 128, timeoutSeconds: 3 }),
      );
      expect(malformed.code).toBe('ERR_BAD_HANDLER');

      const throws = await scfError(
        scf.deploy({
          name: 'bad-load',
          zipPath: await zipOf('bad-load', { 'index.js': 'throw new Error("cannot start")' }),
          handler: 'index.main_handler',
          environment: {},
          memoryMb: 128,
          timeoutSeconds: 3,
        }),
      );
      expect(throws.code).toBe('ERR_INIT_FAILED');
      expect(throws.message).toMatch(/cannot start/);

      for (const name of ['bad-file', 'bad-export', 'bad-string', 'bad-load']) expect(scf.getFunction(name, 'default')).toBeUndefined();
    });
  });

  describe('code packages', () => {
    it('refuses a file that is not a zip, and entries that would land outside their folder', async () => {
      const notZip = join(root, 'zips', 'not-a-zip.zip');
      await writeFile(notZip, 'plain text');
      const spec = { handler: 'index.main_handler', environment: {}, memoryMb: 128, timeoutSeconds: 3 };
      expect((await scfError(scf.deploy({ name: 'not-zip', zipPath: notZip, ...spec }))).code).toBe('ERR_BAD_ZIP');
      expect((await scfError(scf.deploy({ name: 'missing-zip', zipPath: join(root, 'nowhere.zip'), ...spec }))).code).toBe('ERR_BAD_ZIP');
      const slip = await zipOf('slip', { 'index.js': 'exports.main_handler = () => 1', '../escaped.js': '' });
      const err = await scfError(scf.deploy({ name: 'slip', zipPath: slip, ...spec }));
      expect(err.code).toBe('ERR_BAD_ZIP');
      expect(err.message).toContain('../escaped.js');
    });

    it('loads bundles as CommonJS in an ESM project, resolving packages from the zip only', async () => {
      // a work folder inside an ESM package, below a node_modules the function must not see
      const project = join(root, 'esm-project');
      await mkdir(join(project, 'node_modules', 'host-only'), { recursive: true });
      await writeFile(join(project, 'package.json'), JSON.stringify({ type: 'module' }));
      await writeFile(join(project, 'node_modules', 'host-only', 'index.js'), 'module.exports = "host";');
      const runtime = newRuntime({ workDir: join(project, '.data', 'scf') });
      const zipPath = await zipOf('resolver', {
        'index.js': `exports.main_handler = async () => {
          let host;
          try { host = require('host-only'); } catch (err) { host = err.code; }
          return { own: require('own-dep'), nested: require('./lib/nested.js'), host };
        };`,
        'lib/nested.js': 'module.exports = require("own-dep") + "-nested";',
        'node_modules/own-dep/index.js': 'module.exports = "own";',
      });
      await runtime.deploy({ name: 'resolver', zipPath, handler: 'index.main_handler', environment: {}, memoryMb: 128, timeoutSeconds: 5 });
      expect(expectOk(await runtime.invoke(ref('resolver'), {}))).toEqual({ own: 'own', nested: 'own-nested', host: 'MODULE_NOT_FOUND' });
      await runtime.stop();
    });
  });

  describe('changes', () => {
    it('hot-swaps code: the invocation in flight finishes on v1, the next runs v2', async () => {
      await deployToolbox(scf, 'swap');
      const inFlight = scf.invoke(ref('swap'), { op: 'sleep', ms: 500 });
      await until(() => scf.stats('swap', 'default').busy === 1);
      await scf.deploy({ name: 'swap', zipPath: await toolbox('v2'), handler: 'index.main_handler', environment: {}, memoryMb: 128, timeoutSeconds: 10 });
      expect(scf.stats('swap', 'default').busy).toBe(1); // not interrupted
      expect(expectOk(await scf.invoke(ref('swap'), { op: 'whoami' }))).toMatchObject({ version: 'v2' });
      expect(expectOk(await inFlight)).toMatchObject({ version: 'v1' });
      // the old instance stops once its invocation is done
      await until(() => scf.stats('swap', 'default').instances === 1);
      // the same bytes and configuration again: nothing changes, the instance stays warm
      const warm = expectOk(await scf.invoke(ref('swap'), { op: 'whoami' })) as { threadId: number };
      await scf.deploy({ name: 'swap', zipPath: await toolbox('v2'), handler: 'index.main_handler', environment: {}, memoryMb: 128, timeoutSeconds: 10 });
      expect(expectOk(await scf.invoke(ref('swap'), { op: 'whoami' }))).toMatchObject({ threadId: warm.threadId });
    });

    it('keeps the previous version when a new deploy fails', async () => {
      await deployToolbox(scf, 'steady');
      const broken = await zipOf('steady-broken', { 'index.js': 'module.exports = {}' });
      const err = await scfError(
        scf.deploy({ name: 'steady', zipPath: broken, handler: 'index.main_handler', environment: {}, memoryMb: 128, timeoutSeconds: 10 }),
      );
      expect(err.code).toBe('ERR_BAD_HANDLER');
      expect(expectOk(await scf.invoke(ref('steady'), { op: 'whoami' }))).toMatchObject({ version: 'v1' });
    });

    it('replaces the whole environment on updateConfiguration, on new instances', async () => {
      await deployToolbox(scf, 'configurable', { environment: { KEEP: '1', DROP: '2' } });
      const before = expectOk(await scf.invoke(ref('configurable'), { op: 'env' })) as { env: Record<string, string> };
      const thread = (expectOk(await scf.invoke(ref('configurable'), { op: 'whoami' })) as { threadId: number }).threadId;
      expect(before.env).toMatchObject({ KEEP: '1', DROP: '2' });

      await scf.updateConfiguration('configurable', 'default', { environment: { KEEP: '3' }, memoryMb: 256 });
      const after = expectOk(await scf.invoke(ref('configurable'), { op: 'env' })) as { env: Record<string, string> };
      expect(after.env.KEEP).toBe('3');
      expect(after.env).not.toHaveProperty('DROP');
      expect(after.env.SCF_MEMORY_SIZE).toBe('256');
      expect((expectOk(await scf.invoke(ref('configurable'), { op: 'whoami' })) as { threadId: number }).threadId).not.toBe(thread);
      expect(scf.getFunction('configurable', 'default')).toMatchObject({ environment: { KEEP: '3' }, memoryMb: 256 });

      expect((await scfError(scf.updateConfiguration('nobody', 'default', { environment: {} }))).code).toBe('ERR_FUNCTION_NOT_FOUND');
    });

    it('deletes a function', async () => {
      await deployToolbox(scf, 'doomed');
      expectOk(await scf.invoke(ref('doomed'), { op: 'whoami' }));
      await scf.deleteFunction('doomed', 'default');
      expect(await scf.invoke(ref('doomed'), {})).toMatchObject({ ok: false, kind: 'not-found' });
      expect((await scfError(scf.deleteFunction('doomed', 'default'))).code).toBe('ERR_FUNCTION_NOT_FOUND');
    });
  });

  it('bounds initialization by the timeout, and stop() ends a deploy stuck loading', async () => {
    const hung = await zipOf('hung', { 'index.js': 'for (;;) {}' });
    const spec = { name: 'hung', zipPath: hung, handler: 'index.main_handler', environment: {} as Record<string, string>, memoryMb: 128 };
    const timedOut = await scfError(scf.deploy({ ...spec, timeoutSeconds: 0.5 }));
    expect(timedOut.code).toBe('ERR_INIT_FAILED');
    expect(timedOut.message).toMatch(/timed out after 0\.5 s while initializing/);

    const runtime = newRuntime();
    const deploying = scfError(runtime.deploy({ ...spec, timeoutSeconds: 60 }));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const started = Date.now();
    await runtime.stop();
    expect((await deploying).code).toBe('ERR_STOPPED');
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('stop() terminates every instance, busy ones too, and is safe twice', async () => {
    const runtime = newRuntime();
    await deployToolbox(runtime, 'stopped');
    const long = runtime.invoke(ref('stopped'), { op: 'sleep', ms: 30_000 });
    await until(() => runtime.stats('stopped', 'default').busy === 1);
    const started = Date.now();
    await runtime.stop();
    await runtime.stop();
    expect(await long).toMatchObject({ ok: false, kind: 'crash' });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await runtime.invoke(ref('stopped'), {})).toMatchObject({ ok: false, kind: 'not-found' });
    expect((await scfError(deployToolbox(runtime, 'stopped'))).code).toBe('ERR_STOPPED');
  });
});
