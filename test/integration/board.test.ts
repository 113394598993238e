/**
 * The board over real WebSockets: the local cloud running the board app by default, a deployed
 * board when WS_URL is set (with APP=board, and ADMISSION_SECRET when it requires admission).
 * A deployed board may have other users: there, counts are lower bounds and the announcement
 * (which needs the push address, reachable only from inside the cloud) is skipped.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_STROKE_BYTES } from '../../functions/board/protocol';
import { createServerClient } from '../../functions/toolkit';
import { announce, locateApp } from '../../scripts/announce';
import { openAppEndpoint, TestClient, type AppEndpoint } from '../harness';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const remote = Boolean(process.env.WS_URL);

let endpoint: AppEndpoint;
const clients: TestClient[] = [];

async function connect(): Promise<TestClient> {
  const client = await TestClient.connect(endpoint.url, { protocols: endpoint.protocols(['board']) });
  clients.push(client);
  return client;
}

/** A stroke as a client would pack it: Float32 x,y pairs, with `tag` to tell strokes apart. */
const stroke = (tag: number, points = 4) => Buffer.from(new Float32Array(Array.from({ length: points * 2 }, (_, i) => tag + i / 100)).buffer);
/** Spaced under the gateway's 10 messages/s per connection. */
const pace = () => new Promise((r) => setTimeout(r, 150));
const binaries = (client: TestClient) => client.received.flatMap((r) => (r.binary ? [r.binary] : []));

/** Waits until `client` has received every one of `strokes` (in any order, among others). */
function awaitStrokes(client: TestClient, strokes: Buffer[], what: string): Promise<true> {
  return client.waitFor(what, () => strokes.every((s) => binaries(client).some((b) => b.equals(s))) || undefined);
}

