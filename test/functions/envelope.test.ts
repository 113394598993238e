import { describe, expect, it } from 'vitest';
import { MAX_PUSH_BYTES, deliveredSize, envelopeFrame, readIncoming, shortId } from '../../functions/lib/envelope';
import { connectionForKey, keyForConnection, KEY_PREFIX } from '../../functions/lib/registry';

describe('readIncoming', () => {
  it('reads a JSON chat message, plain text and binary', () => {
    expect(readIncoming({ dataType: 'text', data: '{"type":"message","text":"hi"}' })).toEqual({ kind: 'text', text: 'hi' });
    expect(readIncoming({ dataType: 'text', data: 'just words' })).toEqual({ kind: 'text', text: 'just words' });
    expect(readIncoming({ dataType: 'binary', data: 'AAEC' })).toEqual({ kind: 'binary', base64: 'AAEC' });
  });

  it('treats JSON that is not a chat message, and broken JSON, as the text itself', () => {
    for (const data of ['{"type":"other","text":"x"}', '{"type":"message","text":5}', '{"type":"message"', '[1,2]', 'null']) {
      expect(readIncoming({ dataType: 'text', data })).toEqual({ kind: 'text', text: data });
    }
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
    expect(deliveredSize(envelopeFrame({ type: 'ack', online: 2, delivered: 1 }))).toBe('{"type":"ack","online":2,"delivered":1}'.length);
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
