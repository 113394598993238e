/**
 * The chat in web mode, as two instances would serve it: two `serveWeb` servers on their own ports
 * sharing one real `redis-server`, with real `ws` clients on each. Rooms, presence, history,
 * resume, send-to-user and admission work across them as in event mode.
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import chat from '../../functions/chat/app';
import { createAdmissionToken } from '../../functions/lib/admission';
import { serveWeb, type WebServer, type WebServerOptions } from '../../functions/toolkit/web';
import { ChatClient, ChatRefused, HandshakeRefused } from '../support/chat-client';
import { startRedis, type RedisFixture } from '../support/redis-fixture';

const SECRET = 'web-chat-test-secret-0123456789';

let redis: RedisFixture;
const servers: WebServer[] = [];
const clients: ChatClient[] = [];
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

/** Two instances of the chat on one Redis, under a prefix of their own (so each test has its own lobby). */
async function twoInstances(env: Record<string, string> = {}, options: WebServerOptions = {}): Promise<[WebServer, WebServer]> {
  const prefix = `t${++run}:`;
  const serve = () => serveWeb(chat, { port: 0, host: '127.0.0.1', env: { ...redis.env, ...env }, prefix, ...options });
  const pair = [await serve(), await serve()] as [WebServer, WebServer];
  servers.push(...pair);
  return pair;
}

async function connect(server: WebServer, protocols: string[] = ['chat']): Promise<ChatClient> {
  const client = await ChatClient.connect(server.url, protocols);
  clients.push(client);
  return client;
}

const asUser = (id: string, name = id) => ['chat', createAdmissionToken(SECRET, { user: { id, name } })];

