import { describe, expect, it } from 'vitest';
import { ApiCatalog } from '../../local/gateway/catalog';
import { fitReason } from '../../local/gateway/connection';
import { readRegisterAnswer } from '../../local/gateway/events';
import { describeLimits, resolveLimits } from '../../local/gateway/limits';
import type { ApiDef } from '../../local/gateway/model';
import { parsePush } from '../../local/gateway/push-endpoint';
import { TableInvoker } from '../../local/gateway/table-invoker';
import { TokenBucket } from '../../local/gateway/token-bucket';

function api(overrides: Partial<ApiDef> = {}): ApiDef {
  return {
    serviceId: 's1',
    apiId: 'a1',
    apiName: 'ws',
    path: '/',
    method: 'GET',
    protocol: 'WEBSOCKET',
    serviceType: 'SCF',
    serviceTimeout: 600,
    register: TableInvoker.ref('register'),
    ...overrides,
  };
}

describe('TokenBucket', () => {
  it('allows a burst of one second, then the rate; a cost over the capacity passes only when full', () => {
    let now = 0;
    const bucket = new TokenBucket(10, 10, () => now);
    for (let i = 0; i < 10; i++) expect(bucket.tryTake(1)).toBe(true);
    expect(bucket.tryTake(1)).toBe(false);
    expect(bucket.waitMs(1)).toBe(100);
    now += 100;
    expect(bucket.tryTake(1)).toBe(true);
    now += 10_000;
    expect(bucket.tokens).toBe(10);

    const bytes = new TokenBucket(100, 100, () => now);
    expect(bytes.tryTake(250)).toBe(true);
    expect(bytes.tokens).toBe(-150);
    expect(bytes.waitMs(1)).toBe(1510);
    expect(bytes.waitMs(250)).toBe(2500);
  });
});

describe('limits', () => {
  it('defaults to the documented limits and checks ranges', () => {
    expect(resolveLimits()).toEqual({
      maxMessageBytes: 262144,
      messagesPerSecond: 10,
      bytesPerSecond: 131072,
      rateLimitAction: 'close',
      rateLimits: true,
      maxQueuedFrames: 100,
      maxBufferedBytes: 4 * 1024 * 1024,
      maxPushBytesInFlight: 32 * 1024 * 1024,
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      maxConnectionSeconds: 7200,
    });
    expect(resolveLimits({ idleTimeoutSeconds: 30, messagesPerSecond: undefined }).messagesPerSecond).toBe(10);
    expect(() => resolveLimits({ idleTimeoutSeconds: 5 })).toThrow(expect.objectContaining({ code: 'InvalidParameterValue.Limits' }));
    expect(() => resolveLimits({ idleTimeoutSeconds: 7201 })).toThrow(/10-7200/);
    expect(resolveLimits({ idleTimeoutSeconds: 1 }, 0.1).idleTimeoutSeconds).toBe(1);
    expect(() => resolveLimits({ rateLimitAction: 'drop' as never })).toThrow(/"close" or "throttle"/);
    expect(() => resolveLimits({ maxMessageBytes: 0 })).toThrow(/maxMessageBytes/);
    expect(() => resolveLimits({ maxBufferedBytes: 1000 })).toThrow(/maxBufferedBytes must be at least maxMessageBytes \(262144\)/);
    expect(() => resolveLimits({ headersTimeoutMs: 40_000 })).toThrow(/headersTimeoutMs \(40000\) must not exceed limits.requestTimeoutMs \(30000\)/);
    expect(() => resolveLimits({ requestTimeoutMs: -1 })).toThrow(/requestTimeoutMs must be a positive integer/);
    expect(() => resolveLimits({ rateLimits: 'off' as never })).toThrow(/rateLimits must be true or false/);
  });

  it('describes the limits in force on one line', () => {
    expect(describeLimits(resolveLimits(), 600)).toBe(
      '256 KB per message (close 1009); 10 msg/s and 128 KB/s per connection (close 1008); 4 MB unread per connection (close 1008); idle 600 s; max 7200 s',
    );
    expect(describeLimits(resolveLimits({ rateLimits: false, idleTimeoutSeconds: 30 }), 600)).toBe(
      '256 KB per message (close 1009); no rate limits; 4 MB unread per connection (close 1008); idle 30 s; max 7200 s',
    );
    expect(describeLimits(resolveLimits({ rateLimitAction: 'throttle', maxMessageBytes: 1000 }))).toBe(
      "1000 bytes per message (close 1009); 10 msg/s and 128 KB/s per connection (throttled; close 1008 past 100 waiting); 4 MB unread per connection (close 1008); idle: the API's timeout; max 7200 s",
    );
  });
});

