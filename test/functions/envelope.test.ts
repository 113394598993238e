import { describe, expect, it } from 'vitest';
import { LOBBY, messageEnvelope, parseRequest } from '../../functions/chat/protocol';
import { guestOf, shortId } from '../../functions/lib/users';
import { MAX_PUSH_BYTES } from '../../functions/lib/limits';
import { deliveredSize, frameOf } from '../../functions/toolkit/context';
import { connectionForKey, keyForConnection, KEY_PREFIX } from '../../functions/lib/registry';

describe('chat requests', () => {
  it('reads the requests of the protocol, and a JSON message or plain text as a message to the lobby', () => {
    expect(parseRequest('{"type":"message","text":"hi"}')).toEqual({ type: 'message', room: LOBBY, text: 'hi' });
    expect(parseRequest('{"type":"message","room":"r1","text":"hi"}')).toEqual({ type: 'message', room: 'r1', text: 'hi' });
    expect(parseRequest('just words')).toEqual({ type: 'message', room: LOBBY, text: 'just words' });
    expect(parseRequest('{"type":"join","room":"r1"}')).toEqual({ type: 'join', room: 'r1' });
    expect(parseRequest('{"type":"join","room":"r1","since":"0mx4mgstn0007kcp7x"}')).toEqual({ type: 'join', room: 'r1', since: '0mx4mgstn0007kcp7x' });
    expect(parseRequest('{"type":"leave","room":"r1"}')).toEqual({ type: 'leave', room: 'r1' });
    expect(parseRequest('{"type":"profile","name":"Ann"}')).toEqual({ type: 'profile', name: 'Ann' });
    expect(parseRequest('{"type":"direct","to":"u1","text":"psst"}')).toEqual({ type: 'direct', to: 'u1', text: 'psst' });
  });

  it('treats JSON of no known type, and broken JSON, as the text itself', () => {
    for (const data of ['{"type":"other","text":"x"}', '{"type":"message","text":5}', '{"type":"message"', '[1,2]', 'null']) {
      expect(parseRequest(data)).toEqual({ type: 'message', room: LOBBY, text: data });
    }
  });

  it('refuses a known request with a missing or mistyped field, naming it', () => {
    for (const [data, field] of [
      ['{"type":"join"}', 'room'],
      ['{"type":"join","room":5}', 'room'],
      ['{"type":"join","room":"r","since":7}', 'since'],
      ['{"type":"leave"}', 'room'],
      ['{"type":"message","room":1,"text":"x"}', 'room'],
      ['{"type":"profile","name":null}', 'name'],
      ['{"type":"direct","to":"u"}', 'text'],
    ] as const) {
      expect(() => parseRequest(data), data).toThrow(expect.objectContaining({ code: 'BAD_REQUEST', message: expect.stringContaining(`"${field}"`) }));
    }
  });

  it('shapes a kept message as the others receive it, with `online` only when given', () => {
    const from = guestOf('id');
    const entry = { id: '0mx4mgstn0007kcp7x', at: '2026-12-01T00:00:00.000Z', data: { from, text: 'hi' } };
    expect(messageEnvelope('r1', entry, 3)).toEqual({ type: 'message', id: entry.id, room: 'r1', from, text: 'hi', online: 3, sentAt: entry.at });
    expect(messageEnvelope('r1', entry)).toEqual({ type: 'message', id: entry.id, room: 'r1', from, text: 'hi', sentAt: entry.at });
  });
});

describe('envelopes', () => {
  it('gives a short id that is stable, short and not the id itself', () => {
    const id = 'q2Xh4W3+Zb/9YgBfZl1D7w==';
    expect(shortId(id)).toBe(shortId(id));
    expect(shortId(id)).toHaveLength(8);
    expect(shortId(id)).not.toBe(shortId(id + 'x'));
    expect(id).not.toContain(shortId(id));
  });

  it('measures what the client receives: UTF-8 bytes for text, decoded bytes for binary', () => {
    expect(deliveredSize({ dataType: 'text', data: 'é' })).toBe(2);
    expect(deliveredSize({ dataType: 'binary', data: Buffer.alloc(300).toString('base64') })).toBe(300);
    expect(deliveredSize(frameOf({ type: 'ack', online: 2, delivered: 1 }))).toBe('{"type":"ack","online":2,"delivered":1}'.length);
    expect(frameOf(Buffer.from([1, 2, 3]))).toEqual({ dataType: 'binary', data: 'AQID' });
    expect(frameOf(new Uint8Array([1, 2, 3]).subarray(1))).toEqual({ dataType: 'binary', data: 'AgM=' });
    expect(frameOf('text')).toEqual({ dataType: 'text', data: 'text' });
    expect(MAX_PUSH_BYTES).toBe(262144);
  });
});

describe('registry keys', () => {
  it('round-trips ids with + / = and never creates folders', () => {
    const ids = ['q2Xh4W3+Zb/9YgBfZl1D7w==', '////', '+', '=', 'ünïcødé', 'a'.repeat(64), 'conn.x'];
    for (const id of ids) {
      const key = keyForConnection(id);
      expect(key.startsWith(KEY_PREFIX)).toBe(true);
      expect(key).not.toMatch(/[/+=]/);
      expect(connectionForKey(key)).toBe(id);
    }
    expect(new Set(ids.map(keyForConnection)).size).toBe(ids.length);
  });

  it('ignores keys that are not connection keys', () => {
    expect(connectionForKey('other/thing')).toBeUndefined();
    expect(connectionForKey(`${KEY_PREFIX}not+base64url`)).toBeUndefined();
  });
});
