/**
 * Rooms through defineApp: membership written at connect and join, presence told to the others,
 * broadcasts to a room's members only, send-to-user, renames, and cleanup out of every room;
 * against the real local COS store and a real HTTP push address.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readRegistryConfig } from '../../functions/lib/config';
import { deleteObjects, listObjects } from '../../functions/lib/cos-listing';
import { ConnectionRegistry } from '../../functions/lib/registry';
import { RoomRegistry } from '../../functions/lib/rooms';
import { guestOf } from '../../functions/lib/users';
import { createAdmissionToken, defineApp, type Context } from '../../functions/toolkit';
import { startCos, useEnv, type CosFixture } from '../support/cos-fixture';
import { fakeConnectionId } from '../support/populate';
import { PushRecorder } from '../support/push-recorder';

const SECRET = 'a-test-secret-of-enough-bytes';
const connecting = (id: string, protocols?: string) => ({
  requestContext: { sourceIp: '10.0.0.9', requestId: 'r1' },
  websocket: { action: 'connecting', secConnectionID: id, ...(protocols ? { secWebSocketProtocol: protocols } : {}) },
});
const frame = (id: string, data: unknown) => ({ websocket: { action: 'data send', secConnectionID: id, dataType: 'text', data: JSON.stringify(data) } });
const closing = (id: string) => ({ websocket: { action: 'closing', secConnectionID: id } });

/** An app whose frames are commands to the toolkit, so each test drives one call. */
const app = defineApp({
  protocols: ['t'],
  lobby: 'lobby',
  async onMessage(ctx: Context, message) {
    if (message.type !== 'text') return;
    const c = JSON.parse(message.text) as Record<string, string>;
    const reply = (value: unknown) => ctx.send(ctx.connectionId, { reply: value });
    if (c.op === 'join') await reply(await ctx.join(c.room!));
    else if (c.op === 'leave') await reply(await ctx.leave(c.room!));
    else if (c.op === 'rooms') await reply(await ctx.rooms());
    else if (c.op === 'say') await reply(await ctx.room(c.room!).broadcast({ said: c.text }, { except: ctx.connectionId }));
    else if (c.op === 'dm') await reply(await ctx.sendToUser(c.to!, { dm: c.text }));
    else if (c.op === 'name') await reply(await ctx.setName(c.name!));
    else if (c.op === 'me') await reply(await ctx.user());
  },
});

