/**
 * The chat's room protocol through its three handlers: history kept to its size, resume after an
 * id, and requests refused before anything changes.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import chat from '../../functions/chat/app';
import { readRegistryConfig } from '../../functions/lib/config';
import { deleteObjects, listObjects } from '../../functions/lib/cos-listing';
import { RoomRegistry } from '../../functions/lib/rooms';
import { guestOf } from '../../functions/lib/users';
import { startCos, useEnv, type CosFixture } from '../support/cos-fixture';
import { fakeConnectionId } from '../support/populate';
import { PushRecorder } from '../support/push-recorder';

const frame = (id: string, data: unknown) => ({
  websocket: { action: 'data send', secConnectionID: id, dataType: 'text', data: typeof data === 'string' ? data : JSON.stringify(data) },
});

describe('the chat’s rooms', () => {
  let cos: CosFixture;
  let rooms: RoomRegistry;
  const push = new PushRecorder();
  let restore: () => void;
  const where = () => ({ bucket: cos.bucket, region: cos.env.region });

  beforeAll(async () => {
    cos = await startCos();
    await push.start();
    restore = useEnv({ ...cos.env, url: push.url, HISTORY_SIZE: '3' });
    rooms = new RoomRegistry(readRegistryConfig(cos.env));
  });
  afterAll(async () => {
    restore();
    await push.stop();
    await cos.stop();
  });
  beforeEach(async () => {
    push.reset();
    await deleteObjects(
      cos.cos,
      where(),
      (await listObjects(cos.cos, where(), '')).map((o) => o.key),
    );
  });

  async function connect(): Promise<string> {
    const id = fakeConnectionId();
    expect((await chat.register({ requestContext: {}, websocket: { action: 'connecting', secConnectionID: id, secWebSocketProtocol: 'chat' } })).errNo).toBe(0);
    return id;
  }
  const last = (id: string) => push.jsonTo(id).at(-1)!;
  const ofType = (id: string, type: string) => push.jsonTo(id).filter((m) => m.type === type);

  it('keeps the newest HISTORY_SIZE messages of a room, and sends them on join oldest first', async () => {
    const a = await connect();
    await chat.transport(frame(a, { type: 'join', room: 'r' }));
    for (let i = 0; i < 5; i++) await chat.transport(frame(a, { type: 'message', room: 'r', text: `m${i}` }));
    expect(await listObjects(cos.cos, where(), 'history/r/')).toHaveLength(3);
    const b = await connect();
    await chat.transport(frame(b, { type: 'join', room: 'r' }));
    const [joined, history] = push.jsonTo(b);
    expect(joined).toMatchObject({ type: 'joined', room: 'r', online: 2, you: guestOf(b) });
    expect(history).toMatchObject({ type: 'history', room: 'r' });
    expect((history!.messages as Array<{ text: string }>).map((m) => m.text)).toEqual(['m2', 'm3', 'm4']);
  });

  it('resumes after an id: exactly what followed it, each once, with the ids the acks gave', async () => {
    const [a, b] = [await connect(), await connect()];
    for (const id of [a, b]) await chat.transport(frame(id, { type: 'join', room: 'r' }));
    await chat.transport(frame(a, { type: 'message', room: 'r', text: 'seen' }));
    const seen = ofType(b, 'message').at(-1)!;
    await chat.transport(frame(a, { type: 'message', room: 'r', text: 'missed 1' }));
    await chat.transport(frame(a, { type: 'message', room: 'r', text: 'missed 2' }));
    const acks = ofType(a, 'ack').map((m) => m.id);
    const c = await connect();
    await chat.transport(frame(c, { type: 'join', room: 'r', since: seen.id }));
    const history = last(c);
    expect(history.type).toBe('history');
    expect((history.messages as Array<{ id: string; text: string }>).map((m) => [m.id, m.text])).toEqual([
      [acks[1], 'missed 1'],
      [acks[2], 'missed 2'],
    ]);
  });

  it('refuses a bad since before joining, and a message to a room not joined', async () => {
    const a = await connect();
    await chat.transport(frame(a, { type: 'join', room: 'r', since: 'yesterday' }));
    expect(last(a)).toMatchObject({ type: 'error', code: 'BAD_SINCE' });
    expect((await rooms.memberships(a)).map((m) => m.room)).toEqual(['lobby']);
    await chat.transport(frame(a, { type: 'message', room: 'r', text: 'hello?' }));
    expect(last(a)).toMatchObject({ type: 'error', code: 'NOT_IN_ROOM' });
    expect(await listObjects(cos.cos, where(), 'history/r/')).toEqual([]);
    await chat.transport(frame(a, { type: 'leave', room: 'r' }));
    expect(last(a)).toMatchObject({ type: 'error', code: 'NOT_IN_ROOM' });
    await chat.transport(frame(a, { type: 'join' }));
    expect(last(a)).toMatchObject({ type: 'error', code: 'BAD_REQUEST' });
    await chat.transport(frame(a, { type: 'join', room: '<script>' }));
    expect(last(a)).toMatchObject({ type: 'error', code: 'BAD_ROOM' });
  });

  it('sends a direct message to each connection of a user and acks with the count', async () => {
    const [a, b] = [await connect(), await connect()];
    await chat.transport(frame(a, { type: 'message', text: 'hi' }));
    const to = (ofType(b, 'message')[0]!.from as { id: string }).id;
    await chat.transport(frame(b, { type: 'direct', to: (ofType(b, 'message')[0]!.from as { id: string }).id, text: 'psst' }));
    expect(ofType(a, 'direct')).toEqual([
      {
        type: 'direct',
        id: expect.stringMatching(/^[0-9a-z]{18}$/),
        from: expect.objectContaining({ verified: false }),
        text: 'psst',
        sentAt: expect.any(String),
      },
    ]);
    expect(last(b)).toEqual({ type: 'ack', id: ofType(a, 'direct')[0]!.id, to, delivered: 1 });
  });

  it('keeps no message it refused as too large, and sends a history over 256 KB as several frames', async () => {
    const a = await connect();
    await chat.transport(frame(a, { type: 'join', room: 'big' }));
    await chat.transport(frame(a, { type: 'message', room: 'big', text: 'w'.repeat(256 * 1024 - 100) }));
    expect(last(a)).toMatchObject({ type: 'error', code: 'MESSAGE_TOO_LARGE' });
    expect(await listObjects(cos.cos, where(), 'history/big/')).toEqual([]);
    // Three messages of 100 KB: they fit one at a time, not together.
    for (const n of [1, 2, 3]) await chat.transport(frame(a, { type: 'message', room: 'big', text: String(n).repeat(100 * 1024) }));
    const b = await connect();
    await chat.transport(frame(b, { type: 'join', room: 'big' }));
    const frames = ofType(b, 'history');
    expect(frames.length).toBeGreaterThan(1);
    expect(frames.slice(0, -1).every((f) => f.more === true)).toBe(true);
    expect(frames.at(-1)!.more).toBeUndefined();
    expect(frames.flatMap((f) => (f.messages as Array<{ text: string }>).map((m) => m.text[0]))).toEqual(['1', '2', '3']);
    for (const pushed of push.to(b)) expect(Buffer.byteLength(pushed.data!)).toBeLessThanOrEqual(256 * 1024);
  });
});
