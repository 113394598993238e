/**
 * The chat on the local cloud in web mode, as `npm start -- --mode web` runs it: the web-mode
 * stack applied (its Redis started for it, its web function created through the local Cloud API
 * by the stack's own script), one instance process per connection, and a restart on the same data
 * folder that keeps what Redis held.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { LocalCloud, type LocalEndpoints } from '../../local/cloud';

interface Chat {
  ws: WebSocket;
  next(type: string, match?: (m: Record<string, unknown>) => boolean): Promise<Record<string, any>>;
  closed: Promise<number>;
}

async function chat(url: string): Promise<Chat> {
  const ws = new WebSocket(url, ['chat']);
  const received: Array<Record<string, any>> = [];
  const waiters: Array<() => void> = [];
  ws.on('message', (data) => {
    received.push(JSON.parse(data.toString()));
    for (const wake of waiters.splice(0)) wake();
  });
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  let seen = 0;
  const next = async (type: string, match: (m: Record<string, unknown>) => boolean = () => true) => {
    for (;;) {
      while (seen < received.length) {
        const m = received[seen++];
        if (m.type === type && match(m)) return m;
      }
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };
  return { ws, next, closed };
}

describe('LocalCloud in web mode', () => {
  let dataDir: string;
  let cloud: LocalCloud | undefined;
  let endpoints: LocalEndpoints;
  const log: string[] = [];
  const start = async () => {
    cloud = new LocalCloud({
      mode: 'web',
      dataDir,
      buildDir: path.join(dataDir, 'dist'),
      ports: { page: 0, gateway: 0, cos: 0, cloudApi: 0 },
      // no Redis password in the environment: the local cloud makes one and keeps it
      env: { ...process.env, CHAT_REDIS_PASSWORD: undefined, TF_VAR_CHAT_REDIS_PASSWORD: undefined },
      log: (line) => log.push(line),
    });
    endpoints = await cloud.start();
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'web-cloud-'));
    await start();
  }, 180_000);
  afterAll(async () => {
    await cloud?.stop();
    await rm(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('applies the web-mode stack: Redis for it, the web function through the Cloud API, no push address', () => {
    expect(endpoints.mode).toBe('web');
    expect(endpoints.pushUrl).toBe('');
    expect(endpoints.redis).toMatchObject({ host: '127.0.0.1' });
    const text = log.join('\n');
    expect(text).toMatch(/\[redis chat-dev-gz\] ready on 127\.0\.0\.1:\d+/);
    expect(text).toMatch(/CreateFunction chat-dev-gz-web: web function \(WS, idle timeout \d+ s\)/);
  });

  it('serves the chat, one instance process per connection, each connection ending its own', async () => {
    const mark = log.length;
    const alice = await chat(endpoints.wsUrl);
    const bob = await chat(endpoints.wsUrl);
    alice.ws.send(JSON.stringify({ type: 'message', text: 'hello over web mode' }));
    const heard = await bob.next('message', (m) => m.text === 'hello over web mode');
    expect(heard).toMatchObject({ room: 'lobby', online: 2 });
    expect(await alice.next('ack')).toMatchObject({ id: heard.id, delivered: 1 });
    const coldStarts = log.slice(mark).filter((l) => /^\[chat-dev-gz-web [0-9a-f-]{36}\] cold start: \d+ ms \(instance pid \d+/.test(l));
    expect(coldStarts).toHaveLength(2);
    alice.ws.close(1000);
    bob.ws.close(1000);
    await Promise.all([alice.closed, bob.closed]);
    await expect.poll(() => log.slice(mark).filter((l) => l.includes('invocation ended with status 200: the client closed with 1000')).length).toBe(2);
  });

  it('restartRedis restarts it on the same port, and new connections chat again', async () => {
    const pid = cloud!.redisServer!.pid;
    expect(await cloud!.restartRedis()).toEqual(endpoints.redis);
    expect(cloud!.redisServer!.pid).not.toBe(pid);
    const alice = await chat(endpoints.wsUrl);
    const bob = await chat(endpoints.wsUrl);
    alice.ws.send(JSON.stringify({ type: 'message', text: 'after the Redis restart' }));
    expect(await bob.next('message', (m) => m.text === 'after the Redis restart')).toMatchObject({ room: 'lobby' });
    alice.ws.close(1000);
    bob.ws.close(1000);
    await Promise.all([alice.closed, bob.closed]);
  });

  it('a restart on the same data folder keeps Redis and what it held: the lobby remembers', async () => {
    const before = endpoints.redis;
    const speaker = await chat(endpoints.wsUrl);
    speaker.ws.send(JSON.stringify({ type: 'message', text: 'said before the restart' }));
    await speaker.next('ack');
    speaker.ws.close(1000);
    await speaker.closed;
    await cloud!.stop();
    await start();
    expect(endpoints.redis).toEqual(before);
    const listener = await chat(endpoints.wsUrl);
    listener.ws.send(JSON.stringify({ type: 'join', room: 'lobby' }));
    const history = await listener.next('history', (m) => m.room === 'lobby');
    expect(history.messages.map((m: { text: string }) => m.text)).toContain('said before the restart');
    listener.ws.close(1000);
    await listener.closed;
  }, 180_000);
});
