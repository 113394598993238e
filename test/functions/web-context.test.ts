/**
 * The handler's context in web mode, across two instances on one real `redis-server`: sends and
 * closes to a connection on the other instance, broadcasts and their counts, records, users and
 * the store, and the example apps (shout, board) served unchanged.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import board from '../../functions/board/app';
import shout from '../../functions/shout/app';
import { defineApp, type Delivery, type User } from '../../functions/toolkit';
import { serveWeb, type WebApp, type WebServer, type WebServerOptions } from '../../functions/toolkit/web';
import { TestClient } from '../harness/client';
import { startRedis, type RedisFixture } from '../support/redis-fixture';

let redis: RedisFixture;
const servers: WebServer[] = [];
const clients: TestClient[] = [];
let run = 0;

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close().catch(() => c.ws.terminate())));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function twoInstances(app: WebApp, options: WebServerOptions = {}): Promise<[WebServer, WebServer]> {
  const prefix = `c${++run}:`;
  const serve = () => serveWeb(app, { port: 0, host: '127.0.0.1', env: redis.env, prefix, ...options });
  const pair = [await serve(), await serve()] as [WebServer, WebServer];
  servers.push(...pair);
  return pair;
}

async function connect(server: WebServer, protocols: string[]): Promise<TestClient> {
  const client = await TestClient.connect(server.url, { protocols });
  clients.push(client);
  return client;
}

/** What the probe's onConnect and onDisconnect saw. */
const seen: { connectSend: Delivery[]; disconnected: Array<{ id: string; rooms: readonly string[]; user: User }> } = { connectSend: [], disconnected: [] };

/** An app that does what its client asks, and answers what that gave. */
const probe = defineApp({
  protocols: ['probe'],
  lobby: 'lobby',
  async onConnect(ctx) {
    seen.connectSend.push(await ctx.send(ctx.connectionId, 'too early'));
  },
  async onMessage(ctx, message) {
    if (message.type !== 'text') return;
    const ask = JSON.parse(message.text) as { op: string; to?: string; text?: string; key?: string; value?: string };
    const answer = (value: object) => ctx.send(ctx.connectionId, { op: ask.op, ...value });
    switch (ask.op) {
      case 'whoami':
        return void (await answer({ id: ctx.connectionId, record: await ctx.connection(), user: await ctx.user(), rooms: await ctx.rooms() }));
      case 'send':
        return void (await answer({ delivery: await ctx.send(ask.to!, { from: ctx.connectionId, text: ask.text }) }));
      case 'close':
        return void (await answer({ delivery: await ctx.close(ask.to!) }));
      case 'all': {
        const result = await ctx.broadcast({ all: ask.text }, { except: ctx.connectionId });
        return void (await answer({ result, listed: (await ctx.connections()).length }));
      }
      case 'put':
        await ctx.store.put(ask.key!, ask.value!);
        return void (await answer({}));
      case 'get':
        return void (await answer({ value: (await ctx.store.get(ask.key!))?.toString() }));
    }
  },
  async onDisconnect(ctx) {
    seen.disconnected.push({ id: ctx.connectionId, rooms: await ctx.rooms(), user: await ctx.user() });
  },
});