describe('ApiCatalog', () => {
  it('checks definitions and names the field', () => {
    const catalog = new ApiCatalog(10);
    expect(() => catalog.createApi(api())).toThrow(expect.objectContaining({ code: 'ResourceNotFound.InvalidService' }));
    catalog.createService({ serviceId: 's1', serviceName: 'one' });
    expect(() => catalog.createService({ serviceId: 's1', serviceName: 'again' })).toThrow(expect.objectContaining({ code: 'ResourceInUse.AlreadyExists' }));
    expect(() => catalog.createApi(api({ path: 'chat' }))).toThrow(/path must be an absolute URL path/);
    expect(() => catalog.createApi(api({ protocol: 'HTTP' as never }))).toThrow(/protocol must be "WEBSOCKET"/);
    expect(() => catalog.createApi(api({ serviceTimeout: 5 }))).toThrow(/serviceTimeout .* must be 10-7200 seconds/);
    expect(() => catalog.createApi(api({ transport: { name: 'x', namespace: '', qualifier: '$LATEST' } }))).toThrow(/transport.namespace/);
    catalog.createApi(api());
    expect(() => catalog.createApi(api({ apiId: 'a2' }))).toThrow(/already has API a1 on GET \//);
    expect(() => catalog.createApi(api({ apiId: 'api-a1', path: '/x' }))).toThrow(/share the push address \/api-a1/);
    expect(() => catalog.release('s1', 'production')).toThrow(/release, prepub, test/);
    expect(() => catalog.modifyApi('a1', api({ serviceId: 's2' }))).toThrow(/cannot move/);
  });

  it('serves a snapshot: drafts change nothing until released', () => {
    const catalog = new ApiCatalog(10);
    catalog.createService({ serviceId: 's1', serviceName: 'one' });
    catalog.createApi(api());
    expect(catalog.route('/release')).toBeUndefined();
    catalog.release('s1', 'release');
    expect(catalog.route('/release/')?.api.register?.name).toBe('register');
    catalog.modifyApi('a1', api({ path: '/v2', register: TableInvoker.ref('register2') }));
    expect(catalog.route('/release')?.api.register?.name).toBe('register');
    expect(catalog.draft('a1')?.path).toBe('/v2');
    catalog.release('s1', 'release');
    expect(catalog.route('/release')).toBeUndefined();
    expect(catalog.route('/release/v2/')?.api.register?.name).toBe('register2');
    expect(catalog.released('s1', 'release', 'a1')?.path).toBe('/v2');
    expect(catalog.pathFor('s1', 'test')).toBe('/v2');
  });
});

describe('TableInvoker', () => {
  it('runs handlers by name or namespace/name on JSON copies, and reports not-found, errors and timeouts', async () => {
    const event = { websocket: { n: 1 } };
    const invoker = new TableInvoker({
      echo: (e, context) => {
        e.websocket.n = 2;
        return { got: e, fn: context.function_name, request: context.request_id };
      },
      'other/echo': () => 'namespaced',
      fail: () => Promise.reject(new TypeError('bad')),
      slow: { handler: () => new Promise((r) => setTimeout(r, 500)), timeoutMs: 50 },
      nothing: () => undefined,
    });
    expect(await invoker.invoke(TableInvoker.ref('echo'), event, { requestId: 'r1' })).toMatchObject({
      ok: true,
      value: { got: { websocket: { n: 2 } }, fn: 'echo', request: 'r1' },
    });
    expect(event.websocket.n).toBe(1);
    expect(invoker.eventsOf('echo')).toEqual([{ websocket: { n: 1 } }]);
    expect(await invoker.invoke(TableInvoker.ref('echo', 'other'), {})).toMatchObject({ ok: true, value: 'namespaced' });
    expect(await invoker.invoke(TableInvoker.ref('echo', 'third'), {})).toMatchObject({
      ok: false,
      kind: 'not-found',
      message: 'function third/echo not found',
    });
    expect(await invoker.invoke(TableInvoker.ref('fail'), {})).toMatchObject({ ok: false, kind: 'error', message: 'TypeError: bad' });
    expect(await invoker.invoke(TableInvoker.ref('slow'), {})).toMatchObject({ ok: false, kind: 'timeout' });
    expect(await invoker.invoke(TableInvoker.ref('nothing'), {})).toMatchObject({ ok: true, value: null });
    await expect(invoker.waitForCalls('echo', 3, 50)).rejects.toThrow(/saw 1/);
  });
});

describe('push bodies', () => {
  it('parses the two actions and says what is wrong otherwise', () => {
    const parse = (v: unknown) => parsePush(Buffer.from(JSON.stringify(v)));
    expect(parse({ websocket: { action: 'closing', secConnectionID: 'x' } })).toEqual({ action: 'closing', id: 'x' });
    expect(parse({ websocket: { action: 'data send', secConnectionID: 'x', dataType: 'binary', data: 'AAE=' } })).toEqual({
      action: 'data send',
      id: 'x',
      binary: true,
      data: 'AAE=',
    });
    expect(parse({ websocket: { action: 'data send', secConnectionID: 'x', dataType: 'binary', data: 'AA=E' } })).toBe('websocket.data is not valid base64');
    expect(parse({ websocket: { action: 'closing', secConnectionID: 3 } })).toBe('missing websocket.secConnectionID');
  });
});

describe('register answers', () => {
  const ok = (value: unknown) => ({ ok: true as const, value, durationMs: 1 });
  it('maps answers and failures to accept, 403, 502 and 504', () => {
    expect(readRegisterAnswer(ok({ errNo: 0, errMsg: 'ok' }), ['chat'], 'r')).toEqual({ accept: true });
    expect(readRegisterAnswer(ok({ errNo: 0, websocket: { secWebSocketProtocol: 'chat' } }), ['chat'], 'r')).toEqual({ accept: true, protocol: 'chat' });
    expect(readRegisterAnswer(ok({ errNo: 104, errMsg: 'no chat' }), [], 'r')).toEqual({ accept: false, status: 403, reason: 'no chat', errNo: 104 });
    expect(readRegisterAnswer(ok({ errNo: 1 }), [], 'r')).toMatchObject({ status: 403, reason: 'refused by register (errNo 1)' });
    expect(readRegisterAnswer(ok('yes'), [], 'r')).toMatchObject({ status: 502 });
    expect(readRegisterAnswer(ok({ errNo: 0, websocket: { secWebSocketProtocol: 'chat,x' } }), ['chat', 'x'], 'r')).toMatchObject({ status: 502 });
    expect(readRegisterAnswer({ ok: false, kind: 'timeout', message: 't', durationMs: 1 }, [], 'r')).toMatchObject({ status: 504 });
    expect(readRegisterAnswer({ ok: false, kind: 'crash', message: 'c', durationMs: 1 }, [], 'r')).toMatchObject({ status: 502 });
  });
});

describe('close reasons', () => {
  it('fit in 123 bytes without splitting a character', () => {
    expect(fitReason('short')).toBe('short');
    const cut = fitReason('é'.repeat(100));
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(123);
    expect(cut.endsWith('…')).toBe(true);
    expect(cut).not.toContain('\uFFFD');
  });
});
