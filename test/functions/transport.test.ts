import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { captureLog } from './capture-log';
import { readRegistryConfig } from '../../functions/lib/config';
import { messageEnvelope } from '../../functions/chat/protocol';
import { MAX_PUSH_BYTES } from '../../functions/lib/limits';
import { ConnectionRegistry, keyForConnection } from '../../functions/lib/registry';
import { RoomRegistry } from '../../functions/lib/rooms';
import { deleteObjects, listObjects } from '../../functions/lib/cos-listing';
import { guestOf } from '../../functions/lib/users';
import { startCos, useEnv, type CosFixture } from '../support/cos-fixture';
import { fakeConnectionId, populate } from '../support/populate';
import { PushRecorder } from '../support/push-recorder';
import chat from '../../functions/chat/app';

const transport = chat.transport;

function frame(id: string, data: string, dataType: 'text' | 'binary' = 'text', action = 'data send') {
  return { websocket: { action, secConnectionID: id, dataType, data } };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

describe('transport', () => {
  let cos: CosFixture;
  let registry: ConnectionRegistry;
  let rooms: RoomRegistry;
  const push = new PushRecorder();
  let restore: () => void;

  beforeAll(async () => {
    cos = await startCos();
    await push.start();
    restore = useEnv({ ...cos.env, url: push.url, PUSH_CONCURRENCY: '16', PUSH_TIMEOUT_MS: '2000' });
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
    // Everything: records, room and user keys, history.
    const where = { bucket: cos.bucket, region: cos.env.region };
    await deleteObjects(
      cos.cos,
      where,
      (await listObjects(cos.cos, where, '')).map((o) => o.key),
    );
  });

  /** Connections as register leaves them: a record, in the lobby. */
  const connect = (count: number) => populate(registry, count, 50, { registry: rooms });
  const lobby = async () => (await rooms.members('lobby')).map((m) => m.connectionId).sort();
  const ack = (online: number, delivered: number) => ({ type: 'ack', id: expect.stringMatching(/^[0-9a-z]{18}$/), room: 'lobby', online, delivered });

  /** Each record's last write time, as the listing shows it. */
  async function lastModified(): Promise<Map<string, number>> {
    return new Map((await registry.entries()).map((e) => [e.id, e.lastModified]));
  }

  it('broadcasts a JSON chat message to the others and acks the sender', async () => {
    const [sender, a, b] = await connect(3);
    const before = Date.now();
    const result = await transport(frame(sender, JSON.stringify({ type: 'message', text: 'hello <b>all</b>' })));
    expect(result).toMatchObject({ errNo: 0, delivered: 2, pruned: 0, failed: 0 });
    const [acked] = push.jsonTo(sender);
    expect(acked).toEqual(ack(3, 2));
    for (const other of [a, b]) {
      const [message] = push.jsonTo(other);
      expect(push.to(other)).toHaveLength(1);
      expect(message).toEqual({
        type: 'message',
        id: acked!.id,
        room: 'lobby',
        from: guestOf(sender),
        text: 'hello <b>all</b>',
        online: 3,
        sentAt: expect.any(String),
      });
      expect(Date.parse(String(message.sentAt))).toBeGreaterThanOrEqual(before - 1000);
    }
  });

  it('treats any other text as the message itself, and accepts the older "data recv" action', async () => {
    const [sender, other] = await connect(2);
    await transport(frame(sender, 'plain words', 'text', 'data recv'));
    await transport(frame(sender, '{"type":"note","text":"x"}'));
    expect(push.jsonTo(other).map((m) => m.text)).toEqual(['plain words', '{"type":"note","text":"x"}']);
  });

  it('relays a binary frame as binary, byte for byte', async () => {
    const [sender, other] = await connect(2);
    const bytes = Buffer.from([0, 1, 2, 254, 255, 10, 13]);
    await transport(frame(sender, bytes.toString('base64'), 'binary'));
    const [relayed] = push.to(other);
    expect(relayed.dataType).toBe('binary');
    expect(Buffer.from(relayed.data!, 'base64')).toEqual(bytes);
    expect(push.jsonTo(sender)).toEqual([ack(2, 1)]);
  });

  it('works in an empty lobby: the sender alone is online', async () => {
    const [sender] = await connect(1);
    expect(await transport(frame(sender, 'anyone?'))).toMatchObject({ errNo: 0, delivered: 0 });
    expect(push.jsonTo(sender)).toEqual([ack(1, 0)]);
    expect(push.pushes).toHaveLength(1);
  });

  it('reaches exactly the 2,499 others of 2,500 registered connections', async () => {
    const ids = await connect(2500);
    const [sender, ...others] = ids;
    const result = await transport(frame(sender, 'to everyone'));
    expect(result).toMatchObject({ delivered: 2499, failed: 0 });
    const messages = push.pushes.filter((p) => p.secConnectionID !== sender);
    expect(messages).toHaveLength(2499);
    expect(new Set(messages.map((p) => p.secConnectionID))).toEqual(new Set(others));
    expect(push.jsonTo(sender)).toEqual([ack(2500, 2499)]);
    expect(push.maxInFlight).toBeLessThanOrEqual(16);
  }, 60_000);

  it('prunes ids the gateway answers with a non-200 status: it is closing them', async () => {
    const [sender, live, closing1, closing2] = await connect(4);
    push.failing.add(closing1).add(closing2);
    const result = await transport(frame(sender, 'who is there?'));
    expect(result).toMatchObject({ delivered: 1, pruned: 2, refused: 0, failed: 0 });
    expect(push.jsonTo(sender)).toEqual([ack(2, 1)]);
    expect(new Set(await registry.list())).toEqual(new Set([sender, live]));
    // Out of the room it was broadcast to, record and keys alike.
    expect(await lobby()).toEqual([sender, live].sort());
    expect(await rooms.memberships(closing1)).toEqual([]);
    // The gateway closes them itself: no close is asked for.
    expect(push.pushes.filter((p) => p.action === 'closing')).toEqual([]);
  });

  it('on HTTP 200 with a non-zero errNo, logs it, asks the gateway to close the connection and prunes it', async () => {
    const [sender, live, odd1, odd2] = await connect(4);
    push.gone.add(odd1).add(odd2);
    const warnings = captureLog('warn');
    let result;
    try {
      result = await transport(frame(sender, 'who is there?'));
    } finally {
      warnings.restore();
    }
    expect(result).toMatchObject({ delivered: 1, pruned: 2, refused: 2, failed: 0 });
    expect(push.jsonTo(sender)).toEqual([ack(2, 1)]);
    expect(new Set(await registry.list())).toEqual(new Set([sender, live]));
    // So that the client, if it is still connected, reconnects and registers again.
    expect(
      push.pushes
        .filter((p) => p.action === 'closing')
        .map((p) => p.secConnectionID)
        .sort(),
    ).toEqual([odd1, odd2].sort());
    expect(push.to(live).map((p) => p.action)).toEqual(['data send']);
    const refused = warnings.lines.filter((l) => l.msg === 'push refused: closing the connection so that it registers again');
    expect(refused).toEqual([expect.objectContaining({ level: 'warn', fn: 'transport', errNo: 1, errMsg: 'connection not found', count: 2 })]);
  });

  it('treats its own ack the same way: the sender is closed and pruned when the ack is refused', async () => {
    const [sender, other] = await connect(2);
    push.gone.add(sender);
    expect(await transport(frame(sender, 'hello'))).toMatchObject({ delivered: 1, refused: 1, pruned: 1 });
    expect(push.to(sender).map((p) => p.action)).toEqual(['data send', 'closing']);
    expect(await registry.list()).toEqual([other]);
  });

  it('keeps the sender registered: a record older than half the expiry is rewritten, the others are left alone', async () => {
    const [sender, other1, other2] = await connect(3);
    const written = await lastModified();
    const lobbyTimes = async () => new Map((await rooms.members('lobby')).map((m) => [m.connectionId, m.lastModified]));
    const lobbyBefore = await lobbyTimes();
    // Half of this expiry is 600 ms; wait until every record is older than that.
    const back = useEnv({ REGISTRY_EXPIRY_DAYS: String(1.2 / 86_400) });
    try {
      await sleep(Math.max(...written.values(), ...lobbyBefore.values()) + 700 - Date.now());
      const result = await transport(frame(sender, 'still here'));
      expect(result).toMatchObject({ errNo: 0, delivered: 2, senderRecord: 'refreshed' });
    } finally {
      back();
    }
    const after = await lastModified();
    expect(after.get(sender)).toBeGreaterThan(written.get(sender)!);
    for (const other of [other1, other2]) expect(after.get(other)).toBe(written.get(other));
    // Same content, only newer.
    const body = await cos.cos.getObject({ Bucket: cos.bucket, Region: cos.env.region, Key: keyForConnection(sender) });
    expect(JSON.parse(body.Body.toString())).toEqual({ id: sender, connectedAt: expect.any(String), user: guestOf(sender) });
    // Its room key too, which the lobby's expiry rule counts from.
    const lobbyAfter = await lobbyTimes();
    expect(lobbyAfter.get(sender)).toBeGreaterThan(lobbyBefore.get(sender)!);
    expect(lobbyAfter.get(other1)).toBe(lobbyBefore.get(other1));
  });

  it('leaves a record younger than half the expiry (default 1 day) alone', async () => {
    const [sender] = await connect(2);
    const written = await lastModified();
    expect(await transport(frame(sender, 'hi'))).toMatchObject({ senderRecord: 'kept' });
    expect(await lastModified()).toEqual(written);
  });

  it('writes back the record of a sender the registry lacks, in the lobby: it is connected, it just sent a frame', async () => {
    const [other] = await connect(1);
    const sender = fakeConnectionId();
    // Not in the lobby yet: told so, and put back for its next message.
    expect(await transport(frame(sender, 'am I registered?'))).toMatchObject({ delivered: 0, senderRecord: 'restored' });
    expect(push.jsonTo(sender)).toEqual([expect.objectContaining({ type: 'error', code: 'NOT_IN_ROOM' })]);
    expect(new Set(await registry.list())).toEqual(new Set([sender, other]));
    expect(await lobby()).toEqual([sender, other].sort());
    expect(await transport(frame(sender, 'and now?'))).toMatchObject({ delivered: 1, senderRecord: 'kept' });
    expect(push.jsonTo(other).map((m) => m.text)).toEqual(['and now?']);
  });

  it('refuses an invalid REGISTRY_EXPIRY_DAYS, naming it', async () => {
    const [sender, other] = await connect(2);
    for (const bad of ['0', '-1', 'a day', 'Infinity']) {
      const back = useEnv({ REGISTRY_EXPIRY_DAYS: bad });
      try {
        expect(await transport(frame(sender, 'x'))).toMatchObject({
          errNo: 500,
          errMsg: `environment variable REGISTRY_EXPIRY_DAYS must be a positive number of days, got "${bad}"`,
        });
      } finally {
        back();
      }
    }
    expect(push.to(other)).toEqual([]);
  });

  it('logs connection ids only in their short form', async () => {
    const [sender, odd, failing] = await connect(3);
    push.gone.add(odd);
    push.failing.add(failing);
    const logs = captureLog('info');
    try {
      await transport(frame(sender, 'hello'));
      await transport(frame(fakeConnectionId(), '%%%', 'binary'));
    } finally {
      logs.restore();
    }
    const text = logs.lines.map((l) => JSON.stringify(l)).join('\n');
    expect(logs.lines.length).toBeGreaterThanOrEqual(3);
    for (const id of [sender, odd, failing]) expect(text).not.toContain(id);
    expect(logs.lines.find((l) => l.msg === 'handled')).toMatchObject({ id: `${sender.slice(0, 6)}…` });
  });

  it('does not broadcast a message whose pushed form exceeds 256 KB, and tells the sender', async () => {
    const [sender, other] = await connect(2);
    // Raw text that fits the inbound limit but not once wrapped in the envelope.
    const text = 'x'.repeat(MAX_PUSH_BYTES - 20);
    const result = await transport(frame(sender, text));
    expect(result.errNo).not.toBe(0);
    expect(push.to(other)).toEqual([]);
    const [error] = push.jsonTo(sender);
    expect(error).toMatchObject({ type: 'error', code: 'MESSAGE_TOO_LARGE', message: expect.stringMatching(/over the 262144-byte limit/) });

    // At the limit once wrapped, with `online` counted at its widest (7 digits, as the check
    // must before the room is listed): delivered; one byte more is refused.
    push.reset();
    const envelopeOverhead = JSON.stringify(
      messageEnvelope('lobby', { id: 'x'.repeat(18), at: new Date().toISOString(), data: { from: guestOf(sender), text: '' } }, 9_999_999),
    ).length;
    await transport(frame(sender, 'z'.repeat(MAX_PUSH_BYTES - envelopeOverhead + 1)));
    expect(push.to(other)).toEqual([]);
    expect(push.jsonTo(sender)[0]).toMatchObject({ code: 'MESSAGE_TOO_LARGE' });
    push.reset();
    await transport(frame(sender, 'y'.repeat(MAX_PUSH_BYTES - envelopeOverhead)));
    expect(push.to(other)).toHaveLength(1);
    // What arrives carries the real count (2): it is smaller than the limit by the digits saved.
    expect(Buffer.byteLength(push.to(other)[0].data!)).toBe(MAX_PUSH_BYTES - 6);

    push.reset();
    await transport(frame(sender, Buffer.alloc(MAX_PUSH_BYTES + 1).toString('base64'), 'binary'));
    expect(push.to(other)).toEqual([]);
    expect(push.jsonTo(sender)[0]).toMatchObject({ code: 'MESSAGE_TOO_LARGE' });
  });

  it('answers the sender with an error when the store is unreachable, without failing', async () => {
    const back = useEnv({ LOCAL_COS_DOMAIN: 'http://127.0.0.1:1/{Bucket}' });
    try {
      const result = await transport(frame('sender-x', 'hello'));
      expect(result.errNo).not.toBe(0);
    } finally {
      back();
    }
    const [error] = push.jsonTo('sender-x');
    expect(error).toMatchObject({ type: 'error', code: 'REGISTRY_UNAVAILABLE', message: expect.stringMatching(/failed: ECONNREFUSED/) });
    expect(push.pushes).toHaveLength(1);
  });

  it('answers a malformed frame to its sender with the reason', async () => {
    await transport(frame('sender-y', '%%%', 'binary'));
    expect(push.jsonTo('sender-y')).toEqual([{ type: 'error', code: 'MALFORMED_EVENT', message: expect.stringMatching(/base64/) }]);
    expect(await transport({ nothing: true })).toMatchObject({ errNo: 102 });
  });

  it('fails loudly, naming it, when the push address is not configured', async () => {
    const back = useEnv({ url: undefined });
    try {
      await expect(transport(frame('s', 'x'))).rejects.toThrow(/missing environment variable url/);
    } finally {
      back();
    }
  });
});
