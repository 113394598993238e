/**
 * A room's history in COS: ids in time order, keys newest first, reads after `since`, and trims.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRegistryConfig } from '../../functions/lib/config';
import { listObjects } from '../../functions/lib/cos-listing';
import { checkedSince, historyKey, HISTORY_PREFIX, mirrored, newMessageId, RoomHistory, timeOfId } from '../../functions/lib/history';
import { startCos, type CosFixture } from '../support/cos-fixture';

describe('message ids', () => {
  it('sort in the order they were made, within one ms and across ms', () => {
    const now = Date.now();
    const ids = [newMessageId(now), newMessageId(now), newMessageId(now), newMessageId(now + 1), newMessageId(now + 1000)];
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[0-9a-z]{18}$/);
    expect(timeOfId(ids[4]!)).toBe(now + 1000);
  });

  it('keep their order when the clock steps back', () => {
    const now = Date.now() + 10_000;
    const first = newMessageId(now);
    expect(newMessageId(now - 5_000) > first).toBe(true);
  });

  it('mirror into keys that sort newest first', () => {
    const ids = Array.from({ length: 50 }, (_, i) => newMessageId(Date.now() + 20_000 + i * 7));
    const keys = ids.map((id) => historyKey('r', id));
    expect([...keys].sort()).toEqual([...keys].reverse());
    expect(mirrored(mirrored(ids[0]!))).toBe(ids[0]);
  });

  it('refuses a since that is not an id', () => {
    for (const bad of ['', 'abc', 'Z'.repeat(18), 7, null, '0'.repeat(19)])
      expect(() => checkedSince(bad)).toThrow(expect.objectContaining({ code: 'BAD_SINCE' }));
    expect(checkedSince('0mx4mgstn0007kcp7x')).toBe('0mx4mgstn0007kcp7x');
  });
});

describe('room history', () => {
  let cos: CosFixture;
  let history: RoomHistory;
  beforeAll(async () => {
    cos = await startCos();
    history = new RoomHistory(readRegistryConfig(cos.env));
  });
  afterAll(() => cos.stop());

  it('reads the last N oldest first, and after `since` exactly those that followed it', async () => {
    const said = [];
    for (let i = 0; i < 12; i++) said.push(await history.append('r1', { n: i }));
    await history.append('r2', { other: true });
    expect((await history.read('r1', { limit: 100 })).map((e) => e.data)).toEqual(said.map((e) => e.data));
    expect((await history.read('r1', { limit: 5 })).map((e) => e.data)).toEqual(said.slice(7).map((e) => e.data));
    expect(await history.read('r1', { limit: 100, since: said[8]!.id })).toEqual(said.slice(9));
    expect(await history.read('r1', { limit: 100, since: said[11]!.id })).toEqual([]);
    // Older than what is kept: all that is kept.
    expect(await history.read('r1', { limit: 3, since: said[0]!.id })).toEqual(said.slice(9));
    expect(await history.read('empty', { limit: 100 })).toEqual([]);
  });

  it('trims a room to its newest N, leaving other rooms alone', async () => {
    const kept = [];
    for (let i = 0; i < 8; i++) kept.push(await history.append('t1', i));
    await history.append('t2', 'x');
    expect(await history.trim('t1', 3)).toBe(5);
    expect((await history.read('t1', { limit: 100 })).map((e) => e.data)).toEqual([5, 6, 7]);
    expect(await listObjects(cos.cos, { bucket: cos.bucket, region: cos.env.region }, `${HISTORY_PREFIX}t2/`)).toHaveLength(1);
    expect(await history.trim('t1', 3)).toBe(0);
  });
});