describe('the chat in web mode, across two instances', () => {
  it('keeps rooms apart: a message reaches its room only, on either instance', async () => {
    const [a, b] = await twoInstances();
    const [ann, bob, cat] = [await connect(a), await connect(b), await connect(b)];
    expect(ann.protocol).toBe('chat');
    await ann.join('r1');
    await bob.join('r1');
    await cat.join('r2');
    const ack = await ann.say('r1', 'hi r1');
    expect(ack).toMatchObject({ type: 'ack', room: 'r1', online: 2, delivered: 1 });
    const got = await bob.nextJson((m) => m.type === 'message' && m.room === 'r1');
    expect(got).toMatchObject({ id: ack.id, text: 'hi r1', online: 2, from: { id: expect.stringMatching(/^guest-/), verified: false } });
    // Whatever cat's instance had been sent before would come before the answer to its own request.
    expect(await cat.say('r2', 'hi r2')).toMatchObject({ online: 1, delivered: 0 });
    expect(cat.messages()).toEqual([]);
    expect(ann.messages('r2')).toEqual([]);
    // The lobby, as every connection starts there: plain text goes to the other two.
    ann.send('hello lobby');
    expect(await bob.nextJson((m) => m.type === 'message' && m.room === 'lobby')).toMatchObject({ text: 'hello lobby', online: 3 });
    expect(await cat.nextJson((m) => m.type === 'message' && m.room === 'lobby')).toMatchObject({ text: 'hello lobby' });
  });

  it('tells a room of joins, leaves and disconnects on the other instance', async () => {
    const [a, b] = await twoInstances();
    const ann = await connect(a);
    const bob = await connect(b);
    await bob.profile('Bob');
    await ann.join('p');
    const { joined } = await bob.join('p');
    expect(joined.online).toBe(2);
    expect(joined.members.map((u: { name: string }) => u.name).sort()).toEqual([expect.stringMatching(/^guest-/), 'Bob'].sort());
    expect(await ann.nextJson((m) => m.type === 'presence')).toMatchObject({ room: 'p', event: 'join', user: { name: 'Bob' }, online: 2 });
    expect(joined.you).toEqual({ id: expect.stringMatching(/^guest-/), name: 'Bob', verified: false });
    // A new name is told to the rooms it joined, not to the lobby it was put in.
    await bob.profile('Bobby');
    expect(await ann.nextJson((m) => m.type === 'presence')).toMatchObject({
      room: 'p',
      event: 'rename',
      user: { id: bob.user!.id, name: 'Bobby' },
      online: 2,
    });
    expect(ann.presence('lobby')).toEqual([]);
    await bob.profile('Bob');
    expect(await ann.nextJson((m) => m.type === 'presence')).toMatchObject({ event: 'rename', user: { name: 'Bob' } });
    expect(await bob.leave('p')).toMatchObject({ type: 'left', room: 'p', online: 1 });
    expect(await ann.nextJson((m) => m.type === 'presence')).toMatchObject({ event: 'leave', user: { name: 'Bob' }, online: 1 });
    await bob.join('p');
    expect(await ann.nextJson((m) => m.type === 'presence')).toMatchObject({ event: 'join', online: 2 });
    await bob.close();
    expect(await ann.nextJson((m) => m.type === 'presence')).toMatchObject({ event: 'leave', user: { name: 'Bob' }, online: 1 });
    // Its keys are gone: the room lists ann alone.
    const cat = await connect(b);
    expect((await cat.join('p')).joined).toMatchObject({ online: 2 });
  });

  it('gives a joiner the room’s history, and with since only what it missed', async () => {
    const [a, b] = await twoInstances();
    const ann = await connect(a);
    await ann.join('h');
    const acks = [];
    for (const text of ['one', 'two', 'three']) acks.push(await ann.say('h', text));
    const bob = await connect(b);
    const { history } = await bob.join('h');
    expect(history.messages.map((m: { text: string }) => m.text)).toEqual(['one', 'two', 'three']);
    expect(history.messages.map((m: { id: string }) => m.id)).toEqual(acks.map((k) => k.id));
    expect([...acks.map((k) => k.id)].sort()).toEqual(acks.map((k) => k.id));
    expect(history.messages[0]).not.toHaveProperty('online');

    await bob.leave('h');
    await ann.say('h', 'four');
    await ann.say('h', 'five');
    const resumed = await bob.join('h', acks[2]!.id);
    expect(resumed.history.messages.map((m: { text: string }) => m.text)).toEqual(['four', 'five']);
    await expect(bob.join('h', 'not-an-id')).rejects.toThrow(ChatRefused);
  });

  it('keeps HISTORY_SIZE messages per room', async () => {
    const [a, b] = await twoInstances({ HISTORY_SIZE: '2' });
    const ann = await connect(a);
    await ann.join('k');
    for (const text of ['1', '2', '3']) await ann.say('k', text);
    const bob = await connect(b);
    expect((await bob.join('k')).history.messages.map((m: { text: string }) => m.text)).toEqual(['2', '3']);
    // Trimmed in Redis too, not only when read.
    const inspect = new Redis({ host: redis.host, port: redis.port });
    try {
      expect(await inspect.zcard(`t${run}:history:k`)).toBe(2);
    } finally {
      inspect.disconnect();
    }
  });

  it('sends to a user at both of its connections, on two instances; admission names the user', async () => {
    const [a, b] = await twoInstances({ ADMISSION_SECRET: SECRET });
    const annOnA = await connect(a, asUser('ann', 'Ann'));
    const annOnB = await connect(b, asUser('ann', 'Ann'));
    const bob = await connect(a, asUser('bob', 'Bob'));
    const ack = await bob.direct('ann', 'psst');
    expect(ack).toMatchObject({ type: 'ack', to: 'ann', delivered: 2 });
    for (const ann of [annOnA, annOnB]) {
      expect(await ann.nextJson((m) => m.type === 'direct')).toMatchObject({ id: ack.id, text: 'psst', from: { id: 'bob', name: 'Bob', verified: true } });
    }
    expect(await bob.direct('nobody', 'hello?')).toMatchObject({ delivered: 0 });

    // A user's second connection in a room is not announced again, and its name is locked.
    await annOnA.join('q');
    await bob.join('q');
    await annOnB.join('q');
    await expect(annOnB.profile('Someone else')).rejects.toMatchObject({ code: 'NAME_LOCKED' });
    const said = await bob.say('q', 'after the joins');
    expect(said).toMatchObject({ online: 3, delivered: 2 });
    expect(bob.presence('q')).toEqual([]);
    expect(annOnA.presence('q')).toEqual([expect.objectContaining({ event: 'join', user: { id: 'bob', name: 'Bob', verified: true } })]);
    // Only the user's last connection leaving is announced.
    await annOnB.leave('q');
    await bob.say('q', 'one ann left');
    expect(bob.presence('q')).toEqual([]);
    await annOnA.leave('q');
    expect(await bob.nextJson((m) => m.type === 'presence')).toMatchObject({ event: 'leave', user: { id: 'ann', name: 'Ann', verified: true }, online: 1 });

    // No token, or a bad one: refused before the upgrade, with the reason.
    const refused = await ChatClient.connect(b.url, ['chat']).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(HandshakeRefused);
    expect(refused).toMatchObject({ status: 403, body: expect.stringContaining('admission token required') });
    await expect(ChatClient.connect(a.url, ['chat', createAdmissionToken('another-secret-0123456789abc')])).rejects.toMatchObject({
      status: 403,
      body: expect.stringContaining('signature is invalid'),
    });
    expect(b.stats().refused).toEqual({ 403: 1 });
  });

  it('relays binary frames as bytes to the lobby’s other members, on both instances', async () => {
    const [a, b] = await twoInstances();
    const [ann, bob] = [await connect(a), await connect(b)];
    ann.send(Buffer.from([0, 1, 2, 255]));
    expect((await bob.waitFor('the bytes', () => bob.received.find((r) => r.binary))).binary).toEqual(Buffer.from([0, 1, 2, 255]));
    expect(await ann.nextJson((m) => m.type === 'ack')).toMatchObject({ room: 'lobby', online: 2, delivered: 1 });
    expect(ann.received.filter((r) => r.binary)).toEqual([]);
  });

  it('announces no presence in a room over PRESENCE_LIMIT, and still counts it', async () => {
    const [a, b] = await twoInstances({ PRESENCE_LIMIT: '1' });
    const [ann, bob] = [await connect(a), await connect(b)];
    await ann.join('big');
    expect((await bob.join('big')).joined).toMatchObject({ online: 2 });
    // Anything ann's instance had been sent comes before the answer to her own request.
    expect(await ann.say('big', 'counted')).toMatchObject({ online: 2, delivered: 1 });
    expect(ann.presence('big')).toEqual([]);
  });

  it('refuses a subprotocol it does not speak, with 403 and the reason', async () => {
    const [a] = await twoInstances();
    await expect(ChatClient.connect(a.url, ['other'])).rejects.toMatchObject({
      status: 403,
      body: expect.stringContaining('none of the offered subprotocols'),
    });
    // No subprotocol at all is accepted, as in event mode.
    const plain = await connect(a, []);
    expect(plain.protocol).toBe('');
  });
});