describe(`board over ${remote ? process.env.WS_URL : 'the local cloud'}`, () => {
  beforeAll(async () => {
    endpoint = await openAppEndpoint({ app: 'board' });
  }, 120_000);
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
    await endpoint?.stop();
  }, 60_000);

  it('speaks board; relays binary strokes to the others as binary, and cursors with a short id', async () => {
    const [a, b] = [await connect(), await connect()];
    expect(a.protocol).toBe('board');
    const mine = stroke(1);
    a.send(mine);
    await awaitStrokes(b, [mine], 'the stroke at b');
    await pace();
    a.send({ type: 'cursor', x: 12.5, y: 40 });
    const cursor = await b.nextJson((m) => m.type === 'cursor' && m.x === 12.5, undefined, 'the cursor at b');
    expect(cursor).toEqual({ type: 'cursor', from: expect.stringMatching(/^[A-Za-z0-9_-]{8}$/), x: 12.5, y: 40 });
    // b's own cursor comes back to a with another id; neither hears its own frames.
    b.send({ type: 'cursor', x: 1, y: 2 });
    const back = await a.nextJson((m) => m.type === 'cursor' && m.x === 1, undefined, 'the cursor at a');
    expect(back.from).not.toBe(cursor.from);
    expect(binaries(a).some((s) => s.equals(mine))).toBe(false);
    expect(b.json((m) => m.type === 'cursor' && m.from === back.from)).toEqual([]);
    await Promise.all([a.close(), b.close()]);
  });

  it("replays the board to a late joiner's hello, stroke by stroke in order, then ready", async () => {
    const [a, watcher] = [await connect(), await connect()];
    a.send({ type: 'clear' });
    await a.nextJson((m) => m.type === 'cleared', undefined, 'cleared');
    const strokes = [stroke(10), stroke(20, 32), stroke(30, 2048), stroke(40, 1), stroke(50)];
    expect(strokes[2].length).toBe(MAX_STROKE_BYTES);
    for (const s of strokes) {
      await pace();
      a.send(s);
    }
    // Relayed only once stored: once the watcher has them all, the board holds them.
    await awaitStrokes(watcher, strokes, 'the five strokes at the watcher');
    const late = await connect();
    late.send({ type: 'hello' });
    const ready = await late.nextJson((m) => m.type === 'ready', undefined, 'ready');
    const replayed = binaries(late);
    if (endpoint.local) {
      expect(ready).toEqual({ type: 'ready', strokes: 5 });
      expect(replayed).toEqual(strokes);
      // Every stroke came before ready.
      expect(late.received.findIndex((r) => r.json?.type === 'ready')).toBe(5);
    } else {
      // Others may draw meanwhile: ours are there, in order.
      expect(ready.strokes).toBeGreaterThanOrEqual(5);
      const at = strokes.map((s) => replayed.findIndex((r) => r.equals(s)));
      expect(at.every((i, n) => i >= 0 && (n === 0 || i > at[n - 1]))).toBe(true);
    }
    await Promise.all([a.close(), watcher.close(), late.close()]);
  });

  it('clears for everyone: all are told, and a hello then finds nothing', async () => {
    const [a, b] = [await connect(), await connect()];
    a.send(stroke(60));
    await awaitStrokes(b, [stroke(60)], 'the stroke at b');
    b.send({ type: 'clear' });
    await a.nextJson((m) => m.type === 'cleared', undefined, 'cleared at a');
    await b.nextJson((m) => m.type === 'cleared', undefined, 'cleared at b (the sender)');
    await pace();
    b.send({ type: 'hello' });
    const ready = await b.nextJson((m) => m.type === 'ready', undefined, 'ready');
    if (endpoint.local) expect(ready).toEqual({ type: 'ready', strokes: 0 });
    await Promise.all([a.close(), b.close()]);
  });

  it('answers frames it cannot use with an error, and the connection stays open', async () => {
    const [a, b] = [await connect(), await connect()];
    a.send('not json');
    expect(await a.nextJson((m) => m.type === 'error', undefined, 'the first error')).toMatchObject({ code: 'INVALID_MESSAGE' });
    await pace();
    a.send({ type: 'paint' });
    expect(await a.nextJson((m) => m.type === 'error', undefined, 'the second error')).toMatchObject({ code: 'UNKNOWN_TYPE' });
    await pace();
    a.send(Buffer.alloc(MAX_STROKE_BYTES + 1, 7));
    expect(await a.nextJson((m) => m.type === 'error', undefined, 'the third error')).toMatchObject({ code: 'STROKE_TOO_LARGE' });
    await pace();
    a.send({ type: 'cursor', x: 5, y: 5 });
    await b.nextJson((m) => m.type === 'cursor' && m.x === 5, undefined, 'a cursor after the errors');
    expect(a.closed).toBeUndefined();
    expect(binaries(b).some((s) => s.length > MAX_STROKE_BYTES)).toBe(false);
    await Promise.all([a.close(), b.close()]);
  });

  it.skipIf(remote)('pushes from outside the events: npm run announce reaches everyone, and the server client sends to and closes one', async () => {
    const location = locateApp({ app: 'board', dataDir: endpoint.dataDir });
    expect(location.pushUrl).toBe(endpoint.pushUrl);
    const server = createServerClient({ url: location.pushUrl, registry: location.registry });
    // Earlier tests' connections are gone once their cleanups ran: then these two are all there is.
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
    await waitUntil(async () => ((await server.connections()).length === 0 ? true : undefined), "earlier connections' cleanups");
    const [a, b] = [await connect(), await connect()];
    // The command itself, as a user runs it, against this local cloud's data folder.
    const run = spawn(
      process.execPath,
      [
        path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'),
        'scripts/announce.ts',
        '--app',
        'board',
        '--data-dir',
        endpoint.dataDir!,
        '--text',
        'maintenance at noon',
      ],
      {
        cwd: ROOT,
        env: { ...process.env, LOG_LEVEL: 'warn' },
      },
    );
    let output = '';
    run.stdout.on('data', (c: Buffer) => (output += c));
    run.stderr.on('data', (c: Buffer) => (output += c));
    const code = await new Promise<number | null>((resolve) => run.on('close', resolve));
    expect(code, output).toBe(0);
    expect(output).toMatch(/announced on board-dev-gz: delivered to 2 of 2 connection\(s\)/);
    for (const client of [a, b]) {
      expect(await client.nextJson((m) => m.type === 'announcement', undefined, 'the announcement')).toEqual({
        type: 'announcement',
        text: 'maintenance at noon',
      });
    }

    // The same through the module, then one connection at a time by id.
    expect(await announce({ app: 'board', dataDir: endpoint.dataDir, text: 'second' })).toMatchObject({ attempted: 2, delivered: 2, failed: 0 });
    const ids = (await server.connections()).map((c) => c.id);
    expect(ids).toHaveLength(2);
    for (const id of ids) expect(await server.send(id, { type: 'announcement', text: `you are ${id}` })).toEqual({ id, status: 'delivered' });
    const aId = (await a.nextJson((m) => m.type === 'announcement' && m.text.startsWith('you are '), undefined, 'the id announcement')).text.slice(
      'you are '.length,
    );
    expect(ids).toContain(aId);
    expect(await server.close(aId)).toEqual({ id: aId, status: 'delivered' });
    await a.waitFor('the close asked by the server client', () => a.closed);
    // Its cleanup ran: the registry no longer lists it, and a send to it is not delivered.
    const left = await waitUntil(async () => {
      const now = (await server.connections()).map((c) => c.id);
      return now.length === 1 ? now : undefined;
    }, 'the closed connection to leave the registry');
    expect(left).not.toContain(aId);
    expect((await server.send(aId, 'x')).status).not.toBe('delivered');
    await b.close();
  });
});

/** Polls an async check until it yields, failing with `what` after 10 s. */
async function waitUntil<T>(check: () => Promise<T | undefined>, what: string): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after 10 s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
