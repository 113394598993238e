/**
 * The app store in web mode against a real `redis-server`: the same behaviour as event mode's
 * COS store (test/functions/store.test.ts): values round-trip as stored, keys list in byte order
 * across pages, the same keys are refused.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RedisKeys, RedisStore } from '../../functions/toolkit/web';
import { startRedis, type RedisFixture } from '../support/redis-fixture';

describe('app store over Redis', () => {
  let redis: RedisFixture;
  let client: Redis;
  let store: RedisStore;

  beforeAll(async () => {
    redis = await startRedis();
    client = new Redis({ host: redis.host, port: redis.port });
    store = new RedisStore(client, new RedisKeys('s:'));
  });
  afterAll(async () => {
    client?.disconnect();
    await redis?.stop();
  });
  beforeEach(async () => {
    await store.deleteMany((await store.list()).map((e) => e.key));
  });

  it('keeps strings, bytes and JSON as they are, and says undefined for a missing key', async () => {
    await store.put('t', 'hé');
    await store.put('b', new Uint8Array([0, 255, 7]).subarray(1));
    await store.put('j', { n: 1, list: ['x'] });
    expect((await store.get('t'))!.toString('utf8')).toBe('hé');
    expect(await store.get('b')).toEqual(Buffer.from([255, 7]));
    expect(await store.getJson('j')).toEqual({ n: 1, list: ['x'] });
    expect(await store.get('missing')).toBeUndefined();
    expect(await store.getJson('missing')).toBeUndefined();
    await expect(store.getJson('t')).rejects.toMatchObject({ code: 'INVALID_VALUE' });
  });

  it('writes under its prefix only', async () => {
    await client.set('other', 'x');
    await store.put('strokes/1', 'x');
    expect((await client.keys('*')).sort()).toEqual(['other', 's:app:keys', 's:app:mtimes', 's:app:values']);
    await store.delete('strokes/1');
    expect(await client.keys('*')).toEqual(['other']);
    await client.del('other');
  });

  it('lists by prefix in byte order across pages, from a key on and up to a limit', async () => {
    // 1,005 keys: more than one page of 1,000.
    const keys = Array.from({ length: 1005 }, (_, i) => `p/${String(i).padStart(5, '0')}`);
    for (let i = 0; i < keys.length; i += 100) await Promise.all(keys.slice(i, i + 100).map((k) => store.put(k, k)));
    await store.put('q/other', 'x');
    await store.put('p', 'the prefix itself');
    await store.put('p/é', 'past ASCII');
    const all = await store.list('p/');
    expect(all.map((e) => e.key)).toEqual([...keys, 'p/é']);
    expect(all[0]).toMatchObject({ size: 7, lastModified: expect.any(Number) });
    expect(Number.isNaN(all[0]!.lastModified)).toBe(false);
    expect((await store.list('p/', { limit: 3 })).map((e) => e.key)).toEqual(keys.slice(0, 3));
    expect((await store.list('p/', { after: keys[999], limit: 1000 })).map((e) => e.key)).toEqual([...keys.slice(1000), 'p/é']);
    // `after` before the prefix starts at the prefix.
    expect((await store.list('q/', { after: 'a' })).map((e) => e.key)).toEqual(['q/other']);
    expect(await store.list('p/', { limit: 0 })).toEqual([]);
    expect((await store.list()).length).toBe(1008);
    expect(await store.deleteMany([...keys, 'q/other', 'p', 'p/é'])).toBe(1008);
    expect(await store.list()).toEqual([]);
  }, 60_000);

  it('deletes a missing key without complaint', async () => {
    await store.put('k', 'v');
    await store.delete('k');
    await store.delete('k');
    expect(await store.get('k')).toBeUndefined();
  });

  it('refuses the keys event mode refuses, with INVALID_KEY', async () => {
    for (const key of ['', 'a/../b', '..', 'line\nbreak', 'x'.repeat(847)]) {
      await expect(store.put(key, 'v'), JSON.stringify(key).slice(0, 20)).rejects.toMatchObject({ code: 'INVALID_KEY' });
    }
    await expect(store.list('', { after: '' })).rejects.toMatchObject({ code: 'INVALID_KEY' });
    await store.put('x'.repeat(846), 'v');
    expect((await store.list()).map((e) => e.key.length)).toEqual([846]);
  });

  it('says STORE_UNAVAILABLE when Redis cannot be reached, naming what failed', async () => {
    const away = new Redis({ host: redis.host, port: redis.port, lazyConnect: true, enableOfflineQueue: false });
    const unreachable = new RedisStore(away, new RedisKeys('s:'));
    await expect(unreachable.put('k', 'v')).rejects.toMatchObject({
      code: 'STORE_UNAVAILABLE',
      message: expect.stringMatching(/^app store: write of "k" failed: Redis is unreachable/),
    });
    await expect(unreachable.list()).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    away.disconnect();
  });
});
