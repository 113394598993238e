/**
 * Web mode's faults, on a real `redis-server`: Redis unreachable at connect (503, nothing
 * registered), Redis restarted while clients chat (instances reconnect, what was published while
 * one was away is counted, its client resumes with `since`), Redis away too long and internal
 * failures (1011), and pings (a client that stops answering is closed).
 */
import { Redis } from 'ioredis';
import { WebSocket } from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import chat from '../../functions/chat/app';
import { AppError, defineApp } from '../../functions/toolkit';
import { FAILURE_CLOSE_CODE, GAP_CLOSE_CODE, serveWeb, type WebApp, type WebServer, type WebServerOptions } from '../../functions/toolkit/web';
import { ChatClient, ChatRefused, HandshakeRefused } from '../support/chat-client';
import { readPingIntervalMs } from '../../functions/toolkit/web/config';
import { RedisMissing, startRedis, startRedisProxy, type RedisFixture, type RedisProxy } from '../support/redis-fixture';
import { captureLog } from './capture-log';

let redis: RedisFixture;
let inspect: Redis;
const servers: WebServer[] = [];
const clients: ChatClient[] = [];
const sockets: WebSocket[] = [];
const proxies: RedisProxy[] = [];
let run = 0;

beforeAll(async () => {
  redis = await startRedis();
  inspect = new Redis({ host: redis.host, port: redis.port, lazyConnect: true, retryStrategy: () => 100 });
  inspect.on('error', () => undefined);
});
afterAll(async () => {
  inspect?.disconnect();
  await redis?.stop();
});
afterEach(async () => {
  if (!redis.running) await redis.up();
  for (const p of proxies) p.unblock();
  for (const s of sockets.splice(0)) s.terminate();
  await Promise.all(clients.splice(0).map((c) => c.close().catch(() => c.ws.terminate())));
  await Promise.all(servers.splice(0).map((s) => s.close()));
  for (const p of proxies.splice(0)) await p.stop();
});

async function serve(app: WebApp, prefix: string, options: WebServerOptions = {}, env: Record<string, string> = redis.env): Promise<WebServer> {
  const server = await serveWeb(app, { port: 0, host: '127.0.0.1', env, prefix, connectTimeoutMs: 1000, ...options });
  servers.push(server);
  return server;
}

async function connect(server: WebServer, protocols: string[] = ['chat']): Promise<ChatClient> {
  const client = await ChatClient.connect(server.url, protocols);
  clients.push(client);
  return client;
}

