/**
 * The app store against the real local COS store: values round-trip as stored, keys list in order
 * across pages, and nothing is written outside `app/`, where the registry's expiry rule never looks.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readRegistryConfig } from '../../functions/lib/config';
import { ConnectionRegistry, keyForConnection } from '../../functions/lib/registry';
import { CosStore, STORE_PREFIX, storeFor } from '../../functions/lib/store';
import { startCos, type CosFixture } from '../support/cos-fixture';
import { fakeConnectionId } from '../support/populate';

describe('app store', () => {
  let cos: CosFixture;
  let store: CosStore;

  beforeAll(async () => {
    cos = await startCos();
    store = new CosStore(readRegistryConfig(cos.env));
  });
  afterAll(async () => {
    await cos.stop();
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

  it('writes under app/ only, beside the registry, which it neither lists nor touches', async () => {
    const registry = new ConnectionRegistry(readRegistryConfig(cos.env));
    const id = fakeConnectionId();
    await registry.add({ id, connectedAt: new Date().toISOString() });
    await store.put('strokes/1', 'x');
    const listed = await cos.cos.getBucket({ Bucket: cos.bucket, Region: 'ap-guangzhou' });
    expect(listed.Contents.map((c) => c.Key).sort()).toEqual([`${STORE_PREFIX}strokes/1`, keyForConnection(id)].sort());
    expect((await store.list()).map((e) => e.key)).toEqual(['strokes/1']);
    await store.deleteMany(['strokes/1']);
    expect(await registry.list()).toEqual([id]);
    await registry.remove(id);
  });

  it('lists by prefix in key order across pages, from a key on and up to a limit', async () => {
    // 1,005 keys: more than one listing page of 1,000.
    const keys = Array.from({ length: 1005 }, (_, i) => `p/${String(i).padStart(5, '0')}`);
    for (let i = 0; i < keys.length; i += 50) await Promise.all(keys.slice(i, i + 50).map((k) => store.put(k, k)));
    await store.put('q/other', 'x');
    const all = await store.list('p/');
    expect(all.map((e) => e.key)).toEqual(keys);
    expect(all[0]).toMatchObject({ size: 7, lastModified: expect.any(Number) });
    expect((await store.list('p/', { limit: 3 })).map((e) => e.key)).toEqual(keys.slice(0, 3));
    expect((await store.list('p/', { after: keys[999], limit: 1000 })).map((e) => e.key)).toEqual(keys.slice(1000));
    expect(await store.list('p/', { limit: 0 })).toEqual([]);
    expect(await store.deleteMany([...keys, 'q/other'])).toBe(1006);
    expect(await store.list()).toEqual([]);
  }, 60_000);

  it('deletes a missing key without complaint', async () => {
    await store.put('k', 'v');
    await store.delete('k');
    await store.delete('k');
    expect(await store.get('k')).toBeUndefined();
  });

  it('refuses keys COS would rewrite or that cannot be stored, with INVALID_KEY', async () => {
    for (const key of ['', 'a/../b', '..', 'line\nbreak', 'x'.repeat(847)]) {
      await expect(store.put(key, 'v'), JSON.stringify(key).slice(0, 20)).rejects.toMatchObject({ code: 'INVALID_KEY' });
    }
    await expect(store.list('', { after: '' })).rejects.toMatchObject({ code: 'INVALID_KEY' });
    // The longest key that fits.
    await store.put('x'.repeat(846), 'v');
    expect((await store.list()).map((e) => e.key.length)).toEqual([846]);
  });

  it('says STORE_UNAVAILABLE when COS refuses, naming what failed', async () => {
    const wrong = new CosStore({ ...readRegistryConfig(cos.env), credentials: { secretId: 'AKIDwrong', secretKey: 'wrong' } });
    await expect(wrong.put('k', 'v')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE', message: expect.stringContaining('app store: write of "k" failed') });
    await expect(wrong.list()).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
  });

  it('reuses one client per configuration', () => {
    const config = readRegistryConfig(cos.env);
    expect(storeFor(config)).toBe(storeFor({ ...config }));
    expect(storeFor(config)).not.toBe(storeFor({ ...config, bucket: 'other-1250000000' }));
  });
});
