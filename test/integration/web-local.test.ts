/**
 * The chat on a local cloud in web mode, where only this machine can look: one instance process
 * per connection, and Redis failing under the clients. Restarted while they chat, the instances
 * come back by themselves, and a connection that missed messages meanwhile is closed with 1012,
 * after which its client resumes each room with `since` and has missed nothing. Unreachable at
 * connect, the handshake is refused with 503 and the reason, and nothing of it is left behind.
 *
 * (The same scenarios as event mode's run in web mode too: vitest's `web` project runs chat.test.ts,
 * chat-rooms.test.ts and the browser tests with CHAT_MODE=web.)
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HandshakeRefused, newAdmissionSecret, startLocalApp, WaitFailed, type AppEndpoint } from '../harness';
import { ChatClient, ChatRefused, type Envelope } from '../support/chat-client';
import { report } from '../support/report';

const SUITE = 'web mode, local';
const LOBBY = 'lobby';
const RUN = randomBytes(4).toString('hex');
/** `[<function> <request id>] cold start: … (instance pid <pid>, …`, as the local SCF logs each instance. */
const COLD_START = /^\[(\S+) ([0-9a-f-]{36})\] cold start: .*\binstance pid (\d+)\b/;

let endpoint: AppEndpoint;
const clients: ChatClient[] = [];
/** Every line the local cloud logged. */
const lines: string[] = [];
let rooms = 0;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function freshRoom(label: string): string {
  return `${label}-${RUN}-${++rooms}`;
}

async function guest(): Promise<ChatClient> {
  const client = await ChatClient.connect(endpoint.url, endpoint.protocols(['chat']));
  clients.push(client);
  return client;
}

/** Connects and returns the client with the pid of the instance process the local SCF started for it. */
async function withInstance(): Promise<{ client: ChatClient; pid: number; label: string }> {
  const mark = lines.length;
  const client = await guest();
  // The instance answered the handshake, so its cold start was logged before the connection opened.
  const starts = lines
    .slice(mark)
    .map((line) => COLD_START.exec(line))
    .filter((m) => m !== null);
  expect(starts, 'one cold start per connection').toHaveLength(1);
  // Its lines are labelled `[<function> <request id>]`.
  return { client, pid: Number(starts[0]![3]), label: `[${starts[0]![1]} ${starts[0]![2]}]` };
}

/** `/proc/<pid>`: its parent and command line, or undefined once it has exited (a zombie counts as exited). */
function processOf(pid: number): { ppid: number; cmdline: string[] } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (state === 'Z') return undefined;
    return { ppid: Number(ppid), cmdline: readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean) };
  } catch {
    return undefined;
  }
}

/** The message with `text` in `room`, once `client` has it live. */
function received(client: ChatClient, room: string, text: string): Promise<Envelope> {
  return client.waitFor(`"${text}" in ${room}`, () => client.messages(room).find((m) => m.text === text));
}

