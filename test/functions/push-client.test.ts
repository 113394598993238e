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

  it('reports a non-200 answer as gone: the gateway is closing that client', async () => {
    recorder.failing.add('closing-one');
    const client = new PushClient({ url: recorder.url, concurrency: 4, timeoutMs: 2000 });
    expect(await client.send('closing-one', { dataType: 'text', data: 'x' })).toEqual({
      id: 'closing-one',
      status: 'gone',
      httpStatus: 500,
      error: expect.stringMatching(/^push answered HTTP 500: /),
    });
  });

  it('reports HTTP 200 with a non-zero errNo as refused, not as gone, with the errNo and errMsg', async () => {
    recorder.gone.add('stale');
    const client = new PushClient({ url: recorder.url, concurrency: 4, timeoutMs: 2000 });
    expect(await client.send('stale', { dataType: 'text', data: 'x' })).toEqual({ id: 'stale', status: 'refused', errNo: 1, errMsg: 'connection not found' });
    expect(await client.closeAll(['stale', 'live'])).toEqual([
      { id: 'stale', status: 'refused', errNo: 1, errMsg: 'connection not found' },
      { id: 'live', status: 'delivered' },
    ]);
    expect(recorder.pushes.slice(1)).toEqual([
      { action: 'closing', secConnectionID: 'stale' },
      { action: 'closing', secConnectionID: 'live' },
    ]);
  });

  it('quotes answers with the id shortened, as logs show it', async () => {
    const id = 'Zm9vYmFyYmF6cXV4cXV1eA==abcdefgh';
    const echo = http.createServer((req, res) => {
      req.resume();
      req.on('end', () =>
        req.url === '/500'
          ? res.writeHead(503).end(`no route for ${id}`)
          : res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ errNo: 2, errMsg: `connection ${id} is unknown` })),
      );
    });
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    const port = (echo.address() as AddressInfo).port;
    try {
      const refused = await new PushClient({ url: `http://127.0.0.1:${port}/x`, concurrency: 1, timeoutMs: 1000 }).send(id, { dataType: 'text', data: 'x' });
      expect(refused).toEqual({ id, status: 'refused', errNo: 2, errMsg: 'connection Zm9vYm… is unknown' });
      const gone = await new PushClient({ url: `http://127.0.0.1:${port}/500`, concurrency: 1, timeoutMs: 1000 }).send(id, { dataType: 'text', data: 'x' });
      expect(gone).toMatchObject({ status: 'gone', httpStatus: 503, error: 'push answered HTTP 503: no route for Zm9vYm…' });
    } finally {
      echo.closeAllConnections();
      echo.close();
    }
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

  it('fails cleanly on a refused connection and a body that is not JSON', async () => {
    const closed = new PushClient({ url: 'http://127.0.0.1:1/api-x', concurrency: 1, timeoutMs: 1000 });
    expect((await closed.send('a', { dataType: 'text', data: 'x' })).status).toBe('failed');

    const odd = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200).end('<html>'));
    });
    await new Promise<void>((r) => odd.listen(0, '127.0.0.1', r));
    const port = (odd.address() as AddressInfo).port;
    const html = await new PushClient({ url: `http://127.0.0.1:${port}/html`, concurrency: 1, timeoutMs: 1000 }).send('a', { dataType: 'text', data: 'x' });
    expect(html).toMatchObject({ status: 'failed', error: expect.stringMatching(/not JSON/) });
    odd.closeAllConnections();
    odd.close();
  });
});
