import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PushClient } from '../../functions/lib/push-client';
import { PushRecorder } from '../support/push-recorder';

describe('PushClient', () => {
  const recorder = new PushRecorder();
  beforeAll(() => recorder.start());
  afterAll(() => recorder.stop());
  beforeEach(() => recorder.reset());

  it('posts the documented data-send and closing bodies', async () => {
    const client = new PushClient({ url: recorder.url, concurrency: 4, timeoutMs: 2000 });
    expect(await client.send('id+/=', { dataType: 'text', data: 'hi' })).toEqual({ id: 'id+/=', status: 'delivered' });
    expect(await client.close('id+/=')).toEqual({ id: 'id+/=', status: 'delivered' });
    expect(recorder.pushes).toEqual([
      { action: 'data send', secConnectionID: 'id+/=', dataType: 'text', data: 'hi' },
      { action: 'closing', secConnectionID: 'id+/=' },
    ]);
  });

  it('reports ids the gateway answers with a non-zero errNo as gone', async () => {
    recorder.gone.add('stale');
    const client = new PushClient({ url: recorder.url, concurrency: 4, timeoutMs: 2000 });
    expect(await client.send('stale', { dataType: 'text', data: 'x' })).toEqual({ id: 'stale', status: 'gone', errNo: 1, errMsg: 'connection not found' });
  });

  it('keeps at most `concurrency` requests in flight and reuses sockets', async () => {
    recorder.delayMs = 20;
    const client = new PushClient({ url: recorder.url, concurrency: 5, timeoutMs: 2000 });
    const ids = Array.from({ length: 60 }, (_, i) => `c${i}`);
    const outcomes = await client.broadcast(ids, { dataType: 'text', data: 'x' });
    expect(outcomes.map((o) => o.id)).toEqual(ids);
    expect(outcomes.every((o) => o.status === 'delivered')).toBe(true);
    expect(recorder.maxInFlight).toBeLessThanOrEqual(5);
    expect(recorder.maxInFlight).toBeGreaterThan(1);
    expect(recorder.sockets).toBeLessThanOrEqual(5);
  });

  it('fails a request that takes longer than the timeout, without throwing', async () => {
    recorder.delayMs = 1000;
    const client = new PushClient({ url: recorder.url, concurrency: 2, timeoutMs: 100 });
    const outcome = await client.send('slow', { dataType: 'text', data: 'x' });
    expect(outcome.status).toBe('failed');
    expect(outcome.status === 'failed' && outcome.error).toMatch(/timed out after 100 ms/);
  });

  it('fails cleanly on a refused connection, a non-200 answer and a body that is not JSON', async () => {
    const closed = new PushClient({ url: 'http://127.0.0.1:1/api-x', concurrency: 1, timeoutMs: 1000 });
    expect((await closed.send('a', { dataType: 'text', data: 'x' })).status).toBe('failed');

    const odd = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => (req.url === '/500' ? res.writeHead(500).end('boom') : res.writeHead(200).end('<html>')));
    });
    await new Promise<void>((r) => odd.listen(0, '127.0.0.1', r));
    const port = (odd.address() as AddressInfo).port;
    const e500 = await new PushClient({ url: `http://127.0.0.1:${port}/500`, concurrency: 1, timeoutMs: 1000 }).send('a', { dataType: 'text', data: 'x' });
    expect(e500).toMatchObject({ status: 'failed', error: expect.stringMatching(/HTTP 500/) });
    const html = await new PushClient({ url: `http://127.0.0.1:${port}/html`, concurrency: 1, timeoutMs: 1000 }).send('a', { dataType: 'text', data: 'x' });
    expect(html).toMatchObject({ status: 'failed', error: expect.stringMatching(/not JSON/) });
    odd.closeAllConnections();
    odd.close();
  });
});