describe('the chat on a local cloud in web mode', () => {
  beforeAll(async () => {
    endpoint = await startLocalApp({ app: 'chat', mode: 'web', admissionSecret: newAdmissionSecret(), log: (line) => lines.push(line) });
  }, 120_000);
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
    await endpoint?.stop();
  }, 60_000);

  it('runs in web mode: a Redis for the stack, no push address', () => {
    expect(endpoint.mode).toBe('web');
    expect(endpoint.redis).toMatchObject({ host: '127.0.0.1', port: expect.any(Number), running: true });
    expect(endpoint.pushUrl).toBeUndefined();
  });

  it('gives each connection an instance process of its own; one ending, by a close or a crash, ends no other', async () => {
    const room = freshRoom('instances');
    const a = await withInstance();
    const b = await withInstance();
    expect(a.pid).not.toBe(b.pid);
    for (const { pid } of [a, b]) {
      // The bundle's index.js, run by the local cloud (this process) as SCF runs scf_bootstrap.
      const proc = processOf(pid);
      expect(proc, `instance ${pid}`).toMatchObject({ ppid: process.pid });
      expect(proc!.cmdline.some((arg) => arg.endsWith('index.js'))).toBe(true);
    }
    // Two processes, one room: what one says reaches the other over Redis.
    await a.client.join(room);
    await b.client.join(room);
    await a.client.say(room, 'across instances');
    expect(await received(b.client, room, 'across instances')).toMatchObject({ room, online: 2 });

    // A close ends that connection's invocation (200) and its process; the other keeps both.
    await a.client.close();
    await expect.poll(() => processOf(a.pid), { timeout: 15_000 }).toBeUndefined();
    expect(lines.some((l) => l.startsWith(`${a.label} invocation ended with status 200`))).toBe(true);
    expect(processOf(b.pid)).toBeDefined();
    const c = await withInstance();
    expect(new Set([a.pid, b.pid, c.pid]).size).toBe(3);
    await c.client.join(room);
    await b.client.say(room, 'after the close');
    await received(c.client, room, 'after the close');

    // A crash (the process killed) ends its own connection only, counted as the server's (439).
    process.kill(c.pid, 'SIGKILL');
    await c.client.waitFor('the close after the crash', () => c.client.closed);
    expect(c.client.closed!.code).toBe(1006);
    await expect.poll(() => lines.some((l) => l.startsWith(`${c.label} invocation ended with status 439`))).toBe(true);
    const d = await withInstance();
    await d.client.join(room);
    await b.client.say(room, 'after the crash');
    await received(d.client, room, 'after the crash');
    expect(b.client.closed).toBeUndefined();
  });

  it('refuses a handshake while Redis is unreachable with 503 and the reason, and leaves nothing of it behind', async () => {
    const room = freshRoom('refused');
    const host = await guest();
    await host.join(room);
    const ghost = { id: `ghost-${RUN}`, name: 'Ghost' };
    const mark = lines.length;
    await endpoint.redis!.stop();
    let refusal: unknown;
    try {
      refusal = await ChatClient.connect(endpoint.url, endpoint.protocols(['chat'], { user: ghost })).then(
        () => new Error('expected a refusal, the connection opened'),
        (err: unknown) => err,
      );
    } finally {
      await endpoint.redis!.start();
    }
    expect(refusal).toBeInstanceOf(HandshakeRefused);
    expect(refusal).toMatchObject({ status: 503, body: expect.stringMatching(/^Redis at 127\.0\.0\.1:\d+ is unreachable \(.+\): .*nothing was registered/) });
    // The refused connection's invocation ended with that status, and its instance is gone.
    const start = lines
      .slice(mark)
      .map((l) => COLD_START.exec(l))
      .find((m) => m !== null);
    expect(start, 'the refused connection had an instance').toBeDefined();
    await expect.poll(() => lines.slice(mark).some((l) => l.startsWith(`[${start![1]} ${start![2]}] invocation ended with status 503`))).toBe(true);
    await expect.poll(() => processOf(Number(start![3])), { timeout: 15_000 }).toBeUndefined();

    // The connection that was open stays open, and speaks again once its instance is back on Redis.
    let back: Envelope | undefined;
    const refusedMeanwhile: string[] = [];
    for (const deadline = Date.now() + 15_000; !back && Date.now() < deadline;) {
      back = await host.say(room, 'back on Redis').catch((err: unknown) => {
        if (!(err instanceof ChatRefused)) throw err;
        refusedMeanwhile.push(err.code);
        return sleep(200).then(() => undefined);
      });
    }
    expect(back).toMatchObject({ room, online: 1 });
    if (refusedMeanwhile.length)
      report(
        SUITE,
        `while its instance reconnected, the open connection's message was refused ${refusedMeanwhile.length}× (${[...new Set(refusedMeanwhile)].join(', ')})`,
      );
    expect(host.closed).toBeUndefined();
    // Nothing half-joined: the ghost is in no listing and reachable by no one.
    const lister = await guest();
    const mine = await lister.say(LOBBY, `lister ${RUN}`);
    const { joined } = await lister.join(LOBBY, mine.id);
    expect(joined.members.map((m: Envelope) => m.id)).not.toContain(ghost.id);
    expect(joined.members).toContainEqual(lister.user);
    expect(await host.direct(ghost.id, 'are you there?')).toMatchObject({ to: ghost.id, delivered: 0 });
  });

  it(
    'Redis restarted while clients chat: the instances come back, a connection that missed messages is closed with 1012, and its client resumes with since, missing nothing',
    { retry: 2, timeout: 180_000 },
    async () => {
      const room = freshRoom('restart');
      /** A client that talks through the restart: its connections (a new one after each 1012), what it was acked and refused. */
      interface Speaker {
        connections: ChatClient[];
        acked: Envelope[];
        refused: string[];
      }
      const speakers: Speaker[] = [];
      for (let i = 0; i < 4; i++) {
        const client = await guest();
        await client.join(room);
        speakers.push({ connections: [client], acked: [], refused: [] });
      }
      /** The newest message of the room this speaker has received (live or in a history), from any of its connections. */
      const lastReceived = (s: Speaker) =>
        s.connections
          .flatMap((c) => c.seen(room).map((m) => m.id as string))
          .sort()
          .at(-1);
      const mark = lines.length;
      let chatting = true;
      const loops = speakers.map(async (s, i) => {
        for (let n = 0; chatting; n++) {
          const current = s.connections.at(-1)!;
          if (current.closed) {
            // Closed by the server: a client resumes as the chat page does, each room from the last message it received.
            const since = lastReceived(s);
            const next = await guest();
            await next.join(room, since);
            s.connections.push(next);
            continue;
          }
          try {
            s.acked.push(await current.say(room, `speaker ${i} says ${n}`));
          } catch (err) {
            if (err instanceof ChatRefused) s.refused.push(err.code);
            else if (!(err instanceof WaitFailed && current.closed)) throw err;
          }
          await sleep(100);
        }
      });
      await sleep(500);
      // Down 3.5 s. The instances retry on their own, with backoff: 0.1, 0.3, 0.7, 1.5, 3.1, 5.1 s
      // after the loss, then every 2 s. Back between two attempts, Redis has the newcomer below
      // connect, join and speak before they are: all that is in their gap.
      // On a loaded machine the newcomer's cold start can outlast the window, and then nothing falls
      // in a gap: the restart is tried again (at most three times) until some instance missed a message.
      const back = () => lines.slice(mark).filter((l) => /"msg":"(Redis reconnected|messages published while Redis was unreachable were missed)"/.test(l));
      const gapSeen = () => lines.slice(mark).some((l) => l.includes('"msg":"messages published while Redis was unreachable were missed"'));
      const inGap: Envelope[] = [];
      let newcomer!: ChatClient;
      for (let attempt = 1; attempt <= 3 && !gapSeen(); attempt++) {
        const before = back().length;
        await endpoint.redis!.restart({ downMs: 3500 });
        newcomer = await guest();
        await newcomer.join(room);
        inGap.push(await newcomer.say(room, `said in the gap ${attempt}`));
        // Every instance of the four is back (it logs whether it missed anything).
        await expect.poll(() => back().length - before, { timeout: 20_000 }).toBeGreaterThanOrEqual(speakers.length);
        if (!gapSeen()) report(SUITE, `Redis restart ${attempt}: every instance was back before the newcomer spoke; trying again`);
      }
      await expect
        .poll(() => speakers.every((s) => s.connections.at(-1)!.closed === undefined && s.connections.at(-1)!.seen(room).length > 0), { timeout: 10_000 })
        .toBe(true);
      await sleep(1000);
      chatting = false;
      await Promise.all(loops);
      // Everything said before this has reached whoever was listening.
      const last = await newcomer.say(room, 'the end');
      for (const s of speakers) await received(s.connections.at(-1)!, room, 'the end');

      const said = new Map<string, Envelope>();
      for (const ack of [...inGap, last, ...speakers.flatMap((s) => s.acked)]) said.set(ack.id, ack);
      const closes = speakers.flatMap((s) => s.connections.flatMap((c) => (c.closed ? [c.closed] : [])));
      for (const [i, s] of speakers.entries()) {
        const own = new Set(s.acked.map((a) => a.id as string));
        const got = new Set(s.connections.flatMap((c) => c.seen(room).map((m) => m.id as string)));
        // Everything the room was told, the speaker's own messages aside, reached it live or in a history after a resume.
        const lost = [...said.keys()].filter((id) => !own.has(id) && !got.has(id));
        expect(lost, `speaker ${i} never received`).toEqual([]);
        // Nothing it was refused was said: every message received was acked to its sender.
        expect(
          [...got].filter((id) => !said.has(id)),
          `speaker ${i} received unacked messages`,
        ).toEqual([]);
        for (const c of s.connections) {
          const live = c.messages(room).map((m) => m.id as string);
          expect(new Set(live).size, `speaker ${i}: a live message twice`).toBe(live.length);
        }
      }
      // Every server close was a 1012, saying why; at least one connection missed messages (the newcomer's).
      expect(closes.map((c) => c.code)).toEqual(closes.map(() => 1012));
      for (const c of closes) expect(c.reason).toMatch(/^missed .* while Redis was unreachable: reconnect and resume with since$/);
      expect(closes.length).toBeGreaterThanOrEqual(1);
      // Each gap was counted and reported by its instance.
      const gaps = lines.slice(mark).filter((l) => l.includes('"msg":"messages published while Redis was unreachable were missed"'));
      expect(gaps.filter((l) => l.includes('"action":"closed"'))).toHaveLength(closes.length);
      const missed = gaps.map((l) => JSON.parse(l.slice(l.indexOf('{'))).missed);
      expect(missed.every((n) => typeof n === 'number' && n >= 1)).toBe(true);
      const refused = speakers.flatMap((s) => s.refused);
      report(
        SUITE,
        `Redis down 3.5 s under 4 speakers: ${closes.length} of ${speakers.length} connections closed with 1012 (missed ${missed.join(', ')}), ` +
          `${said.size} messages acked, ${refused.length} refused meanwhile (${[...new Set(refused)].join(', ') || 'none'}), none lost`,
      );
    },
  );
});
