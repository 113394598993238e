/**
 * The keys rooms are kept under: a listing must tell who each member is, and any id or name must
 * fit COS's 850-byte keys and round-trip.
 */
import { describe, expect, it } from 'vitest';
import { checkedRoom, memberKey, memberOfKey, membershipOfKey, roomKey, userKey } from '../../functions/lib/rooms';
import { decodeUser, encodeUser, guestOf, MAX_NAME_CHARS, nameProblem } from '../../functions/lib/users';
import { fakeConnectionId } from '../support/populate';

describe('room keys', () => {
  it('round-trip the connection and the user, at the longest room, id and name', () => {
    const connectionId = fakeConnectionId();
    const user = { id: 'u'.repeat(64), name: '😀'.repeat(MAX_NAME_CHARS), verified: true };
    const room = 'R'.repeat(64);
    const key = roomKey(room, connectionId, user);
    expect(Buffer.byteLength(key)).toBeLessThanOrEqual(850);
    expect(memberOfKey(key, 5)).toEqual({ connectionId, user, lastModified: 5, key });
    for (const explicit of [true, false]) {
      const member = memberKey(connectionId, { room, explicit, user });
      expect(Buffer.byteLength(member)).toBeLessThanOrEqual(850);
      expect(membershipOfKey(member)).toEqual({ room, explicit, user });
    }
    expect(Buffer.byteLength(userKey(user.id, connectionId))).toBeLessThanOrEqual(850);
  });

  it('keep rooms apart whose names are prefixes of each other', () => {
    const id = fakeConnectionId();
    expect(roomKey('r1', id, guestOf(id)).startsWith('room/r1/')).toBe(true);
    expect(roomKey('r10', id, guestOf(id)).startsWith('room/r1/')).toBe(false);
  });

  it('ignore keys that are not theirs', () => {
    expect(memberOfKey('room/r1/')).toBeUndefined();
    expect(memberOfKey('room/r1/abc')).toBeUndefined();
    expect(memberOfKey('room/r1/abc.!!')).toBeUndefined();
    expect(membershipOfKey('member/abc/r1/x.abc')).toBeUndefined();
    expect(decodeUser(Buffer.from('{"not":"a user"}').toString('base64url'))).toBeUndefined();
  });

  it('take room names of 1-64 letters, digits, _ and -', () => {
    for (const ok of ['a', 'lobby', 'Room_1-b', 'x'.repeat(64)]) expect(checkedRoom(ok)).toBe(ok);
    for (const bad of ['', 'a b', 'x'.repeat(65), 'a/b', 'a.b', '<b>', 7, null])
      expect(() => checkedRoom(bad)).toThrow(expect.objectContaining({ code: 'BAD_ROOM' }));
  });

  it('pack a user compactly and exactly', () => {
    const user = { id: 'a:b@c', name: 'Ann "A" <i>', verified: false };
    expect(decodeUser(encodeUser(user))).toEqual(user);
    expect(nameProblem('ok')).toBeUndefined();
    expect(nameProblem('\u2028')).toBeDefined();
  });
});
