/**
 * The chat's rooms, users, presence and history, as clients see them. One suite, any endpoint: the
 * local cloud by default, a deployed endpoint when WS_URL is set (with ADMISSION_SECRET when that
 * endpoint requires admission; without it, the scenarios that need verified users report what
 * they could not exercise and run with guests where they can).
 *
 * Locally it runs in event mode and again in web mode (vitest's `web` project sets CHAT_MODE=web).
 *
 * A deployed endpoint is shared: every room is named for this run and this test, user ids carry
 * the run too, and counts are exact only in those rooms (the lobby holds whoever else is there).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modeFromEnv, newAdmissionSecret, openAppEndpoint, type AppEndpoint } from '../harness';
import { ChatClient, ChatRefused, type Envelope, type User } from '../support/chat-client';
import { report } from '../support/report';

const SUITE = 'rooms suite';
const LOBBY = 'lobby';
/** This run's mark on room names and user ids. */
const RUN = randomBytes(4).toString('hex');
const MESSAGE_ID = /^[0-9a-z]{18}$/;
const GUEST_ID = /^guest-[A-Za-z0-9_-]{8}$/;

let endpoint: AppEndpoint;
const clients: ChatClient[] = [];
let roomCount = 0;

/** A room no other test, and no other run against the same endpoint, uses. */
function freshRoom(label: string): string {
  return `${label}-${RUN}-${++roomCount}`;
}

/** A guest: no admission claims (a claim-less token when the endpoint requires admission). */
async function guest(): Promise<ChatClient> {
  const client = await ChatClient.connect(endpoint.url, endpoint.protocols(['chat']));
  clients.push(client);
  return client;
}

/** A connection of the verified user `<id>-<run>` named `name`; only where {@link AppEndpoint.verifiesUsers}. */
async function verified(id: string, name: string): Promise<ChatClient> {
  const user = { id: `${id}-${RUN}`, name };
  const client = await ChatClient.connect(endpoint.url, endpoint.protocols(['chat'], { user }));
  clients.push(client);
  client.user = { ...user, verified: true };
  return client;
}

/** A user called `name`: verified where the endpoint can, else a guest who took the name. */
async function named(name: string): Promise<ChatClient> {
  if (endpoint.verifiesUsers) return verified(name.toLowerCase(), name);
  const client = await guest();
  await client.profile(name);
  return client;
}

/** Whether a scenario can use verified users here; reports it when not. */
function canVerify(scenario: string): boolean {
  if (!endpoint.verifiesUsers) report(SUITE, `no admission secret for the endpoint (ADMISSION_SECRET): ${scenario} not exercised`);
  return endpoint.verifiesUsers;
}

/** The message with `text` in `room`, once `client` has it live. */
function received(client: ChatClient, room: string, text: string): Promise<Envelope> {
  return client.waitFor(`"${text}" in ${room}`, () => client.messages(room).find((m) => m.text === text));
}

/** The presence `event` of `user` in `room`, once `client` has it. */
function presenceOf(client: ChatClient, room: string, event: 'join' | 'leave' | 'rename', user: User): Promise<Envelope> {
  return client.waitFor(`${user.name}'s ${event} of ${room}`, () => client.presence(room).find((p) => p.event === event && p.user.id === user.id));
}

/**
 * A lobby message from `from` that each of `to` has received: pushes made before it are done,
 * so what was not received by then was not sent (a local cloud keeps order; a deployed one mostly).
 */
async function barrier(from: ChatClient, to: ChatClient[]): Promise<void> {
  const text = `barrier ${RUN} ${randomBytes(4).toString('hex')}`;
  await from.say(LOBBY, text);
  await Promise.all(to.map((c) => received(c, LOBBY, text)));
}

const byId = (users: User[]) => [...users].sort((a, b) => a.id.localeCompare(b.id));

/** Waits until the connection's close is seen. */
async function dropped(client: ChatClient): Promise<void> {
  await client.waitFor('the close', () => client.closed);
}