/** Waits for `check` to hold, failing after `ms` with what it waited for. */
async function until(what: string, check: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function ask(client: TestClient, op: string, fields: object = {}): Promise<any> {
  client.send({ op, ...fields });
  return client.nextJson((m) => m.op === op, undefined, `the answer to ${op}`);
}

describe('the context in web mode', () => {
  it('knows its connection: record, user and rooms; it cannot be sent to before the handshake completes', async () => {
    const [a] = await twoInstances(probe);
    const x = await connect(a, ['probe']);
    const me = await ask(x, 'whoami');
    expect(me.id).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(me.record).toMatchObject({ id: me.id, protocol: 'probe', sourceIp: '127.0.0.1', connectedAt: expect.any(String) });
    expect(me.user).toMatchObject({ id: expect.stringMatching(/^guest-/), verified: false });
    expect(me.rooms).toEqual(['lobby']);
    expect(seen.connectSend.at(-1)).toBe('failed');
    expect(x.received.map((r) => r.text)).not.toContain('too early');
    await x.close();
    await until(`the disconnect of ${me.id}`, () => seen.disconnected.some((d) => d.id === me.id));
    // onDisconnect runs once the connection is out of every room.
    expect(seen.disconnected.find((d) => d.id === me.id)).toEqual({ id: me.id, rooms: [], user: me.user });
  });

  it('sends to and closes a connection on the other instance; one that is gone is removed', async () => {
    const [a, b] = await twoInstances(probe);
    const x = await connect(a, ['probe']);
    const y = await connect(b, ['probe']);
    const yId = (await ask(y, 'whoami')).id;
    const xId = (await ask(x, 'whoami')).id;
    expect(await ask(x, 'send', { to: yId, text: 'over there' })).toMatchObject({ delivery: 'delivered' });
    expect(await y.nextJson((m) => m.text === 'over there')).toEqual({ from: xId, text: 'over there' });
    expect(await ask(x, 'close', { to: yId })).toMatchObject({ delivery: 'delivered' });
    await y.waitFor('the close', () => y.closed);
    expect(y.closed?.code).toBe(1000);
    await until(`the disconnect of ${yId}`, () => seen.disconnected.some((d) => d.id === yId));
    expect(await ask(x, 'send', { to: yId, text: 'still there?' })).toMatchObject({ delivery: 'removed' });
    expect(await ask(x, 'send', { to: 'never-was-a-connection', text: '?' })).toMatchObject({ delivery: 'removed' });
  });

  it('broadcasts to every connection on both instances, counting what Redis delivered', async () => {
    const [a, b] = await twoInstances(probe);
    const x = await connect(a, ['probe']);
    const y = await connect(b, ['probe']);
    const z = await connect(b, ['probe']);
    const { result, listed } = await ask(x, 'all', { text: 'to all' });
    expect(listed).toBe(3);
    expect(result).toEqual({ attempted: 2, delivered: 2, removed: 0, failed: 0 });
    for (const other of [y, z]) expect(await other.nextJson((m) => m.all === 'to all')).toEqual({ all: 'to all' });
    expect(x.json((m) => m.all !== undefined)).toEqual([]);
  });

  it('shares the store between instances', async () => {
    const [a, b] = await twoInstances(probe);
    const x = await connect(a, ['probe']);
    const y = await connect(b, ['probe']);
    await ask(x, 'put', { key: 'greeting', value: 'hello from A' });
    expect(await ask(y, 'get', { key: 'greeting' })).toMatchObject({ value: 'hello from A' });
  });

  it('serves the shout example unchanged', async () => {
    const [a, b] = await twoInstances(shout);
    const x = await connect(a, ['shout']);
    const y = await connect(b, ['shout']);
    x.send('hello there');
    for (const client of [x, y]) expect(await client.nextJson((m) => m.type === 'shout')).toEqual({ type: 'shout', text: 'HELLO THERE', online: 2 });
    x.send(Buffer.from([1, 2, 3, 4]));
    expect((await x.waitFor('the reversed frame', () => x.received.find((r) => r.binary))).binary).toEqual(Buffer.from([4, 3, 2, 1]));
  });

  it('serves the board example unchanged: strokes relayed across instances and replayed from the store', async () => {
    const [a, b] = await twoInstances(board);
    const x = await connect(a, ['board']);
    const y = await connect(b, ['board']);
    x.send(Buffer.from('stroke-1'));
    expect((await y.waitFor('the stroke', () => y.received.find((r) => r.binary))).binary).toEqual(Buffer.from('stroke-1'));
    const late = await connect(a, ['board']);
    late.send({ type: 'hello' });
    expect(await late.nextJson((m) => m.type === 'ready')).toEqual({ type: 'ready', strokes: 1 });
    expect(late.received.filter((r) => r.binary).map((r) => r.binary!.toString())).toEqual(['stroke-1']);
  });
});
