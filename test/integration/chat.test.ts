/**
 * One suite, any endpoint: the local cloud by default, a deployed endpoint when WS_URL is set
 * (with ADMISSION_SECRET when that endpoint requires admission). Locally it runs in event mode and
 * again in web mode (vitest's `web` project sets CHAT_MODE=web): the same scenarios, unchanged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdmissionToken, modeFromEnv, newAdmissionSecret, openAppEndpoint, type AppEndpoint } from '../harness';
import { ChatClient, HandshakeRefused } from '../support/chat-client';
import { report } from '../support/report';

let endpoint: AppEndpoint;
const clients: ChatClient[] = [];

async function connect(): Promise<ChatClient> {
  const client = await ChatClient.connect(endpoint.url, endpoint.protocols(['chat']));
  clients.push(client);
  return client;
}

/** Sends one message and waits until it reaches `to`. */
async function sendAndReceive(from: ChatClient, to: ChatClient, text: string): Promise<Record<string, any>> {
  from.send(text);
  return to.waitFor(`"${text}" to arrive`, () => to.messages().find((m) => m.text === text));
}

describe(`chat over ${process.env.WS_URL ? process.env.WS_URL : `the local cloud in ${modeFromEnv() ?? 'event'} mode`}`, () => {
  beforeAll(async () => {
    // Locally, admission is switched on so refusal can be tested too.
    // In web mode each of the 200 clients below has an instance process of its own, and those of
    // the tests before may still be stopping: room for all of them, whatever the machine's default.
    endpoint = await openAppEndpoint({ app: 'chat', admissionSecret: newAdmissionSecret(), maxWebInstances: 256 });
  }, 120_000);
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
    await endpoint?.stop();
  }, 60_000);

  it('connects with the chat subprotocol, broadcasts to the others and counts who is online', async () => {
    const [a, b] = [await connect(), await connect()];
    expect(a.ws.protocol).toBe('chat');
    const message = await sendAndReceive(a, b, 'hello from a');
    // Without admission claims the sender is a guest, named after its connection.
    const guest = expect.stringMatching(/^guest-[A-Za-z0-9_-]{8}$/);
    expect(message).toEqual({
      type: 'message',
      id: expect.stringMatching(/^[0-9a-z]{18}$/),
      room: 'lobby',
      from: { id: guest, name: guest, verified: false },
      text: 'hello from a',
      online: expect.any(Number),
      sentAt: expect.any(String),
    });
    expect(message.from.name).toBe(message.from.id);
    expect(Number.isNaN(Date.parse(message.sentAt))).toBe(false);
    const ack = await a.waitFor('the ack', () => a.of('ack')[0]);
    expect(ack).toMatchObject({ type: 'ack', id: message.id, room: 'lobby' });
    expect(ack.delivered).toBeGreaterThanOrEqual(1);
    // The sender does not receive its own message.
    expect(a.messages().some((m) => m.text === 'hello from a')).toBe(false);
    if (endpoint.local) {
      // A fresh local cloud: these two are the only connections.
      expect(message.online).toBe(2);
      expect(ack).toEqual({ type: 'ack', id: message.id, room: 'lobby', online: 2, delivered: 1 });
    } else {
      expect(message.online).toBeGreaterThanOrEqual(2);
    }
    await Promise.all([a.close(), b.close()]);
  });

  it("keeps each sender's order across three clients", async () => {
    const trio = [await connect(), await connect(), await connect()];
    const PER_SENDER = 8;
    // Spaced under the 10 messages/s limit.
    for (let seq = 0; seq < PER_SENDER; seq++) {
      trio.forEach((client, i) => client.send(`order ${i} ${seq}`));
      await new Promise((r) => setTimeout(r, 120));
    }
    const reordered: string[] = [];
    for (const [r, receiver] of trio.entries()) {
      for (const [s] of trio.entries()) {
        if (s === r) continue;
        const got = await receiver.waitFor(`all of sender ${s} at receiver ${r}`, () => {
          const seqs = receiver
            .messages()
            .filter((m) => m.text.startsWith(`order ${s} `))
            .map((m) => Number(m.text.split(' ')[2]));
          return seqs.length >= PER_SENDER ? seqs : undefined;
        });
        expect(got.length).toBe(PER_SENDER);
        if (got.some((v, i) => v !== i)) reordered.push(`receiver ${r} got sender ${s} as ${got.join(',')}`);
      }
    }
    if (endpoint.local) expect(reordered).toEqual([]);
    else if (reordered.length > 0) report('chat suite', `the endpoint reordered messages (it promises no order):\n${reordered.join('\n')}`);
    else report('chat suite', `no reordering seen: ${PER_SENDER} messages from each of 3 senders kept their order`);
    await Promise.all(trio.map((c) => c.close()));
  });

  it('runs cleanup on disconnect, and the online count drops', async () => {
    const [a, b, c] = [await connect(), await connect(), await connect()];
    const before = (await sendAndReceive(a, b, 'count before')).online as number;
    expect(before).toBeGreaterThanOrEqual(3);
    await c.close();
    // Cleanup runs after the close: ask again (well under the rate limit) until the count drops.
    const deadline = Date.now() + 20_000;
    let last: Record<string, any> | undefined;
    for (let i = 0; Date.now() < deadline; i++) {
      last = await sendAndReceive(a, b, `count after ${i}`);
      if (last.online < before) break;
      await new Promise((r) => setTimeout(r, 300));
    }
    if (endpoint.local) expect(last!.online).toBe(2);
    else expect(last!.online).toBeLessThan(before);
    await Promise.all([a.close(), b.close()]);
  });

  it('relays a binary frame as binary, byte for byte', async () => {
    const [a, b] = [await connect(), await connect()];
    await sendAndReceive(a, b, 'warm up');
    const bytes = Buffer.from([0, 1, 2, 3, 250, 251, 252, 253, 254, 255, 10, 13, 0]);
    a.ws.send(bytes);
    const got = await b.waitFor('the binary frame', () => b.received.find((r) => r.binary)?.binary);
    expect(Buffer.compare(got, bytes)).toBe(0);
    await Promise.all([a.close(), b.close()]);
  });

  it('closes the connection on a frame over 256 KB, and refuses a message too large once wrapped', async () => {
    const [a, b] = [await connect(), await connect()];
    await sendAndReceive(a, b, 'before the big one');
    // Fits the frame limit but not once wrapped in the envelope: an error, connection stays open.
    a.send('w'.repeat(256 * 1024 - 40));
    const error = await a.waitFor('the error envelope', () => a.of('error')[0]);
    expect(error).toMatchObject({ type: 'error', code: 'MESSAGE_TOO_LARGE' });
    expect(b.messages().some((m) => m.text.startsWith('www'))).toBe(false);
    // Over the frame limit: the gateway closes with 1009.
    a.ws.send('x'.repeat(256 * 1024 + 1));
    await a.waitFor('the close', () => a.closed);
    expect(a.closed!.code).toBe(1009);
    await b.close();
  });

  it('refuses a connection without a valid admission token, and accepts one with it', async () => {
    if (!endpoint.admissionSecret) {
      report('chat suite', 'the endpoint has no admission secret configured for the suite (ADMISSION_SECRET): admission not exercised');
      return;
    }
    await expect(ChatClient.connect(endpoint.url, ['chat'])).rejects.toMatchObject({
      status: expect.any(Number),
      body: expect.stringMatching(/admission token required/),
    });
    const bad = await ChatClient.connect(endpoint.url, ['chat', createAdmissionToken('not-the-secret')]).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(HandshakeRefused);
    expect((bad as HandshakeRefused).body).toMatch(/signature is invalid/);
    const expired = createAdmissionToken(endpoint.admissionSecret, { ttlSeconds: 1, now: Date.now() - 60_000 });
    await expect(ChatClient.connect(endpoint.url, ['chat', expired])).rejects.toMatchObject({ body: expect.stringMatching(/expired/) });
    const ok = await ChatClient.connect(endpoint.url, ['chat', createAdmissionToken(endpoint.admissionSecret)]);
    expect(ok.ws.protocol).toBe('chat');
    await ok.close();
  });

  it('delivers every message of 200 concurrent clients in the lobby, 10 each, exactly once to every other client', async () => {
    const CLIENTS = 200;
    const EACH = 10;
    const crowd: ChatClient[] = [];
    for (let i = 0; i < CLIENTS; i += 20) {
      crowd.push(...(await Promise.all(Array.from({ length: Math.min(20, CLIENTS - i) }, () => connect()))));
    }
    // Everyone is registered once a message from the last client reaches the first.
    await sendAndReceive(crowd[CLIENTS - 1], crowd[0], 'all here?');
    const marker = `crowd-${Date.now()}`;
    // 10 at once per connection: the burst the default limits (seed 002's 10 messages/s) allow
    crowd.forEach((client, i) => {
      for (let seq = 0; seq < EACH; seq++) client.send(`${marker} ${i} ${seq}`);
    });
    const expected = (CLIENTS - 1) * EACH;
    // Counted as frames arrive, each frame once: the gateway shares this process's event loop, and
    // 200 clients re-reading all they have at every frame would slow it down.
    const progress = crowd.map(() => ({ scanned: 0, count: 0 }));
    const waits = await Promise.allSettled(
      crowd.map((client, r) =>
        client.waitFor(
          `client ${r} to receive ${expected} messages`,
          () => {
            const p = progress[r]!;
            for (; p.scanned < client.received.length; p.scanned++) {
              const json = client.received[p.scanned]!.json;
              if (json?.type === 'message' && typeof json.text === 'string' && json.text.startsWith(marker)) p.count++;
            }
            return p.count >= expected && client.messages().filter((m) => m.text.startsWith(marker));
          },
          240_000,
        ),
      ),
    );
    if (waits.some((w) => w.status === 'rejected')) {
      // Slow or lost: what arrived, what the senders were acked, and what went wrong, in one line each.
      const got = progress.map((p) => p.count).sort((a, b) => a - b);
      const acked = crowd.reduce((n, c) => n + c.of('ack').filter((a) => a.room === 'lobby').length, 0) - 1;
      const errors = crowd.flatMap((c) => c.of('error').map((e) => e.code as string));
      const closed = crowd.flatMap((c) => (c.closed ? [`${c.closed.code} ${c.closed.reason}`] : []));
      throw new Error(
        [
          `not every client received its ${expected} messages:`,
          `received per client: min ${got[0]}, median ${got[got.length >> 1]}, max ${got.at(-1)}`,
          `acked to senders: ${acked} of ${CLIENTS * EACH}`,
          `errors: ${errors.length ? [...new Set(errors)].map((c) => `${c} ×${errors.filter((e) => e === c).length}`).join(', ') : 'none'}`,
          `closed: ${closed.length ? [...new Set(closed)].join('; ') : 'none'}`,
        ].join('\n'),
      );
    }
    const counts = waits.map((w) => (w as PromiseFulfilledResult<Record<string, any>[]>).value);
    // Let any duplicate arrive before counting.
    await new Promise((r) => setTimeout(r, 500));
    for (const [r, client] of crowd.entries()) {
      const seen = new Map<string, number>();
      const mine = client.messages().filter((m) => m.text.startsWith(marker));
      for (const m of mine) seen.set(m.text, (seen.get(m.text) ?? 0) + 1);
      expect(counts[r].length).toBe(expected);
      // Every connection starts in the lobby, and each message there has an id of its own.
      expect(
        mine.filter((m) => m.room !== 'lobby'),
        `client ${r}: messages outside the lobby`,
      ).toEqual([]);
      expect(new Set(mine.map((m) => m.id)).size, `client ${r}: distinct ids`).toBe(expected);
      expect(seen.size, `client ${r}: distinct messages`).toBe(expected);
      expect(
        [...seen.values()].every((n) => n === 1),
        `client ${r}: duplicates`,
      ).toBe(true);
      for (let s = 0; s < CLIENTS; s++) {
        if (s === r) continue;
        for (let seq = 0; seq < EACH; seq++) if (!seen.has(`${marker} ${s} ${seq}`)) throw new Error(`client ${r} never received ${s}/${seq}`);
      }
      expect(client.of('error')).toEqual([]);
    }
    await Promise.all(crowd.map((c) => c.close()));
  }, 300_000);
});