describe(`rooms over ${process.env.WS_URL ? process.env.WS_URL : `the local cloud in ${modeFromEnv() ?? 'event'} mode`}`, () => {
  beforeAll(async () => {
    // Locally, admission is on, so verified users can be tested.
    endpoint = await openAppEndpoint({ app: 'chat', admissionSecret: newAdmissionSecret() });
  }, 120_000);
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
    await endpoint?.stop();
  }, 60_000);

  it('keeps rooms apart: a message in one room reaches its members only, not another room nor the lobby alone', async () => {
    const [r1, r2] = [freshRoom('apart'), freshRoom('apart')];
    const [a, b, c, d] = [await guest(), await guest(), await guest(), await guest()];
    await a.join(r1);
    await b.join(r1);
    await c.join(r2);
    // d stays in the lobby only.
    const ack = await a.say(r1, 'for r1 only');
    expect(ack).toEqual({ type: 'ack', id: expect.stringMatching(MESSAGE_ID), room: r1, online: 2, delivered: 1 });
    const message = await received(b, r1, 'for r1 only');
    expect(message).toMatchObject({ id: ack.id, room: r1, online: 2 });
    expect(await c.say(r2, 'for r2 only')).toMatchObject({ room: r2, online: 1, delivered: 0 });
    await barrier(a, [b, c, d]);
    // Nothing of r1 (messages, presence) reached c or d; nothing of r2 reached a, b or d.
    expect(c.inRoom(r1)).toEqual([]);
    expect(d.inRoom(r1)).toEqual([]);
    for (const other of [a, b, d]) expect(other.inRoom(r2)).toEqual([]);
    expect(a.messages(r1)).toEqual([]);
    // Rooms add to the lobby: everyone is still there.
    const fromLobby = `lobby ${RUN} from d`;
    await d.say(LOBBY, fromLobby);
    for (const other of [a, b, c]) expect(await received(other, LOBBY, fromLobby)).toMatchObject({ room: LOBBY });
  });

  it('tells a room who joins and leaves, by an explicit leave and by a disconnect, with online counts', async () => {
    const room = freshRoom('presence');
    const [a, b, c] = [await named('Ada'), await named('Bob'), await named('Cy')];
    const [ua, ub, uc] = [a.user!, b.user!, c.user!];
    // `you`: the joiner as the others see it.
    expect((await a.join(room)).joined).toEqual({ type: 'joined', room, members: [ua], online: 1, you: ua });
    const jb = await b.join(room);
    expect(jb.joined).toMatchObject({ type: 'joined', room, online: 2, you: ub });
    expect(byId(jb.joined.members)).toEqual(byId([ua, ub]));
    expect(await presenceOf(a, room, 'join', ub)).toEqual({ type: 'presence', room, event: 'join', user: ub, online: 2 });
    const jc = await c.join(room);
    expect(jc.joined).toMatchObject({ online: 3, you: uc });
    expect(byId(jc.joined.members)).toEqual(byId([ua, ub, uc]));
    for (const other of [a, b]) expect(await presenceOf(other, room, 'join', uc)).toMatchObject({ online: 3 });

    // An explicit leave: answered to the leaver, told to the others.
    expect(await b.leave(room)).toEqual({ type: 'left', room, online: 2 });
    for (const other of [a, c]) expect(await presenceOf(other, room, 'leave', ub)).toEqual({ type: 'presence', room, event: 'leave', user: ub, online: 2 });
    expect(await a.say(room, 'after bob left')).toMatchObject({ online: 2, delivered: 1 });
    await received(c, room, 'after bob left');
    await barrier(a, [b]);
    expect(b.messages(room)).toEqual([]);

    // A disconnect: the room hears of it once cleanup has run.
    await c.close();
    expect(await presenceOf(a, room, 'leave', uc)).toEqual({ type: 'presence', room, event: 'leave', user: uc, online: 1 });
    // No one hears of their own join or leave.
    expect(a.presence(room).filter((p) => p.user.id === ua.id)).toEqual([]);
    expect(b.presence(room).filter((p) => p.user.id === ub.id)).toEqual([]);
  });

  it('sends the history on join: what the room said before, oldest first, with the ids the sender was acked', async () => {
    const room = freshRoom('history');
    const a = await named('Hal');
    expect((await a.join(room)).history).toEqual({ type: 'history', room, messages: [] });
    const texts = ['first', 'second', 'third'];
    const acks: Envelope[] = [];
    for (const text of texts) acks.push(await a.say(room, text));
    const b = await guest();
    const { joined, history } = await b.join(room);
    expect(history).toEqual({
      type: 'history',
      room,
      // As a live message, without `online`.
      messages: texts.map((text, i) => ({ type: 'message', id: acks[i]!.id, room, from: a.user, text, sentAt: expect.any(String) })),
    });
    const ids = history.messages.map((m: Envelope) => m.id as string);
    expect(ids.every((id: string) => MESSAGE_ID.test(id))).toBe(true);
    expect([...new Set(ids)].sort()).toEqual(ids);
    // joined first, then history.
    const envelopes = b.inRoom(room);
    expect(envelopes.indexOf(joined)).toBeLessThan(envelopes.indexOf(history));
  });

  it('resumes after a disconnect with `since`: exactly what was missed, in order, once, then live messages again', async () => {
    const room = freshRoom('resume');
    const writer = await named('Wes');
    const reader = endpoint.verifiesUsers ? await verified('rita', 'Rita') : await guest();
    await writer.join(room);
    await reader.join(room);
    const seenTexts = ['seen 1', 'seen 2', 'seen 3'];
    const seenAcks: Envelope[] = [];
    for (const text of seenTexts) seenAcks.push(await writer.say(room, text));
    await reader.waitFor('the first messages', () => reader.messages(room).length >= seenTexts.length && reader);
    const since = reader.lastId(room)!;
    expect(since).toBe(seenAcks.at(-1)!.id);
    await reader.close();

    // Said while the reader was away.
    const K = 5;
    const missed: Envelope[] = [];
    for (let i = 0; i < K; i++) missed.push(await writer.say(room, `missed ${i}`));

    // Back as the same user when verified, else as a new guest: `since` is all it needs.
    const back = endpoint.verifiesUsers ? await verified('rita', 'Rita') : await guest();
    const { history } = await back.join(room, since);
    expect(history.messages.map((m: Envelope) => m.text)).toEqual(missed.map((_, i) => `missed ${i}`));
    expect(history.messages.map((m: Envelope) => m.id)).toEqual(missed.map((a) => a.id));
    const live = await writer.say(room, 'live again');
    await received(back, room, 'live again');
    await barrier(writer, [back]);
    // Everything the room said to this connection, history and live, each id once.
    const all = [...history.messages, ...back.messages(room)].map((m: Envelope) => m.id);
    expect(all).toEqual([...missed.map((a) => a.id), live.id]);
    expect(back.seen(room).map((m) => m.text)).toEqual([...missed.map((_, i) => `missed ${i}`), 'live again']);

    // Nothing after the newest id: an empty history.
    await back.leave(room);
    expect((await back.join(room, live.id)).history.messages).toEqual([]);
  });

  it("sends to a user at each of that user's connections, and to a guest by the id its messages carry", async () => {
    const sender = await guest();
    if (canVerify('send to both connections of one verified user')) {
      const id = `dana-${RUN}`;
      const [one, two] = [await verified('dana', 'Dana'), await verified('dana', 'Dana')];
      const ack = await sender.direct(id, 'to both of dana');
      expect(ack).toEqual({ type: 'ack', id: expect.stringMatching(MESSAGE_ID), to: id, delivered: 2 });
      for (const connection of [one, two]) {
        const got = await connection.waitFor("dana's direct message", () => connection.directs().find((m) => m.text === 'to both of dana'));
        expect(got).toEqual({
          type: 'direct',
          id: ack.id,
          from: { id: expect.stringMatching(GUEST_ID), name: expect.stringMatching(GUEST_ID), verified: false },
          text: 'to both of dana',
          sentAt: expect.any(String),
        });
      }
      expect(sender.directs()).toEqual([]);
      // One connection gone: the other still gets what is sent to the user.
      await two.close();
      let after = await sender.direct(id, 'to the one left');
      if (endpoint.mode === 'web' && after.delivered !== 1) {
        // Web mode counts the instances listening on the user's channel when it is published to:
        // a closed connection's instance listens until its disconnect has run, moments later.
        const tries = [after.delivered];
        for (const deadline = Date.now() + 10_000; after.delivered !== 1 && Date.now() < deadline; tries.push(after.delivered)) {
          await new Promise((r) => setTimeout(r, 100));
          after = await sender.direct(id, 'to the one left');
        }
        report(SUITE, `web mode: a direct message right after a close counted the closed connection (delivered ${tries.join(', then ')})`);
      }
      await one.waitFor('the direct message after the close', () => one.directs().find((m) => m.text === 'to the one left'));
      expect(after.delivered).toBe(1);
    }
    // A guest is reached by the `from.id` of what it says.
    const room = freshRoom('direct');
    const g = await guest();
    await sender.join(room);
    await g.join(room);
    await g.say(room, 'who am i');
    const guestId = (await received(sender, room, 'who am i')).from.id as string;
    expect(guestId).toMatch(GUEST_ID);
    expect(await sender.direct(guestId, 'found you')).toMatchObject({ to: guestId, delivered: 1 });
    const got = await g.waitFor('the direct message to the guest', () => g.directs().find((m) => m.text === 'found you'));
    expect(got.from.id).not.toBe(guestId);
    // A user with no connection: sent to no one.
    expect(await sender.direct(`nobody-${RUN}`, 'anyone?')).toMatchObject({ to: `nobody-${RUN}`, delivered: 0 });
  });

  it('on a disconnect takes the connection out of every room: each room hears it leave, every count drops', async () => {
    const [r1, r2] = [freshRoom('cleanup'), freshRoom('cleanup')];
    const x = await named('Xena');
    const [p, q, l] = [await guest(), await guest(), await guest()];
    await x.join(r1);
    await x.join(r2);
    expect((await p.join(r1)).joined.online).toBe(2);
    expect((await q.join(r2)).joined.online).toBe(2);
    // The lobby as listed (a join reads the listing; a message would also prune gone connections),
    // with only the history after l's own mark: a shared lobby's may be long.
    const mark = await l.say(LOBBY, `mark ${RUN}`);
    const lobbyBefore = (await l.join(LOBBY, mark.id)).joined as Envelope;
    expect(lobbyBefore.members).toContainEqual(x.user);
    // x, p, q and l at least.
    expect(lobbyBefore.online).toBeGreaterThanOrEqual(4);

    // Cut, not closed: as a dropped network would.
    x.ws.terminate();
    await dropped(x);
    expect(await presenceOf(p, r1, 'leave', x.user!)).toEqual({ type: 'presence', room: r1, event: 'leave', user: x.user, online: 1 });
    expect(await presenceOf(q, r2, 'leave', x.user!)).toEqual({ type: 'presence', room: r2, event: 'leave', user: x.user, online: 1 });
    for (const [client, room] of [
      [p, r1],
      [q, r2],
    ] as const) {
      let ack = await client.say(room, `alone in ${room}`);
      if (endpoint.mode === 'web' && ack.delivered !== 0) {
        // As with direct messages: web mode counts the instances listening on the room's channel
        // when it is published to, and the gone connection's instance listens until its disconnect
        // has run, moments after the leave it announced.
        const tries = [ack.delivered];
        for (const deadline = Date.now() + 10_000; ack.delivered !== 0 && Date.now() < deadline; tries.push(ack.delivered)) {
          await new Promise((r) => setTimeout(r, 100));
          ack = await client.say(room, `alone in ${room}`);
        }
        report(SUITE, `web mode: a message right after a disconnect counted the gone connection (delivered ${tries.join(', then ')})`);
      }
      expect(ack).toMatchObject({ online: 1, delivered: 0 });
    }
    // The lobby too, where x was put at connect: no presence there (it never joined it), but gone
    // from the listing. Cleanup took it out of every room at once, before the leaves were told.
    const lobbyAfter = (await l.join(LOBBY, mark.id)).joined as Envelope;
    expect(lobbyAfter.members).not.toContainEqual(x.user);
    const counted = (await l.say(LOBBY, `count ${RUN} after`)).online as number;
    if (endpoint.local) expect([lobbyAfter.online, counted]).toEqual([lobbyBefore.online - 1, lobbyBefore.online - 1]);
    else if (lobbyAfter.online >= lobbyBefore.online) {
      report(SUITE, `the shared lobby went from ${lobbyBefore.online} to ${lobbyAfter.online} connections while one of ours left (others came)`);
    }
    expect(l.presence(LOBBY)).toEqual([]);
  });

  it('refuses NOT_IN_ROOM, BAD_ROOM, BAD_SINCE, BAD_NAME, BAD_REQUEST and NAME_LOCKED, and the connection stays usable after each', async () => {
    const a = await named('Eve');
    const witness = await guest();
    const ok = freshRoom('errors-ok');
    await a.join(ok);
    await witness.join(ok);
    let round = 0;
    /** The refusal `request` gets, after which `a` still speaks and is heard. */
    const refusal = async (request: () => Promise<unknown>): Promise<Envelope> => {
      const err = await request().then(
        () => new Error('expected a refusal, got an answer'),
        (e: unknown) => e,
      );
      if (!(err instanceof ChatRefused)) throw err;
      expect(err.envelope).toEqual({ type: 'error', code: err.code, message: expect.any(String) });
      const text = `still here ${++round}`;
      expect(await a.say(ok, text)).toMatchObject({ room: ok, delivered: 1 });
      await received(witness, ok, text);
      expect(a.closed).toBeUndefined();
      return err.envelope;
    };
    const room = freshRoom('errors');
    expect(await refusal(() => a.say(room, 'not joined'))).toMatchObject({ code: 'NOT_IN_ROOM' });
    expect(await refusal(() => a.leave(room))).toMatchObject({ code: 'NOT_IN_ROOM' });
    for (const bad of ['has space', 'x'.repeat(65), '', 'slash/room', 'dot.room']) {
      expect(await refusal(() => a.join(bad)), `join ${JSON.stringify(bad)}`).toMatchObject({ code: 'BAD_ROOM' });
    }
    expect(await refusal(() => a.say('has space', 'hi'))).toMatchObject({ code: 'BAD_ROOM' });
    // 64 characters is a room name still.
    const longest = `${room}-`.padEnd(64, 'z');
    expect((await a.join(longest)).joined).toMatchObject({ room: longest, online: 1 });
    for (const since of ['not-an-id', '0'.repeat(17), 'A'.repeat(18)]) {
      expect(await refusal(() => a.join(room, since)), `since ${since}`).toMatchObject({ code: 'BAD_SINCE' });
    }
    // A refused join did not join.
    expect(await refusal(() => a.say(room, 'after a bad since'))).toMatchObject({ code: 'NOT_IN_ROOM' });
    // A known request without its fields.
    for (const request of [{ type: 'join' }, { type: 'leave', room: 7 }, { type: 'direct', to: 'someone' }]) {
      expect(await refusal(() => a.request(request, 'an answer', () => false)), JSON.stringify(request)).toMatchObject({ code: 'BAD_REQUEST' });
    }
    // Names are checked for guests (verified users cannot rename at all).
    const g = await guest();
    for (const name of ['', '   ', 'n'.repeat(65), 'tab\there']) {
      await expect(g.profile(name), `name ${JSON.stringify(name)}`).rejects.toMatchObject({ code: 'BAD_NAME' });
    }
    expect((await g.profile('Fine')).user).toMatchObject({ name: 'Fine', verified: false });
    if (canVerify('NAME_LOCKED (a verified user renaming itself)')) {
      expect(await refusal(() => a.profile('Mallory'))).toMatchObject({ code: 'NAME_LOCKED' });
      // The name stays the token's.
      expect((await received(witness, ok, `still here ${round}`)).from).toEqual(a.user);
    }
  });

  it("shows who speaks: a verified user's token id and name, a guest's id with the name it chose", async () => {
    const room = freshRoom('from');
    const listener = await guest();
    await listener.join(room);
    if (canVerify("a verified user's `from`")) {
      const vera = await verified('vera', 'Vera V.');
      await vera.join(room);
      await vera.say(room, 'verified here');
      expect((await received(listener, room, 'verified here')).from).toEqual({ id: `vera-${RUN}`, name: 'Vera V.', verified: true });
    }
    const g = await guest();
    await g.join(room);
    await g.say(room, 'before a name');
    const before = (await received(listener, room, 'before a name')).from as User;
    expect(before).toEqual({ id: expect.stringMatching(GUEST_ID), name: before.id, verified: false });
    // The name is trimmed; the id stays; the room it joined is told.
    const gus = { id: before.id, name: 'Gus', verified: false };
    expect(await g.profile('  Gus  ')).toEqual({ type: 'profile', user: gus });
    expect(await presenceOf(listener, room, 'rename', gus)).toMatchObject({ type: 'presence', room, event: 'rename', user: gus });
    await g.say(room, 'with a name');
    expect((await received(listener, room, 'with a name')).from).toEqual(gus);
    // And the room lists it so.
    const late = await guest();
    expect((await late.join(room)).joined.members).toContainEqual(gus);
  });
});
