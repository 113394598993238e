import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRegistryConfig } from '../../functions/lib/config';
import { ConnectionRegistry, keyForConnection } from '../../functions/lib/registry';
import { startCos, type CosFixture } from '../support/cos-fixture';
import { fakeConnectionId, populate } from '../support/populate';

describe('ConnectionRegistry against the local COS store', () => {
  let cos: CosFixture;
  let registry: ConnectionRegistry;
  beforeAll(async () => {
    cos = await startCos();
    registry = new ConnectionRegistry(readRegistryConfig(cos.env));
  });
  afterAll(() => cos.stop());

  it('lists every connection across pages: 0, 1, 1000, 1001 and 2500', async () => {
    const all = new Set<string>();
    expect(await registry.list()).toEqual([]);
    for (const [add, expected] of [
      [1, 1],
      [999, 1000],
      [1, 1001],
      [1499, 2500],
    ] as const) {
      for (const id of await populate(registry, add)) all.add(id);
      const listed = await registry.list();
      expect(listed).toHaveLength(expected);
      expect(new Set(listed)).toEqual(all);
    }
  });

  it('stores the record under a key without folders and removes it, twice without error', async () => {
    const id = 'ab+/cd==ef+/gh==ij+/kl==mn+/op==';
    await registry.add({ id, connectedAt: '2026-01-01T00:00:00.000Z', sourceIp: '10.0.0.1', protocol: 'chat' });
    const object = await cos.cos.getObject({ Bucket: cos.bucket, Region: cos.env.region, Key: keyForConnection(id) });
    expect(JSON.parse(object.Body.toString())).toEqual({ id, connectedAt: '2026-01-01T00:00:00.000Z', sourceIp: '10.0.0.1', protocol: 'chat' });
    const listing = await cos.cos.getBucket({ Bucket: cos.bucket, Region: cos.env.region, Delimiter: '/' });
    expect(listing.CommonPrefixes ?? []).toEqual([]);
    await registry.remove(id);
    await registry.remove(id);
    expect(await registry.list()).not.toContain(id);
  });

  it('removes many ids at once, including ones already gone', async () => {
    const ids = await populate(registry, 30);
    const removed = await registry.removeMany([...ids, fakeConnectionId()]);
    expect(removed).toBe(31);
    const left = new Set(await registry.list());
    expect(ids.some((id) => left.has(id))).toBe(false);
  });

  it('lists each record with its last write time, and refresh rewrites only an existing record, content unchanged', async () => {
    const id = fakeConnectionId();
    const record = { id, connectedAt: '2026-01-01T00:00:00.000Z', sourceIp: '10.0.0.2', protocol: 'chat' };
    await registry.add(record);
    const before = (await registry.entries()).find((e) => e.id === id)!;
    expect(Number.isFinite(before.lastModified)).toBe(true);
    // Wait for the clock to move past the write so that the rewrite can be told apart.
    while (Date.now() <= before.lastModified + 5) await new Promise((r) => setTimeout(r, 5));
    expect(await registry.refresh(id)).toBe(true);
    const after = (await registry.entries()).find((e) => e.id === id)!;
    expect(after.lastModified).toBeGreaterThan(before.lastModified);
    const object = await cos.cos.getObject({ Bucket: cos.bucket, Region: cos.env.region, Key: keyForConnection(id) });
    expect(JSON.parse(object.Body.toString())).toEqual(record);

    await registry.remove(id);
    expect(await registry.refresh(id)).toBe(false);
    expect(await registry.list()).not.toContain(id);
  });

  it('pages by the last key when a store leaves NextMarker out', async () => {
    // A real proxy in front of the store drops NextMarker, as S3-style listings do.
    const upstream = new URL(cos.server.endpoint);
    const proxy = http.createServer((req, res) => {
      const up = http.request({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers }, (upRes) => {
        const chunks: Buffer[] = [];
        upRes.on('data', (c: Buffer) => chunks.push(c));
        upRes.on('end', () => {
          const body = Buffer.from(
            Buffer.concat(chunks)
              .toString('utf8')
              .replace(/<NextMarker>[^<]*<\/NextMarker>/g, ''),
          );
          const headers = { ...upRes.headers, 'content-length': String(body.length) };
          res.writeHead(upRes.statusCode ?? 502, headers).end(body);
        });
      });
      req.pipe(up);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const port = (proxy.address() as AddressInfo).port;
    try {
      const viaProxy = new ConnectionRegistry(readRegistryConfig({ ...cos.env, LOCAL_COS_DOMAIN: `http://127.0.0.1:${port}/{Bucket}` }));
      const direct = await registry.list();
      expect(direct.length).toBeGreaterThan(1000);
      expect((await viaProxy.list()).sort()).toEqual(direct.sort());
    } finally {
      proxy.closeAllConnections();
      proxy.close();
    }
  });
});
