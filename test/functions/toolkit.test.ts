/**
 * defineApp: a user's app made into the three handlers, against the real local COS store and a
 * real HTTP push address.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readRegistryConfig } from '../../functions/lib/config';
import { ConnectionRegistry } from '../../functions/lib/registry';
import { AppError, MAX_PUSH_BYTES, createAdmissionToken, defineApp, type ConnectContext, type Context, type Message } from '../../functions/toolkit';
import { startCos, useEnv, type CosFixture } from '../support/cos-fixture';
import { fakeConnectionId } from '../support/populate';
import { PushRecorder } from '../support/push-recorder';
import { captureLog } from './capture-log';

const connecting = (id: string, protocols?: string) => ({
  requestContext: { sourceIp: '10.0.0.9', requestId: 'r1' },
  websocket: { action: 'connecting', secConnectionID: id, ...(protocols ? { secWebSocketProtocol: protocols } : {}) },
});
const frame = (id: string, data: string, dataType: 'text' | 'binary' = 'text') => ({ websocket: { action: 'data send', secConnectionID: id, dataType, data } });
const closing = (id: string) => ({ websocket: { action: 'closing', secConnectionID: id } });

describe('defineApp', () => {
  let cos: CosFixture;
  let registry: ConnectionRegistry;
  const push = new PushRecorder();
  let restore: () => void;

  beforeAll(async () => {
    cos = await startCos();
    await push.start();
    restore = useEnv({ ...cos.env, url: push.url });
    registry = new ConnectionRegistry(readRegistryConfig(cos.env));
  });
  afterAll(async () => {
    restore();
    await push.stop();
    await cos.stop();
  });
  beforeEach(async () => {
    push.reset();
    await registry.removeMany(await registry.list());
  });

  it('registers on connect with the chosen subprotocol, after onConnect saw the handshake', async () => {
    const seen: ConnectContext[] = [];
    const app = defineApp({ protocols: ['board.v2', 'board'], onConnect: (ctx) => void seen.push(ctx) });
    const id = fakeConnectionId();
    const answer = await app.register(connecting(id, 'board, board.v2'));
    // The app's preference wins over the client's order.
    expect(answer).toEqual({ errNo: 0, errMsg: 'ok', websocket: { action: 'connecting', secConnectionID: id, secWebSocketProtocol: 'board.v2' } });
    expect(seen[0]).toMatchObject({ connectionId: id, protocol: 'board.v2', offered: ['board', 'board.v2'], sourceIp: '10.0.0.9' });
    expect(seen[0]!.claims).toBeUndefined();
    expect(await registry.list()).toEqual([id]);
  });

  it('refuses a connection when onConnect throws an AppError, with its errNo, and registers nothing', async () => {
    const app = defineApp({
      onConnect: () => {
        throw new AppError('BOARD_FULL', 'the board is full', { errNo: 429 });
      },
    });
    const id = fakeConnectionId();
    expect(await app.register(connecting(id))).toEqual({ errNo: 429, errMsg: 'the board is full', websocket: { action: 'connecting', secConnectionID: id } });
    // A plain error refuses too, as a fault of the function (500).
    const broken = defineApp({ onConnect: () => Promise.reject(new Error('db down')) });
    expect((await broken.register(connecting(id))).errNo).toBe(500);
    expect(await registry.list()).toEqual([]);
  });

  it('hands onConnect the admission claims and keeps them in the record', async () => {
    const secret = 'a-secret-of-at-least-16-bytes';
    const undo = useEnv({ ADMISSION_SECRET: secret });
    try {
      let claims: ConnectContext['claims'];
      const app = defineApp({ protocols: ['board'], onConnect: (ctx) => void (claims = ctx.claims) });
      const now = Date.now();
      const id = fakeConnectionId();
      expect((await app.register(connecting(id, `board, ${createAdmissionToken(secret, { ttlSeconds: 60, now })}`))).errNo).toBe(0);
      const expiresAt = new Date(Math.floor(now / 1000) * 1000 + 60_000);
      expect(claims).toEqual({ expiresAt });
      // Later handlers read them from the record.
      let record: Awaited<ReturnType<Context['connection']>>;
      const reader = defineApp({ onMessage: async (ctx) => void (record = await ctx.connection()) });
      await reader.transport(frame(id, 'x'));
      expect(record!).toMatchObject({ id, protocol: 'board', claims: { expiresAt: expiresAt.toISOString() } });
      expect((await app.register(connecting(fakeConnectionId(), 'board'))).errNo).toBe(401);
    } finally {
      undo();
    }
  });

  it('gives onMessage text as a string and binary as bytes, and sends strings, bytes and JSON as such', async () => {
    const got: Message[] = [];
    const app = defineApp({
      async onMessage(ctx, message) {
        got.push(message);
        await ctx.send(ctx.connectionId, message.type === 'binary' ? Buffer.from([...message.data].reverse()) : { echo: message.text });
        await ctx.send(ctx.connectionId, 'plain');
      },
    });
    const id = fakeConnectionId();
    await registry.add({ id, connectedAt: new Date().toISOString() });
    await app.transport(frame(id, 'hé'));
    await app.transport(frame(id, Buffer.from([1, 2, 3]).toString('base64'), 'binary'));
    expect(got).toEqual([
      { type: 'text', text: 'hé' },
      { type: 'binary', data: Buffer.from([1, 2, 3]) },
    ]);
    expect(push.to(id).map((p) => [p.dataType, p.data])).toEqual([
      ['text', '{"echo":"hé"}'],
      ['text', 'plain'],
      ['binary', Buffer.from([3, 2, 1]).toString('base64')],
      ['text', 'plain'],
    ]);
  });

  it('broadcasts to every registered connection but those excepted, and removes the ones found gone', async () => {
    const [a, b, c, gone] = [fakeConnectionId(), fakeConnectionId(), fakeConnectionId(), fakeConnectionId()];
    for (const id of [a, b, c, gone]) await registry.add({ id, connectedAt: new Date().toISOString() });
    push.gone.add(gone);
    let result;
    const app = defineApp({ onMessage: async (ctx) => void (result = await ctx.broadcast({ n: 1 }, { except: [ctx.connectionId, b] })) });
    const outcome = await app.transport(frame(a, 'go'));
    expect(result).toEqual({ attempted: 2, delivered: 1, removed: 1, failed: 0 });
    expect(push.jsonTo(c)).toEqual([{ n: 1 }]);
    expect(push.to(b)).toEqual([]);
    // Asked to close (an undocumented errNo may not mean gone), and forgotten.
    expect(push.to(gone).map((p) => p.action)).toEqual(['data send', 'closing']);
    expect((await registry.list()).sort()).toEqual([a, b, c].sort());
    expect(outcome).toMatchObject({ errNo: 0, online: 4, delivered: 1, pruned: 1, refused: 1 });
  });

  it('answers a failing onMessage to the sender, without closing it; errorMessage shapes or silences the answer', async () => {
    const id = fakeConnectionId();
    await registry.add({ id, connectedAt: new Date().toISOString() });
    const failing = defineApp({
      onMessage: () => {
        throw new AppError('BAD_MOVE', 'no such square');
      },
    });
    expect(await failing.transport(frame(id, 'x'))).toMatchObject({ errMsg: 'no such square' });
    expect(push.jsonTo(id)).toEqual([{ type: 'error', code: 'BAD_MOVE', message: 'no such square' }]);
    expect(push.to(id).some((p) => p.action === 'closing')).toBe(false);

    push.reset();
    const plain = defineApp({ onMessage: () => Promise.reject(new TypeError('x is undefined')) });
    await plain.transport(frame(id, 'x'));
    expect(push.jsonTo(id)).toEqual([{ type: 'error', code: 'APP_ERROR', message: 'x is undefined' }]);

    push.reset();
    const shaped = defineApp({ onMessage: () => Promise.reject(new AppError('E', 'm')), errorMessage: (e) => `!${e.code}` });
    await shaped.transport(frame(id, 'x'));
    expect(push.to(id).map((p) => p.data)).toEqual(['!E']);

    push.reset();
    const silent = defineApp({ onMessage: () => Promise.reject(new AppError('E', 'm')), errorMessage: () => undefined });
    await silent.transport(frame(id, 'x'));
    expect(push.to(id)).toEqual([]);
  });

  it('refuses to send over 256 KB, telling the sender, and sends nothing', async () => {
    const [id, other] = [fakeConnectionId(), fakeConnectionId()];
    for (const c of [id, other]) await registry.add({ id: c, connectedAt: new Date().toISOString() });
    const app = defineApp({ onMessage: (ctx) => ctx.broadcast(Buffer.alloc(MAX_PUSH_BYTES + 1)).then(() => undefined) });
    const result = await app.transport(frame(id, 'big'));
    expect(result.errMsg).toMatch(/over the 262144-byte limit; it was not sent/);
    expect(push.to(other)).toEqual([]);
    expect(push.jsonTo(id)).toEqual([{ type: 'error', code: 'MESSAGE_TOO_LARGE', message: expect.stringContaining('262145 bytes') }]);
    // Exactly the limit goes through.
    push.reset();
    const edge = defineApp({ onMessage: (ctx) => ctx.send(other, Buffer.alloc(MAX_PUSH_BYTES)).then(() => undefined) });
    await edge.transport(frame(id, 'edge'));
    expect(push.to(other)).toHaveLength(1);
  });

  it('keeps the sender registered even for an app that never lists: a missing record is written back', async () => {
    const id = fakeConnectionId();
    const app = defineApp({ onMessage: (ctx) => ctx.send(ctx.connectionId, 'pong').then(() => undefined) });
    expect((await app.transport(frame(id, 'ping'))).senderRecord).toBe('restored');
    expect(await registry.list()).toEqual([id]);
    expect((await app.transport(frame(id, 'ping'))).senderRecord).toBe('kept');
  });

  it('removes the record on disconnect, then runs onDisconnect; its failure is logged, not thrown', async () => {
    const id = fakeConnectionId();
    await registry.add({ id, connectedAt: new Date().toISOString() });
    const listed: string[][] = [];
    const app = defineApp({
      onDisconnect: async (ctx) => {
        listed.push((await ctx.connections()).map((c) => c.id));
        throw new Error('state store down');
      },
    });
    const logs = captureLog('info');
    try {
      expect(await app.cleanup(closing(id))).toEqual({ errNo: 0, errMsg: 'ok' });
    } finally {
      logs.restore();
    }
    expect(listed).toEqual([[]]);
    expect(logs.lines.find((l) => l.msg === 'onDisconnect failed')).toMatchObject({ fn: 'cleanup', errMsg: 'state store down' });
  });
});