/** Waits for `check` to hold, failing after `ms` with what it waited for. */
async function until(what: string, check: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The keys Redis holds under a prefix. */
async function keysUnder(prefix: string): Promise<string[]> {
  if (inspect.status !== 'ready') await inspect.connect().catch(() => undefined);
  await until('the inspecting client', () => inspect.status === 'ready');
  return (await inspect.keys(`${prefix}*`)).sort();
}

describe('web mode when Redis fails', () => {
  it('refuses a handshake with 503 and the reason while Redis is unreachable, registering nothing', async () => {
    const prefix = `f${++run}:`;
    const a = await serve(chat, prefix);
    await redis.down();
    const refused = await ChatClient.connect(a.url, ['chat']).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(HandshakeRefused);
    expect(refused).toMatchObject({
      status: 503,
      body: expect.stringMatching(
        /^Redis at 127\.0\.0\.1:\d+ is unreachable \(.*ECONNREFUSED.*\): the connection was not accepted and nothing was registered$/,
      ),
    });
    expect(a.stats()).toMatchObject({ connections: 0, accepted: 0, refused: { 503: 1 } });
    await redis.up();
    expect(await keysUnder(prefix)).toEqual([]);
    const ann = await connect(a);
    expect((await ann.say('lobby', 'back')).delivered).toBe(0);
    expect(a.stats()).toMatchObject({ connections: 1, accepted: 1 });
  });

  it('refuses with 503 when Redis goes away during the handshake, leaving nothing half-joined', async () => {
    const prefix = `f${++run}:`;
    // The app's onConnect runs with Redis up; Redis stops before the connection is registered.
    const app = defineApp({ protocols: ['chat'], lobby: 'lobby', onConnect: () => redis.down() });
    const a = await serve(app, prefix);
    await expect(ChatClient.connect(a.url, ['chat'])).rejects.toMatchObject({ status: 503, body: expect.stringContaining('is unreachable') });
    await redis.up();
    expect(await keysUnder(prefix)).toEqual([]);
    expect(a.stats().connections).toBe(0);
  });

  it('reconnects after a Redis restart, counts what one instance missed, and its client resumes with since', async () => {
    const prefix = `f${++run}:`;
    // Instance B reaches Redis through a proxy, so it can be kept away after the restart while A is back.
    const proxy = await startRedisProxy(redis);
    proxies.push(proxy);
    const a = await serve(chat, prefix);
    const b = await serve(chat, prefix, {}, proxy.env);
    const ann = await connect(a);
    const bob = await connect(b);
    await ann.join('g');
    await bob.join('g');
    const before = await ann.say('g', 'before the restart');
    await bob.nextJson((m) => m.type === 'message' && m.text === 'before the restart');

    const log = captureLog('info');
    try {
      proxy.block();
      await redis.down();
      // While Redis is down a message is refused with the reason, not lost silently.
      const refused = await ann.say('g', 'while down').catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(ChatRefused);
      expect(refused).toMatchObject({ code: 'HISTORY_UNAVAILABLE', message: expect.stringContaining('Redis is unreachable') });

      await redis.up();
      await until('instance A back on Redis', () => a.stats().reconnects >= 1);
      expect(a.stats()).toMatchObject({ missed: 0, gaps: [] });
      // Bob's instance is still away: these are published while nobody on B listens.
      const gap1 = await ann.say('g', 'gap 1');
      const gap2 = await ann.say('g', 'gap 2');
      // Bob's keys are pruned (nobody listens on his channel): online counts ann alone.
      expect(gap1).toMatchObject({ delivered: 0, online: 1 });
      expect(gap2).toMatchObject({ delivered: 0 });

      proxy.unblock();
      await until('instance B back on Redis', () => b.stats().reconnects >= 1);
      expect(b.stats()).toMatchObject({ missed: 2, uncounted: 0, gaps: [{ missed: 2, action: 'closed', connectionId: expect.any(String) }] });
      await bob.waitFor('the close after the gap', () => bob.closed);
      expect(bob.closed).toEqual({ code: GAP_CLOSE_CODE, reason: 'missed 2 messages while Redis was unreachable: reconnect and resume with since' });
      expect(log.lines).toContainEqual(
        expect.objectContaining({ level: 'warn', fn: 'web', msg: 'messages published while Redis was unreachable were missed', missed: 2 }),
      );
      expect(log.lines).toContainEqual(expect.objectContaining({ level: 'info', msg: 'Redis reconnected', missed: 0 }));
    } finally {
      log.restore();
    }

    // The client reconnects and resumes from the last message it saw.
    expect(bob.lastId('g')).toBe(before.id);
    const again = await connect(b);
    const resumed = await again.join('g', bob.lastId('g'));
    expect(resumed.history.messages.map((m: { text: string }) => m.text)).toEqual(['gap 1', 'gap 2']);
    // History from before the restart survived it (the append-only file).
    const late = await connect(b);
    expect((await late.join('g')).history.messages.map((m: { text: string }) => m.text)).toEqual(['before the restart', 'gap 1', 'gap 2']);
    // Ann's connection stayed open and hears the room again.
    await again.say('g', 'back');
    expect(await ann.nextJson((m) => m.type === 'message' && m.text === 'back')).toMatchObject({ room: 'g' });
    expect(ann.closed).toBeUndefined();
  });

  it('with onGap keep, leaves a connection that missed messages open and back in its rooms', async () => {
    const prefix = `f${++run}:`;
    const proxy = await startRedisProxy(redis);
    proxies.push(proxy);
    const a = await serve(chat, prefix);
    const b = await serve(chat, prefix, { onGap: 'keep' }, proxy.env);
    const ann = await connect(a);
    const bob = await connect(b);
    await ann.join('k');
    await bob.join('k');
    proxy.block();
    await until('Redis to drop instance B’s subscription', async () => {
      await keysUnder(prefix);
      return Number(((await inspect.call('PUBSUB', 'NUMSUB', `${prefix}ch:room:k`)) as unknown[])[1]) === 1;
    });
    expect(await ann.say('k', 'while B is away')).toMatchObject({ online: 1, delivered: 0 });
    proxy.unblock();
    await until('instance B back on Redis', () => b.stats().reconnects >= 1);
    expect(b.stats().gaps).toEqual([expect.objectContaining({ missed: 1, action: 'kept' })]);
    // Pruned while away, its keys are written again: the room counts bob, and he hears it.
    expect(await ann.say('k', 'welcome back')).toMatchObject({ online: 2, delivered: 1 });
    expect(await bob.nextJson((m) => m.type === 'message' && m.text === 'welcome back')).toMatchObject({ room: 'k' });
    expect(bob.closed).toBeUndefined();
  });

  it('closes connections with 1011 when Redis stays away longer than maxOutageMs', async () => {
    const prefix = `f${++run}:`;
    const a = await serve(chat, prefix, { maxOutageMs: 300 });
    const ann = await connect(a);
    await redis.down();
    await ann.waitFor('the close', () => ann.closed);
    expect(ann.closed).toEqual({ code: FAILURE_CLOSE_CODE, reason: 'Redis unreachable for 300 ms' });
    await expect(ChatClient.connect(a.url, ['chat'])).rejects.toMatchObject({ status: 503 });
    await until('the disconnect to run', () => a.stats().connections === 0);
  });

  it('closes with 1011 on an internal failure: an errorMessage that throws', async () => {
    const app = defineApp({
      protocols: ['t'],
      onMessage: () => {
        throw new AppError('NOPE', 'not handled');
      },
      errorMessage: () => {
        throw new Error('errorMessage is broken');
      },
    });
    const a = await serve(app, `f${++run}:`);
    const client = await connect(a, ['t']);
    client.ws.send('anything');
    await client.waitFor('the close', () => client.closed);
    expect(client.closed).toEqual({ code: FAILURE_CLOSE_CODE, reason: 'internal failure: errorMessage is broken' });
  });
});

describe('web mode pings', () => {
  it('go at a third of IDLE_TIMEOUT_SECONDS, at most every 30 s', () => {
    expect(readPingIntervalMs({ IDLE_TIMEOUT_SECONDS: '12' })).toBe(4000);
    expect(readPingIntervalMs({})).toBe(30_000);
    expect(() => readPingIntervalMs({ IDLE_TIMEOUT_SECONDS: 'soon' })).toThrow(/IDLE_TIMEOUT_SECONDS must be an integer/);
  });

  it('pings connections and closes one that stops answering, telling its rooms', async () => {
    const a = await serve(chat, `f${++run}:`, { pingIntervalMs: 50 });
    const ann = await connect(a);
    let annPings = 0;
    ann.ws.on('ping', () => (annPings += 1));
    await ann.join('z');

    // A client that never answers pings.
    const mute = new WebSocket(a.url, ['chat'], { autoPong: false });
    sockets.push(mute);
    let mutePings = 0;
    mute.on('ping', () => (mutePings += 1));
    const closed = new Promise<number>((resolve) => mute.once('close', (code) => resolve(code)));
    await new Promise((resolve, reject) => mute.once('open', resolve).once('error', reject));
    mute.send(JSON.stringify({ type: 'join', room: 'z' }));
    expect(await ann.nextJson((m) => m.type === 'presence')).toMatchObject({ event: 'join', online: 2 });
    expect(await ann.nextJson((m) => m.type === 'presence')).toMatchObject({ event: 'leave', online: 1 });
    // Cut without a close frame: 1006 on the client's side.
    expect(await closed).toBe(1006);
    expect(mutePings).toBeGreaterThanOrEqual(1);
    // The one that answers stays.
    await until('three pings to ann', () => annPings >= 3);
    expect(ann.closed).toBeUndefined();
  });
});

describe('the Redis fixture', () => {
  it('names Debian’s redis-server package when the binary is missing', async () => {
    const missing = await startRedis({ binary: '/nonexistent/redis-server' }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(RedisMissing);
    expect((missing as Error).message).toContain("install Debian's redis-server package");
  });
});
