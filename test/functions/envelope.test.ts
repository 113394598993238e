import { describe, expect, it } from 'vitest';
import { messageText, relayed, shortId } from '../../functions/chat/protocol';
import { MAX_PUSH_BYTES } from '../../functions/lib/limits';
import { deliveredSize, frameOf } from '../../functions/toolkit/context';
import { connectionForKey, keyForConnection, KEY_PREFIX } from '../../functions/lib/registry';

describe('chat messages', () => {
  it('reads a JSON chat message and plain text; binary stays binary', () => {
    expect(messageText('{"type":"message","text":"hi"}')).toBe('hi');
    expect(messageText('just words')).toBe('just words');
    const bytes = Buffer.from([0, 1, 2]);
    expect(relayed({ type: 'binary', data: bytes }, 'id', 2)).toBe(bytes);
    expect(relayed({ type: 'text', text: '{"type":"message","text":"hi"}' }, 'id', 2)).toEqual({
      type: 'message',
      from: shortId('id'),
      text: 'hi',
      online: 2,
      sentAt: expect.any(String),
    });
  });

  it('treats JSON that is not a chat message, and broken JSON, as the text itself', () => {
    for (const data of ['{"type":"other","text":"x"}', '{"type":"message","text":5}', '{"type":"message"', '[1,2]', 'null']) {
      expect(messageText(data)).toBe(data);
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
