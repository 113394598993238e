/**
 * The board's handlers, as defineApp makes them, against the real local COS store and a real HTTP
 * push address: strokes stored and relayed, the replay, cursors, clear, and every refusal.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import board from '../../functions/board/app';
import { MAX_STROKE_BYTES, MAX_STROKES, shortId, STROKES_PREFIX } from '../../functions/board/protocol';
import { readRegistryConfig } from '../../functions/lib/config';
import { ConnectionRegistry } from '../../functions/lib/registry';
import { CosStore } from '../../functions/lib/store';
import { startCos, useEnv, type CosFixture } from '../support/cos-fixture';
import { fakeConnectionId } from '../support/populate';
import { PushRecorder } from '../support/push-recorder';

const text = (id: string, data: string | object) => ({
  websocket: { action: 'data send', secConnectionID: id, dataType: 'text', data: typeof data === 'string' ? data : JSON.stringify(data) },
});
const binary = (id: string, data: Buffer) => ({ websocket: { action: 'data send', secConnectionID: id, dataType: 'binary', data: data.toString('base64') } });
/** A stroke as a client might pack it: Float32 x,y pairs. */
const stroke = (...points: number[]) => Buffer.from(new Float32Array(points).buffer);

describe('board app', () => {
  let cos: CosFixture;
  let registry: ConnectionRegistry;
  let store: CosStore;
  const push = new PushRecorder();
  let restore: () => void;
  let a: string, b: string, c: string;

  beforeAll(async () => {
    cos = await startCos();
    await push.start();
    restore = useEnv({ ...cos.env, url: push.url });
    registry = new ConnectionRegistry(readRegistryConfig(cos.env));
    store = new CosStore(readRegistryConfig(cos.env));
  });
  afterAll(async () => {
    restore();
    await push.stop();
    await cos.stop();
  });
  beforeEach(async () => {
    push.reset();
    await registry.removeMany(await registry.list());
    await store.deleteMany((await store.list()).map((e) => e.key));
    [a, b, c] = [fakeConnectionId(), fakeConnectionId(), fakeConnectionId()];
    for (const id of [a, b, c]) await registry.add({ id, connectedAt: new Date().toISOString(), protocol: 'board' });
  });

  const binariesTo = (id: string) =>
    push
      .to(id)
      .filter((p) => p.dataType === 'binary')
      .map((p) => Buffer.from(p.data!, 'base64'));

  it('speaks the board subprotocol', async () => {
    const answer = await board.register({
      requestContext: { sourceIp: '10.0.0.1' },
      websocket: { action: 'connecting', secConnectionID: fakeConnectionId(), secWebSocketProtocol: 'board' },
    });
    expect(answer).toMatchObject({ errNo: 0, websocket: { secWebSocketProtocol: 'board' } });
  });

  it('stores each stroke as one object under app/strokes/ and relays it as binary to the others only', async () => {
    const first = stroke(0, 0, 1.5, 2.5);
    const second = stroke(3, 4);
    expect(await board.transport(binary(a, first))).toMatchObject({ errNo: 0, delivered: 2 });
    await board.transport(binary(b, second));
    expect(binariesTo(c)).toEqual([first, second]);
    expect(binariesTo(a)).toEqual([second]);
    expect(binariesTo(b)).toEqual([first]);
    // Nothing but the relay: no ack, no error.
    expect(push.jsonTo(a)).toEqual([]);
    const keys = (await cos.cos.getBucket({ Bucket: cos.bucket, Region: 'ap-guangzhou', Prefix: `app/${STROKES_PREFIX}` })).Contents.map((o) => o.Key);
    expect(keys).toHaveLength(2);
    // Keys list in the order the strokes came.
    expect(await Promise.all((await store.list(STROKES_PREFIX)).map((e) => store.get(e.key)))).toEqual([first, second]);
  });

  it('answers hello with every stroke in order, as binary, then ready with the count', async () => {
    const strokes = Array.from({ length: 20 }, (_, i) => stroke(i, i + 0.5));
    for (const s of strokes) await board.transport(binary(a, s));
    push.reset();
    const late = fakeConnectionId();
    await registry.add({ id: late, connectedAt: new Date().toISOString(), protocol: 'board' });
    await board.transport(text(late, { type: 'hello' }));
    const toLate = push.to(late);
    expect(toLate.slice(0, -1).map((p) => Buffer.from(p.data!, 'base64'))).toEqual(strokes);
    expect(toLate.slice(0, -1).every((p) => p.dataType === 'binary')).toBe(true);
    expect(JSON.parse(toLate.at(-1)!.data!)).toEqual({ type: 'ready', strokes: 20 });
    // Nobody else hears about it.
    expect(push.pushes.filter((p) => p.secConnectionID !== late)).toEqual([]);
  });

  it('answers hello on an empty board with ready and no strokes', async () => {
    await board.transport(text(a, '{"type":"hello"}'));
    expect(push.to(a).map((p) => p.data)).toEqual(['{"type":"ready","strokes":0}']);
  });

  it('relays cursors to the others with a short id, and stores nothing', async () => {
    await board.transport(text(a, { type: 'cursor', x: 10.5, y: -3 }));
    expect(push.jsonTo(b)).toEqual([{ type: 'cursor', from: shortId(a), x: 10.5, y: -3 }]);
    expect(push.jsonTo(c)).toEqual([{ type: 'cursor', from: shortId(a), x: 10.5, y: -3 }]);
    expect(push.to(a)).toEqual([]);
    expect(shortId(a)).toMatch(/^[A-Za-z0-9_-]{8}$/);
    expect(shortId(a)).not.toBe(shortId(b));
    expect(await store.list()).toEqual([]);
  });

  it('clears: every stroke deleted, everyone told, the sender too', async () => {
    for (let i = 0; i < 3; i++) await board.transport(binary(a, stroke(i)));
    push.reset();
    await board.transport(text(b, { type: 'clear' }));
    for (const id of [a, b, c]) expect(push.jsonTo(id)).toEqual([{ type: 'cleared' }]);
    expect(await store.list(STROKES_PREFIX)).toEqual([]);
    push.reset();
    await board.transport(text(c, { type: 'hello' }));
    expect(push.jsonTo(c)).toEqual([{ type: 'ready', strokes: 0 }]);
  });

  it('answers anything else with an error to the sender only, and keeps its connection open', async () => {
    const cases: Array<[ReturnType<typeof text>, string]> = [
      [text(a, 'not json'), 'INVALID_MESSAGE'],
      [text(a, '[1,2]'), 'INVALID_MESSAGE'],
      [text(a, { type: 'draw' }), 'UNKNOWN_TYPE'],
      [text(a, { x: 1 }), 'UNKNOWN_TYPE'],
      [text(a, { type: 'cursor', x: 'left', y: 1 }), 'INVALID_CURSOR'],
      [text(a, { type: 'cursor', x: 1 }), 'INVALID_CURSOR'],
      [binary(a, Buffer.alloc(0)), 'EMPTY_STROKE'],
      [binary(a, Buffer.alloc(MAX_STROKE_BYTES + 1)), 'STROKE_TOO_LARGE'],
    ];
    for (const [event, code] of cases) {
      push.reset();
      await board.transport(event);
      expect(push.jsonTo(a), code).toEqual([{ type: 'error', code, message: expect.any(String) }]);
      expect(
        push.pushes.filter((p) => p.secConnectionID !== a || p.action === 'closing'),
        code,
      ).toEqual([]);
    }
    // The largest stroke allowed is taken.
    push.reset();
    await board.transport(binary(a, Buffer.alloc(MAX_STROKE_BYTES, 1)));
    expect(push.jsonTo(a)).toEqual([]);
    expect(binariesTo(b)).toHaveLength(1);
    expect(await store.list(STROKES_PREFIX)).toHaveLength(1);
  });

  it(`refuses stroke ${MAX_STROKES + 1} with BOARD_FULL, storing and relaying nothing, until cleared`, async () => {
    // Filled straight into the store: 2,000 relays would only slow the test.
    const fill = Array.from({ length: MAX_STROKES }, (_, i) => `${STROKES_PREFIX}${String(i).padStart(15, '0')}`);
    for (let i = 0; i < fill.length; i += 100) await Promise.all(fill.slice(i, i + 100).map((k) => store.put(k, stroke(i))));
    await board.transport(binary(a, stroke(1, 2)));
    expect(push.jsonTo(a)).toEqual([{ type: 'error', code: 'BOARD_FULL', message: expect.stringContaining(`${MAX_STROKES} strokes`) }]);
    expect(binariesTo(b)).toEqual([]);
    expect(await store.list(STROKES_PREFIX)).toHaveLength(MAX_STROKES);
    await board.transport(text(a, { type: 'clear' }));
    push.reset();
    await board.transport(binary(a, stroke(1, 2)));
    expect(binariesTo(b)).toEqual([stroke(1, 2)]);
  }, 60_000);
});