describe('rooms in the toolkit', () => {
  let cos: CosFixture;
  let registry: ConnectionRegistry;
  let rooms: RoomRegistry;
  const push = new PushRecorder();
  let restore: () => void;

  beforeAll(async () => {
    cos = await startCos();
    await push.start();
    restore = useEnv({ ...cos.env, url: push.url, ADMISSION_SECRET: undefined, PRESENCE_LIMIT: undefined });
    registry = new ConnectionRegistry(readRegistryConfig(cos.env));
    rooms = new RoomRegistry(readRegistryConfig(cos.env));
  });
  afterAll(async () => {
    restore();
    await push.stop();
    await cos.stop();
  });
  beforeEach(async () => {
    push.reset();
    const where = { bucket: cos.bucket, region: cos.env.region };
    await deleteObjects(
      cos.cos,
      where,
      (await listObjects(cos.cos, where, '')).map((o) => o.key),
    );
  });

  async function connect(protocols = 't'): Promise<string> {
    const id = fakeConnectionId();
    const answer = await app.register(connecting(id, protocols));
    expect(answer.errNo, answer.errMsg).toBe(0);
    return id;
  }
  /** Runs one command as `id` and returns the toolkit's answer. */
  async function run(id: string, command: Record<string, string>): Promise<any> {
    const before = push.jsonTo(id).length;
    const result = await app.transport(frame(id, command));
    expect(result.errNo, result.errMsg).toBe(0);
    return (push.jsonTo(id)[before] as { reply: unknown }).reply;
  }
  const presenceTo = (id: string) => push.jsonTo(id).filter((m) => m.type === 'presence');
  const idsIn = async (room: string) => (await rooms.members(room)).map((m) => m.connectionId).sort();

  it('puts each connection in the lobby at connect, silently, and indexes it by user', async () => {
    const [a, b] = [await connect(), await connect()];
    expect(await idsIn('lobby')).toEqual([a, b].sort());
    expect(push.pushes).toEqual([]);
    expect(await rooms.userConnections(guestOf(a).id)).toEqual([a]);
    expect((await registry.get(a))?.user).toEqual(guestOf(a));
    expect(await run(a, { op: 'rooms' })).toEqual(['lobby']);
  });

  it('tells the members of a room, not the joiner, that someone joined, and lists the joiner among the members', async () => {
    const [a, b, outsider] = [await connect(), await connect(), await connect()];
    expect(await run(a, { op: 'join', room: 'r1' })).toMatchObject({ room: 'r1', online: 1, presence: 'announced', already: false });
    const joined = await run(b, { op: 'join', room: 'r1' });
    expect(joined).toMatchObject({ online: 2, presence: 'announced', already: false });
    expect(joined.members.map((m: { user: { id: string } }) => m.user.id).sort()).toEqual([guestOf(a).id, guestOf(b).id].sort());
    expect(presenceTo(a)).toEqual([{ type: 'presence', room: 'r1', event: 'join', user: guestOf(b), online: 2 }]);
    expect(presenceTo(b)).toEqual([]);
    expect(push.to(outsider)).toEqual([]);
    // A second join changes nothing for the others.
    expect(await run(b, { op: 'join', room: 'r1' })).toMatchObject({ already: true, presence: 'silent', online: 2 });
    expect(presenceTo(a)).toHaveLength(1);
  });

  it('broadcasts in a room to its members only, and a connection may be in several rooms', async () => {
    const [a, b, c] = [await connect(), await connect(), await connect()];
    await run(a, { op: 'join', room: 'red' });
    await run(a, { op: 'join', room: 'blue' });
    await run(b, { op: 'join', room: 'red' });
    await run(c, { op: 'join', room: 'blue' });
    push.reset();
    expect(await run(a, { op: 'say', room: 'red', text: 'r' })).toEqual({ attempted: 1, delivered: 1, removed: 0, failed: 0 });
    expect(await run(a, { op: 'say', room: 'blue', text: 'b' })).toEqual({ attempted: 1, delivered: 1, removed: 0, failed: 0 });
    expect(push.jsonTo(b)).toEqual([{ said: 'r' }]);
    expect(push.jsonTo(c)).toEqual([{ said: 'b' }]);
    expect((await run(a, { op: 'rooms' })).sort()).toEqual(['blue', 'lobby', 'red']);
  });

  it('prunes members the gateway reports gone, from the room and the registry', async () => {
    const [a, b, gone] = [await connect(), await connect(), await connect()];
    for (const id of [a, b, gone]) await run(id, { op: 'join', room: 'r' });
    push.failing.add(gone);
    expect(await run(a, { op: 'say', room: 'r', text: 'x' })).toEqual({ attempted: 2, delivered: 1, removed: 1, failed: 0 });
    expect(await idsIn('r')).toEqual([a, b].sort());
    expect(await registry.get(gone)).toBeUndefined();
  });

  it('tells the others when someone leaves, and a leave of a room not joined is reported, not announced', async () => {
    const [a, b] = [await connect(), await connect()];
    await run(a, { op: 'join', room: 'r' });
    await run(b, { op: 'join', room: 'r' });
    push.reset();
    expect(await run(b, { op: 'leave', room: 'r' })).toEqual({ room: 'r', left: true, online: 1, presence: 'announced' });
    expect(presenceTo(a)).toEqual([{ type: 'presence', room: 'r', event: 'leave', user: guestOf(b), online: 1 }]);
    expect(await run(b, { op: 'leave', room: 'r' })).toEqual({ room: 'r', left: false, online: 1, presence: 'silent' });
    expect(await idsIn('r')).toEqual([a]);
  });

  it('stops announcing presence over the presence limit, still counting', async () => {
    const back = useEnv({ PRESENCE_LIMIT: '2' });
    try {
      const [a, b, c] = [await connect(), await connect(), await connect()];
      await run(a, { op: 'join', room: 'big' });
      expect(await run(b, { op: 'join', room: 'big' })).toMatchObject({ presence: 'announced', online: 2 });
      expect(await run(c, { op: 'join', room: 'big' })).toMatchObject({ presence: 'counted', online: 3 });
      expect(presenceTo(a)).toHaveLength(1);
      expect(presenceTo(b)).toHaveLength(0);
    } finally {
      back();
    }
  });

  it('announces a user once, whichever of its connections joins first and leaves last', async () => {
    const back = useEnv({ ADMISSION_SECRET: SECRET });
    try {
      const token = () => `t, ${createAdmissionToken(SECRET, { user: { id: 'ann', name: 'Ann' } })}`;
      const watcher = await connect(`t, ${createAdmissionToken(SECRET)}`);
      const [phone, laptop] = [await connect(token()), await connect(token())];
      await run(watcher, { op: 'join', room: 'r' });
      expect(await run(phone, { op: 'join', room: 'r' })).toMatchObject({ presence: 'announced' });
      const second = await run(laptop, { op: 'join', room: 'r' });
      expect(second).toMatchObject({ presence: 'silent', online: 3 });
      // One member per user.
      expect(second.members.map((m: { user: { id: string } }) => m.user.id).sort()).toEqual(['ann', guestOf(watcher).id].sort());
      expect(await run(phone, { op: 'leave', room: 'r' })).toMatchObject({ presence: 'silent' });
      expect(await run(laptop, { op: 'leave', room: 'r' })).toMatchObject({ presence: 'announced' });
      const ann = { id: 'ann', name: 'Ann', verified: true };
      expect(presenceTo(watcher).map((p) => [p.event, p.user])).toEqual([
        ['join', ann],
        ['leave', ann],
      ]);
    } finally {
      back();
    }
  });

  it('sends to every connection of a user, and to nobody else', async () => {
    const back = useEnv({ ADMISSION_SECRET: SECRET });
    try {
      const token = (id: string) => `t, ${createAdmissionToken(SECRET, { user: { id } })}`;
      const [bob1, bob2, carol, sender] = [
        await connect(token('bob')),
        await connect(token('bob')),
        await connect(token('carol')),
        await connect(token('dan')),
      ];
      expect(await run(sender, { op: 'dm', to: 'bob', text: 'hi bob' })).toEqual({ attempted: 2, delivered: 2, removed: 0, failed: 0 });
      expect(push.jsonTo(bob1)).toEqual([{ dm: 'hi bob' }]);
      expect(push.jsonTo(bob2)).toEqual([{ dm: 'hi bob' }]);
      expect(push.to(carol)).toEqual([]);
      expect(await run(sender, { op: 'dm', to: 'nobody', text: '?' })).toEqual({ attempted: 0, delivered: 0, removed: 0, failed: 0 });
      // A gone connection of the user is forgotten.
      push.failing.add(bob2);
      expect(await run(sender, { op: 'dm', to: 'bob', text: 'again' })).toMatchObject({ delivered: 1, removed: 1 });
      expect(await rooms.userConnections('bob')).toEqual([bob1]);
    } finally {
      back();
    }
  });

  it("renames a guest in its record and every room it is in; a verified user's name is locked", async () => {
    const [a, b, watcher, lobbyOnly] = [await connect(), await connect(), await connect(), await connect()];
    await run(a, { op: 'join', room: 'r' });
    await run(watcher, { op: 'join', room: 'r' });
    push.reset();
    expect(await run(a, { op: 'name', name: '  Zoë  ' })).toEqual({ ...guestOf(a), name: 'Zoë' });
    // The room it joined is told; the lobby, where it was put at connect, is not.
    expect(presenceTo(watcher)).toEqual([{ type: 'presence', room: 'r', event: 'rename', user: { ...guestOf(a), name: 'Zoë' }, online: 2 }]);
    expect(push.to(lobbyOnly)).toEqual([]);
    expect(await run(a, { op: 'me' })).toEqual({ ...guestOf(a), name: 'Zoë' });
    const joined = await run(b, { op: 'join', room: 'r' });
    expect(joined.members.find((m: { connectionId: string }) => m.connectionId === a).user.name).toBe('Zoë');
    expect((await rooms.members('lobby')).find((m) => m.connectionId === a)?.user.name).toBe('Zoë');
    // Refused names change nothing.
    for (const bad of ['', ' ', 'x'.repeat(65), 'bell\u0007']) {
      await app.transport(frame(a, { op: 'name', name: bad }));
      expect(push.jsonTo(a).at(-1)).toMatchObject({ type: 'error', code: 'BAD_NAME' });
    }
    expect((await registry.get(a))?.user?.name).toBe('Zoë');

    const back = useEnv({ ADMISSION_SECRET: SECRET });
    try {
      const v = await connect(`t, ${createAdmissionToken(SECRET, { user: { id: 'vera', name: 'Vera' } })}`);
      await app.transport(frame(v, { op: 'name', name: 'Not Vera' }));
      expect(push.jsonTo(v).at(-1)).toMatchObject({ type: 'error', code: 'NAME_LOCKED' });
      expect(await run(v, { op: 'me' })).toEqual({ id: 'vera', name: 'Vera', verified: true });
    } finally {
      back();
    }
  });

  it('refuses a bad room name with BAD_ROOM, joining nothing', async () => {
    const a = await connect();
    for (const bad of ['', 'a b', 'x'.repeat(65), '../etc', 'r/1']) {
      await app.transport(frame(a, { op: 'join', room: bad }));
      expect(push.jsonTo(a).at(-1)).toMatchObject({ type: 'error', code: 'BAD_ROOM' });
    }
    expect(await run(a, { op: 'rooms' })).toEqual(['lobby']);
    expect(() => defineApp({ lobby: 'not a room' })).toThrow(/room name/);
  });

  it('on disconnect, takes the connection out of every room and its user index, telling the rooms it joined', async () => {
    const [a, b, c] = [await connect(), await connect(), await connect()];
    await run(a, { op: 'join', room: 'r1' });
    await run(a, { op: 'join', room: 'r2' });
    await run(b, { op: 'join', room: 'r1' });
    await run(c, { op: 'join', room: 'r2' });
    push.reset();
    expect(await app.cleanup(closing(a))).toEqual({ errNo: 0, errMsg: 'ok' });
    for (const room of ['lobby', 'r1', 'r2']) expect(await idsIn(room)).not.toContain(a);
    expect(await rooms.memberships(a)).toEqual([]);
    expect(await rooms.userConnections(guestOf(a).id)).toEqual([]);
    expect(await registry.get(a)).toBeUndefined();
    expect(presenceTo(b)).toEqual([{ type: 'presence', room: 'r1', event: 'leave', user: guestOf(a), online: 1 }]);
    expect(presenceTo(c)).toEqual([{ type: 'presence', room: 'r2', event: 'leave', user: guestOf(a), online: 1 }]);
    // The lobby was joined silently at connect, so it is left silently too.
    expect(push.pushes.filter((p) => p.secConnectionID !== b && p.secConnectionID !== c)).toEqual([]);
  });

  it('uses the app’s presence message, and sends none when it returns undefined', async () => {
    const quiet = defineApp({
      lobby: 'lobby',
      presenceMessage: (e) => (e.event === 'join' ? `hello ${e.user.name} in ${e.room} (${e.online})` : undefined),
      onMessage: async (ctx, m) => void (m.type === 'text' && (await ctx[m.text.startsWith('+') ? 'join' : 'leave'](m.text.slice(1)))),
    });
    const [a, b] = [fakeConnectionId(), fakeConnectionId()];
    for (const id of [a, b]) await quiet.register(connecting(id));
    const text = (id: string, data: string) => quiet.transport({ websocket: { action: 'data send', secConnectionID: id, dataType: 'text', data } });
    await text(a, '+r');
    await text(b, '+r');
    await text(b, '-r');
    expect(push.to(a).map((p) => p.data)).toEqual([`hello ${guestOf(b).name} in r (2)`]);
  });
});
