import net from 'node:net';
import os from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, type ClientOptions } from 'ws';
import type { Invoker } from '../../local/invoker';
import { LocalGateway, logId, type LocalGatewayOptions } from '../../local/gateway/gateway';
import type { ApiDef } from '../../local/gateway/model';
import { PushErrNo } from '../../local/gateway/push-endpoint';
import { type Handler, TableInvoker } from '../../local/gateway/table-invoker';
import { trickle } from '../support/slow-client';

const SERVICE = 'service-test';
const API = 'api-test';
const ID = /^[A-Za-z0-9+/]{30}[A-Za-z0-9+/=]{2}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Settles as `promise` does, or fails saying what it waited for after `ms`, well before the test timeout. */
function within<T>(promise: Promise<T>, what: string, ms = 10_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Polls until `check` is true; fails with `what` after `timeoutMs`. */
async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

function apiDef(overrides: Partial<ApiDef> = {}): ApiDef {
  return {
    serviceId: SERVICE,
    apiId: API,
    apiName: 'chat_ws',
    path: '/',
    method: 'GET',
    protocol: 'WEBSOCKET',
    serviceType: 'SCF',
    serviceTimeout: 600,
    scfFunction: TableInvoker.ref('transport'),
    register: TableInvoker.ref('register'),
    transport: TableInvoker.ref('transport'),
    cleanup: TableInvoker.ref('cleanup'),
    ...overrides,
  };
}

const accept: Handler = (event) => ({
  errNo: 0,
  errMsg: 'ok',
  websocket: { action: 'connecting', secConnectionID: event.websocket.secConnectionID },
});

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Setup {
  gateway: LocalGateway;
  table: TableInvoker;
  url: string;
  pushUrl: string;
  lines: string[];
}

async function setup(options: Partial<LocalGatewayOptions> & { api?: Partial<ApiDef> } = {}): Promise<Setup> {
  const table = new TableInvoker({ register: accept, transport: () => ({ errNo: 0 }), cleanup: () => ({ errNo: 0 }) }, { timeoutMs: 2000 });
  const lines: string[] = [];
  const gateway = new LocalGateway({ invoker: table, log: (line) => lines.push(line), ...options });
  await gateway.start();
  cleanups.push(() => gateway.stop());
  gateway.createService({ serviceId: SERVICE, serviceName: 'test' });
  gateway.createApi(apiDef(options.api));
  gateway.releaseService(SERVICE, 'release');
  return { gateway, table, url: gateway.wsUrl(SERVICE, 'release'), pushUrl: gateway.pushUrl(API), lines };
}

/** A real ws client whose messages and close are recorded from the start. */
class Client {
  readonly messages: Array<{ data: Buffer; binary: boolean }> = [];
  readonly ws: WebSocket;
  readonly #closed: Promise<{ code: number; reason: string }>;
  readonly #opened: Promise<void>;

  constructor(url: string, protocols?: string[], options?: ClientOptions) {
    this.ws = new WebSocket(url, protocols, options);
    this.ws.on('message', (data, binary) => this.messages.push({ data: data as Buffer, binary }));
    this.#closed = new Promise((resolve) => this.ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    this.#opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
    // the client may be refused on purpose; whoever waits on `opened` sees it
    this.#opened.catch(() => undefined);
    cleanups.push(() => this.ws.terminate());
  }

  /** The close, or a failure naming it after 10 s. */
  get closed(): Promise<{ code: number; reason: string }> {
    return within(this.#closed, 'the client to be closed');
  }

  /** The open, or a failure after 10 s. */
  get opened(): Promise<void> {
    return within(this.#opened, 'the handshake to complete');
  }

  static async open(url: string, protocols?: string[], options?: ClientOptions): Promise<Client> {
    const client = new Client(url, protocols, options);
    await client.opened;
    return client;
  }

  send(data: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.ws.send(data, (err) => (err ? reject(err) : resolve())));
  }

  async waitForMessages(count: number): Promise<Array<{ data: Buffer; binary: boolean }>> {
    await until(() => this.messages.length >= count, `${count} message(s) on the client`);
    return this.messages;
  }
}

/** Connects expecting a refused handshake; gives its status, headers and body. */
function refusal(url: string, protocols?: string[]): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  const refused = new Promise<{ status: number; body: string; headers: Record<string, unknown> }>((resolve, reject) => {
    const ws = new WebSocket(url, protocols);
    cleanups.push(() => ws.terminate());
    ws.once('open', () => reject(new Error('the handshake was accepted')));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
    });
  });
  return within(refused, `the handshake to ${url} to be refused`);
}

async function post(url: string, body: unknown): Promise<{ status: number; json: { errNo: number; errMsg: string } }> {
  const res = await fetch(url, {
    signal: AbortSignal.timeout(10_000),
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as { errNo: number; errMsg: string } };
}

function idOf(table: TableInvoker, index = 0): string {
  return table.eventsOf('register')[index].websocket.secConnectionID;
}

describe('handshake', () => {
  it('invokes register with the platform event before answering, and gives every connection a fresh id', async () => {
    const { table, url, gateway } = await setup();
    table.set('register', (event) => ({
      errNo: 0,
      errMsg: 'ok',
      websocket: {
        action: 'connecting',
        secConnectionID: event.websocket.secConnectionID,
        ...(event.websocket.secWebSocketProtocol ? { secWebSocketProtocol: 'chat' } : {}),
      },
    }));
    const first = await Client.open(url, ['chat', 'x']);
    const second = await Client.open(url.replace(/\/$/, ''), undefined, { perMessageDeflate: false });

    const [withOffers, plain] = table.eventsOf('register');
    expect(withOffers).toEqual({
      requestContext: {
        serviceId: SERVICE,
        path: '/',
        httpMethod: 'GET',
        requestId: expect.stringMatching(UUID),
        identity: {},
        sourceIp: '127.0.0.1',
        stage: 'release',
        websocketEnable: true,
      },
      websocket: {
        action: 'connecting',
        secConnectionID: expect.stringMatching(ID),
        secWebSocketProtocol: 'chat,x',
        secWebSocketExtensions: 'permessage-deflate; client_max_window_bits',
      },
    });
    // the optional fields are absent, not empty, when nothing was offered
    expect(plain.websocket).toEqual({ action: 'connecting', secConnectionID: expect.stringMatching(ID) });
    expect(plain.websocket.secConnectionID).not.toBe(withOffers.websocket.secConnectionID);
    expect(plain.requestContext.requestId).not.toBe(withOffers.requestContext.requestId);
    expect(table.callsTo('register')[0].requestId).toBe(withOffers.requestContext.requestId);

    expect(first.ws.protocol).toBe('chat');
    expect(first.ws.extensions).toBe('');
    expect(second.ws.protocol).toBe('');
    expect(gateway.connections()).toBe(2);

    // the id register saw is the one transport sees
    await first.send('hi');
    const [transport] = await table.waitForCalls('transport');
    expect(transport.event).toEqual({
      websocket: { action: 'data send', secConnectionID: withOffers.websocket.secConnectionID, dataType: 'text', data: 'hi' },
    });
  });

  it('generates ids of 24 random bytes in base64', async () => {
    const { table, url } = await setup();
    await Promise.all(Array.from({ length: 20 }, () => Client.open(url)));
    const ids = table.eventsOf('register').map((e) => e.websocket.secConnectionID as string);
    expect(new Set(ids).size).toBe(20);
    for (const id of ids) {
      expect(id).toMatch(ID);
      expect(Buffer.from(id, 'base64')).toHaveLength(24);
    }
  });

  it('refuses with 403 and the errMsg when register answers a non-zero errNo', async () => {
    const { table, url, gateway } = await setup();
    table.set('register', () => ({ errNo: 403, errMsg: 'admission token refused' }));
    const refused = await refusal(url, ['chat']);
    expect(refused.status).toBe(403);
    expect(refused.body).toBe('admission token refused');
    expect(refused.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(refused.headers['x-gateway-error']).toBe('admission token refused');
    expect(refused.headers['x-api-requestid']).toBe(table.eventsOf('register')[0].requestContext.requestId);
    expect(gateway.connections()).toBe(0);
    expect(table.callsTo('cleanup')).toHaveLength(0);
  });

  it('refuses with 502 when register throws, answers no errNo, or crashes', async () => {
    const { table, url } = await setup();
    table.set('register', () => {
      throw new Error('registry exploded');
    });
    let refused = await refusal(url);
    expect(refused.status).toBe(502);
    expect(refused.body).toMatch(/register function register failed \(error\): .*registry exploded/);

    table.set('register', () => ({ ok: true }));
    refused = await refusal(url);
    expect(refused.status).toBe(502);
    expect(refused.body).toMatch(/not \{"errNo"/);
  });

  it('refuses with 502 when the invoker reports a crash, and 502 when the function does not exist', async () => {
    const crashing: Invoker = {
      invoke: async () => ({ ok: false, kind: 'crash', message: 'instance died', durationMs: 1 }),
    };
    const { url } = await setup({ invoker: crashing });
    const refused = await refusal(url);
    expect(refused.status).toBe(502);
    expect(refused.body).toContain('crash');

    const other = await setup({ api: { register: TableInvoker.ref('missing') } });
    const missing = await refusal(other.url);
    expect(missing.status).toBe(502);
    expect(missing.body).toContain('not found');
  });

  it('refuses with 504 when register times out', async () => {
    const { table, url } = await setup();
    table.set('register', { handler: () => sleep(1000), timeoutMs: 100 });
    const refused = await refusal(url);
    expect(refused.status).toBe(504);
    expect(refused.body).toContain('timed out');
  });

  it('refuses with 502 when the API has no register binding, and 404 at an unknown path', async () => {
    const { gateway, table, url } = await setup({ api: { register: undefined } });
    const refused = await refusal(url);
    expect(refused.status).toBe(502);
    expect(refused.body).toContain('has no register function bound');

    for (const path of ['/release/nope', '/prepub/', '/', '/releasex']) {
      const unknown = await refusal(`${gateway.origin.replace('http', 'ws')}${path}`);
      expect(unknown.status).toBe(404);
      expect(unknown.body).toContain('no WebSocket API is released at');
    }
    expect(table.calls).toHaveLength(0);
  });

  it('returns a subprotocol only when register chose one the client offered', async () => {
    const { table, url } = await setup();
    // register chooses nothing: no header comes back (no automatic echo)
    const plain = await Client.open(url);
    expect(plain.ws.protocol).toBe('');
    // ...which a client that offered protocols treats as a failed handshake, as browsers do
    await expect(Client.open(url, ['chat', 'x'])).rejects.toThrow('Server sent no subprotocol');

    table.set('register', (event) => ({
      errNo: 0,
      errMsg: 'ok',
      websocket: { action: 'connecting', secConnectionID: event.websocket.secConnectionID, secWebSocketProtocol: 'x' },
    }));
    const chosen = await Client.open(url, ['chat', 'x']);
    expect(chosen.ws.protocol).toBe('x');

    table.set('register', () => ({ errNo: 0, errMsg: 'ok', websocket: { secWebSocketProtocol: 'binary' } }));
    const refused = await refusal(url, ['chat', 'x']);
    expect(refused.status).toBe(502);
    expect(refused.body).toContain('chose subprotocol "binary", which the client did not offer (offered: chat, x)');
  });

  it('never negotiates an extension, even when register names one', async () => {
    const { table, url } = await setup();
    table.set('register', () => ({ errNo: 0, errMsg: 'ok', websocket: { secWebSocketExtensions: 'permessage-deflate' } }));
    const client = await Client.open(url, undefined, { perMessageDeflate: { threshold: 0 } });
    expect(client.ws.extensions).toBe('');
    expect(table.eventsOf('register')[0].websocket.secWebSocketExtensions).toMatch(/^permessage-deflate/);
    // frames still flow uncompressed
    await client.send('x'.repeat(2000));
    const [call] = await table.waitForCalls('transport');
    expect(call.event.websocket.data).toBe('x'.repeat(2000));
  });

  it('invokes cleanup when register accepted a client that left before the handshake completed', async () => {
    const { table, url, gateway } = await setup();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    table.set('register', async (event) => {
      await gate;
      return accept(event, {} as never);
    });
    const client = new Client(url);
    client.opened.catch(() => undefined);
    await until(() => table.calls.length === 1, 'the register invocation');
    client.ws.terminate();
    await sleep(50);
    release();
    const [cleanup] = await table.waitForCalls('cleanup');
    expect(cleanup.event).toEqual({ websocket: { action: 'closing', secConnectionID: idOf(table) } });
    expect(gateway.connections()).toBe(0);
  });
});

describe('frames', () => {
  it('reaches transport in order, one invocation at a time per connection', async () => {
    // 50 frames at once: over the default 10 messages/s, so the rate is raised to 1000
    const { table, url } = await setup({ limits: { messagesPerSecond: 1000 } });
    let inFlight = 0;
    let maxInFlight = 0;
    table.set('transport', async () => {
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      await sleep(Math.random() * 15);
      inFlight--;
      return { errNo: 0 };
    });
    const client = await Client.open(url);
    const sent = Array.from({ length: 50 }, (_, i) => `frame ${i}`);
    for (const text of sent) client.ws.send(text);
    const calls = await table.waitForCalls('transport', 50);
    expect(calls.map((c) => c.event.websocket.data)).toEqual(sent);
    expect(calls.every((c) => c.event.websocket.dataType === 'text' && c.event.websocket.secConnectionID === idOf(table))).toBe(true);
    expect(maxInFlight).toBe(1);
  });

  it('sends binary frames as base64', async () => {
    const { table, url } = await setup();
    const client = await Client.open(url);
    const bytes = Buffer.from([0, 1, 2, 127, 128, 254, 255]);
    await client.send(bytes);
    const [call] = await table.waitForCalls('transport');
    expect(call.event.websocket).toEqual({ action: 'data send', secConnectionID: idOf(table), dataType: 'binary', data: bytes.toString('base64') });
  });

  it('invokes cleanup once the client closed, after the last queued transport', async () => {
    const { table, url, gateway } = await setup();
    const order: string[] = [];
    table.set('transport', async (event) => {
      await sleep(40);
      order.push(`transport ${event.websocket.data}`);
    });
    table.set('cleanup', (event) => void order.push(`cleanup ${event.websocket.secConnectionID}`));
    const client = await Client.open(url);
    for (const text of ['a', 'b', 'c', 'd', 'e']) client.ws.send(text);
    client.ws.close(1000, 'bye');
    await client.closed;
    const [cleanup] = await table.waitForCalls('cleanup');
    expect(cleanup.event).toEqual({ websocket: { action: 'closing', secConnectionID: idOf(table) } });
    expect(order).toEqual(['transport a', 'transport b', 'transport c', 'transport d', 'transport e', `cleanup ${idOf(table)}`]);
    expect(gateway.connections()).toBe(0);
  });

  it('closes the client with 1011 when transport fails, then invokes cleanup', async () => {
    const { table, url } = await setup();
    table.set('transport', () => {
      throw new Error('no url configured');
    });
    const client = await Client.open(url);
    await client.send('hello');
    expect(await client.closed).toEqual({ code: 1011, reason: 'transport function failed (error)' });
    await table.waitForCalls('cleanup');

    table.set('transport', { handler: () => sleep(1000), timeoutMs: 100 });
    const slow = await Client.open(url);
    await slow.send('hello');
    expect(await slow.closed).toEqual({ code: 1011, reason: 'transport function failed (timeout)' });

    table.delete('transport');
    const orphan = await Client.open(url);
    await orphan.send('hello');
    expect((await orphan.closed).code).toBe(1011);
  });

  it('answers pings with pongs', async () => {
    const { url } = await setup();
    const client = await Client.open(url);
    const pong = within(new Promise<Buffer>((resolve) => client.ws.once('pong', resolve)), 'the pong');
    client.ws.ping('are you there');
    expect((await pong).toString()).toBe('are you there');
  });
});

describe('reverse push', () => {
  it('delivers text and binary frames to the client', async () => {
    const { table, url, pushUrl, gateway } = await setup();
    expect(pushUrl).toBe(`${gateway.origin}/api-test`);
    expect(gateway.describeApi(API)?.internalDomain).toBe(pushUrl);
    const client = await Client.open(url);
    const id = idOf(table);
    const bytes = Buffer.from([9, 8, 7, 0, 255]);
    expect(await post(pushUrl, { websocket: { action: 'data send', secConnectionID: id, dataType: 'text', data: 'héllo' } })).toEqual({
      status: 200,
      json: { errNo: 0, errMsg: 'ok' },
    });
    expect(
      (await post(pushUrl, { websocket: { action: 'data send', secConnectionID: id, dataType: 'binary', data: bytes.toString('base64') } })).json.errNo,
    ).toBe(0);
    const [text, binary] = await client.waitForMessages(2);
    expect(text).toEqual({ data: Buffer.from('héllo'), binary: false });
    expect(binary).toEqual({ data: bytes, binary: true });
  });

  it('answers a non-zero errNo for an unknown, closed or foreign connection id', async () => {
    const { table, url, pushUrl, gateway } = await setup();
    gateway.createService({ serviceId: 'service-other', serviceName: 'other' });
    gateway.createApi(apiDef({ serviceId: 'service-other', apiId: 'api-other', path: '/other' }));
    gateway.releaseService('service-other', 'release');
    const frame = (id: string) => ({ websocket: { action: 'data send', secConnectionID: id, dataType: 'text', data: 'x' } });

    let answer = await post(pushUrl, frame('AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'));
    expect(answer.status).toBe(200);
    expect(answer.json.errNo).toBe(PushErrNo.NO_CONNECTION);
    expect(answer.json.errMsg).toContain('is unknown');

    const client = await Client.open(url);
    const id = idOf(table);
    answer = await post(gateway.pushUrl('api-other'), frame(id));
    expect(answer.json).toEqual({ errNo: PushErrNo.NO_CONNECTION, errMsg: `connection ${id} belongs to API api-test, not api-other` });

    client.ws.close();
    await client.closed;
    await until(() => gateway.connections() === 0, 'the gateway to see the close');
    answer = await post(pushUrl, frame(id));
    expect(answer.json).toEqual({ errNo: PushErrNo.NO_CONNECTION, errMsg: `connection ${id} is closed` });
  });

  it('answers 400 with a reason for a malformed body, and 404 for an unknown API', async () => {
    const { pushUrl, gateway, table, url } = await setup();
    await Client.open(url);
    const id = idOf(table);
    const cases: Array<[unknown, string]> = [
      ['{not json', 'body is not JSON'],
      [[1, 2], 'body must be a JSON object'],
      [{ data: 'x' }, 'missing "websocket" object'],
      [{ websocket: { action: 'data send', dataType: 'text', data: 'x' } }, 'missing websocket.secConnectionID'],
      [{ websocket: { action: 'data recv', secConnectionID: id, dataType: 'text', data: 'x' } }, 'websocket.action must be "data send" or "closing"'],
      [{ websocket: { action: 'data send', secConnectionID: id, dataType: 'json', data: 'x' } }, 'websocket.dataType must be "text" or "binary"'],
      [{ websocket: { action: 'data send', secConnectionID: id, dataType: 'text' } }, 'websocket.data must be a string'],
      [{ websocket: { action: 'data send', secConnectionID: id, dataType: 'binary', data: 'not base64!' } }, 'websocket.data is not valid base64'],
      [{ websocket: { action: 'data send', secConnectionID: id, dataType: 'binary', data: 'abc' } }, 'websocket.data is not valid base64'],
    ];
    for (const [body, reason] of cases) {
      const answer = await post(pushUrl, body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.json.errNo).toBe(PushErrNo.MALFORMED_REQUEST);
      expect(answer.json.errMsg).toContain(reason);
    }
    const unknown = await post(`${gateway.origin}/api-nope`, { websocket: { action: 'closing', secConnectionID: id } });
    expect(unknown.status).toBe(404);
    expect(unknown.json.errNo).toBe(PushErrNo.UNKNOWN_API);
    expect(gateway.connections()).toBe(1);
  });

  it('closes the connection with 1000 on a closing push, then invokes cleanup', async () => {
    const { table, url, pushUrl } = await setup();
    const client = await Client.open(url);
    const id = idOf(table);
    expect((await post(pushUrl, { websocket: { action: 'closing', secConnectionID: id } })).json).toEqual({ errNo: 0, errMsg: 'ok' });
    expect((await client.closed).code).toBe(1000);
    const [cleanup] = await table.waitForCalls('cleanup');
    expect(cleanup.event).toEqual({ websocket: { action: 'closing', secConnectionID: id } });
  });

  it('refuses a frame over 256 KiB without sending it', async () => {
    const { table, url, pushUrl } = await setup();
    const client = await Client.open(url);
    const id = idOf(table);
    const big = { websocket: { action: 'data send', secConnectionID: id, dataType: 'binary', data: Buffer.alloc(256 * 1024 + 1).toString('base64') } };
    const answer = await post(pushUrl, big);
    expect(answer.status).toBe(200);
    expect(answer.json.errNo).toBe(PushErrNo.MESSAGE_TOO_LARGE);
    expect(answer.json.errMsg).toContain('message too large: 262145 bytes');
    // exactly the limit passes
    const atLimit = { websocket: { action: 'data send', secConnectionID: id, dataType: 'text', data: 'x'.repeat(256 * 1024) } };
    expect((await post(pushUrl, atLimit)).json.errNo).toBe(0);
    const [first] = await client.waitForMessages(1);
    expect(first.data.length).toBe(256 * 1024);
    expect(client.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('keeps push connections alive', async () => {
    const { table, url, pushUrl, gateway } = await setup();
    const client = await Client.open(url);
    const id = idOf(table);
    const body = JSON.stringify({ websocket: { action: 'data send', secConnectionID: id, dataType: 'text', data: 'tick' } });
    const { request, Agent } = await import('node:http');
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    cleanups.push(() => agent.destroy());
    const sockets = new Set<unknown>();
    for (let i = 0; i < 20; i++) {
      const answered = new Promise<void>((resolve, reject) => {
        const req = request(pushUrl, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
          res.resume();
          res.on('end', resolve);
        });
        req.on('socket', (s) => sockets.add(s));
        req.on('error', reject);
        req.end(body);
      });
      await within(answered, `push ${i} to be answered`);
    }
    expect(sockets.size).toBe(1);
    await client.waitForMessages(20);
    expect(gateway.connections()).toBe(1);
  });
});

describe('limits', () => {
  it('closes with 1009 on a client message over 256 KiB', async () => {
    const { table, url } = await setup();
    const client = await Client.open(url);
    client.ws.send(Buffer.alloc(256 * 1024 + 1));
    expect((await client.closed).code).toBe(1009);
    await table.waitForCalls('cleanup');
    expect(table.callsTo('transport')).toHaveLength(0);
  });

  it('lets 10 messages through at once and closes with 1008 on a burst over 10 messages/s', async () => {
    const { table, url } = await setup();
    const calm = await Client.open(url);
    for (let i = 0; i < 10; i++) calm.ws.send(`calm ${i}`);
    await table.waitForCalls('transport', 10);

    const eager = await Client.open(url);
    for (let i = 0; i < 20; i++) eager.ws.send(`eager ${i}`);
    const closed = await eager.closed;
    expect(closed.code).toBe(1008);
    expect(closed.reason).toBe('rate limit exceeded: more than 10 messages per second');
    // the calm one, whose 10 came at once, is still open after the eager one was closed
    expect(calm.ws.readyState).toBe(WebSocket.OPEN);
    // what passed the limit was still delivered, in order, and cleanup came last
    const [cleanup] = await table.waitForCalls('cleanup');
    const eagerId = idOf(table, 1);
    const delivered = table.eventsOf('transport').filter((e) => e.websocket.secConnectionID === eagerId);
    expect(delivered.length).toBeGreaterThanOrEqual(10);
    expect(delivered.length).toBeLessThan(20);
    expect(delivered.map((e) => e.websocket.data)).toEqual(delivered.map((_, i) => `eager ${i}`));
    const lastTransport = table.calls
      .map((c, i) => (c.fn.name === 'transport' && c.event.websocket.secConnectionID === eagerId ? i : -1))
      .reduce((a, b) => Math.max(a, b));
    expect(table.calls.indexOf(cleanup)).toBeGreaterThan(lastTransport);
  });

  it('closes with 1008 over 128 KiB/s', async () => {
    const { url } = await setup();
    const client = await Client.open(url);
    for (let i = 0; i < 3; i++) client.ws.send(Buffer.alloc(60 * 1024));
    expect(await client.closed).toEqual({ code: 1008, reason: 'rate limit exceeded: more than 131072 bytes per second' });
  });

  it('in throttle mode, delays frames over the rate and delivers them all in order', async () => {
    const { table, url } = await setup({ limits: { rateLimitAction: 'throttle' } });
    const client = await Client.open(url);
    const started = performance.now();
    const sent = Array.from({ length: 25 }, (_, i) => `t${i}`);
    for (const text of sent) client.ws.send(text);
    const calls = await table.waitForCalls('transport', 25);
    const elapsed = performance.now() - started;
    expect(calls.map((c) => c.event.websocket.data)).toEqual(sent);
    // 10 pass at once, the 15 others at 10 a second
    expect(elapsed).toBeGreaterThan(1300);
    expect(client.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('in throttle mode, closes with 1008 when too many frames wait', async () => {
    const { url } = await setup({ limits: { rateLimitAction: 'throttle', maxQueuedFrames: 5 } });
    const client = await Client.open(url);
    for (let i = 0; i < 30; i++) client.ws.send(`f${i}`);
    expect(await client.closed).toEqual({ code: 1008, reason: 'rate limit exceeded: more than 5 frames waiting' });
  });

  it('closes idle connections with 1001 and connections past the maximum duration, invoking cleanup for both', async () => {
    expect(() => new LocalGateway({ invoker: new TableInvoker(), limits: { idleTimeoutSeconds: 1 } })).toThrow(/10-7200 seconds/);
    const { table, url, gateway } = await setup({ allowShortTimeouts: true, limits: { idleTimeoutSeconds: 0.8, maxConnectionSeconds: 2 } });
    const order: string[] = [];
    // chatty connects first: without its pings it would be the first to go idle
    const chatty = await Client.open(url);
    const silent = await Client.open(url);
    const closes = [chatty, silent].map((client, i) =>
      client.closed.then((closed) => {
        order.push(`${i === 0 ? 'chatty' : 'silent'}: ${closed.code} ${closed.reason}`);
      }),
    );
    // one ping after another, each answered, until chatty is closed: activity never stops
    const chattyClosed = chatty.closed;
    const pinging = (async () => {
      while (chatty.ws.readyState === WebSocket.OPEN) {
        const pong = new Promise((resolve) => chatty.ws.once('pong', resolve));
        chatty.ws.ping();
        await Promise.race([pong, chattyClosed]);
      }
    })();
    await Promise.all([...closes, pinging]);
    expect(order).toEqual(['silent: 1001 idle timeout', 'chatty: 1001 maximum connection duration reached']);
    const cleanups_ = await table.waitForCalls('cleanup', 2);
    expect(new Set(cleanups_.map((c) => c.event.websocket.secConnectionID))).toEqual(new Set([idOf(table, 0), idOf(table, 1)]));
    expect(gateway.connections()).toBe(0);
  });

  it('takes the idle timeout from the API serviceTimeout, and counts pushes as activity', async () => {
    const { table, url, pushUrl } = await setup({ allowShortTimeouts: true, api: { serviceTimeout: 0.6 } });
    // pushed connects first: only the pushes can keep it open longer than silent
    const pushed = await Client.open(url);
    const silent = await Client.open(url);
    const frame = JSON.stringify({ websocket: { action: 'data send', secConnectionID: idOf(table, 0), dataType: 'text', data: '.' } });
    let silentClosed: { code: number; reason: string } | undefined;
    const silentClose = silent.closed.then((closed) => (silentClosed = closed));
    let pushes = 0;
    while (!silentClosed) {
      expect((await post(pushUrl, frame)).json.errNo).toBe(0);
      pushes++;
      await Promise.race([silentClose, sleep(20)]);
    }
    expect(silentClosed).toEqual({ code: 1001, reason: 'idle timeout' });
    expect(pushed.ws.readyState).toBe(WebSocket.OPEN);
    expect(pushes).toBeGreaterThan(0);
    // once the pushes stop, it goes idle too
    expect(await pushed.closed).toEqual({ code: 1001, reason: 'idle timeout' });
  });
});

describe('releases', () => {
  it('changes live bindings only on release; open connections keep working with the new ones', async () => {
    const { gateway, table, url, pushUrl } = await setup();
    table.set('transport2', () => ({ errNo: 0 }));
    const client = await Client.open(url);
    await client.send('one');
    await table.waitForCalls('transport', 1);

    gateway.modifyApi(API, apiDef({ transport: TableInvoker.ref('transport2') }));
    expect(gateway.describeApi(API)?.transport).toEqual(TableInvoker.ref('transport2'));
    await client.send('two');
    await table.waitForCalls('transport', 2);
    expect(table.callsTo('transport2')).toHaveLength(0);

    gateway.releaseService(SERVICE, 'release', 'new transport');
    await client.send('three');
    const [call] = await table.waitForCalls('transport2', 1);
    expect(call.event.websocket.data).toBe('three');
    expect(table.callsTo('transport')).toHaveLength(2);
    expect((await post(pushUrl, { websocket: { action: 'data send', secConnectionID: idOf(table), dataType: 'text', data: 'still here' } })).json.errNo).toBe(
      0,
    );
    await client.waitForMessages(1);

    // a draft without register, released, refuses new connections but not the open one
    gateway.modifyApi(API, apiDef({ transport: TableInvoker.ref('transport2'), register: undefined }));
    gateway.releaseService(SERVICE, 'release');
    expect((await refusal(url)).status).toBe(502);
    await client.send('four');
    await table.waitForCalls('transport2', 2);
    expect(client.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('serves several services on one port, and refuses a release onto a path another service serves', async () => {
    const { gateway, table, url } = await setup();
    gateway.createService({ serviceId: 'service-b', serviceName: 'b' });
    gateway.createApi(apiDef({ serviceId: 'service-b', apiId: 'b1' }));
    expect(() => gateway.releaseService('service-b', 'release')).toThrow(
      expect.objectContaining({
        code: 'ResourceInUse.RouteConflict',
        message: expect.stringContaining('/release is already served by API api-test of service service-test'),
      }),
    );
    // an unreleased draft is not served anywhere
    expect((await refusal(`${gateway.origin.replace('http', 'ws')}/test/`)).status).toBe(404);
    gateway.releaseService('service-b', 'test');
    expect(gateway.wsUrl('service-b', 'test')).toBe(`${gateway.origin.replace('http', 'ws')}/test/`);
    expect(gateway.pushUrl('b1')).toBe(`${gateway.origin}/api-b1`);

    await Client.open(url);
    await Client.open(gateway.wsUrl('service-b', 'test'));
    expect(table.eventsOf('register').map((e) => [e.requestContext.serviceId, e.requestContext.stage])).toEqual([
      [SERVICE, 'release'],
      ['service-b', 'test'],
    ]);
    expect(gateway.connections()).toBe(2);
  });

  it('routes APIs on other paths, with or without a trailing slash', async () => {
    const { gateway, table } = await setup({ api: { path: '/chat' } });
    const base = gateway.origin.replace('http', 'ws');
    expect(gateway.wsUrl(SERVICE, 'release')).toBe(`${base}/release/chat`);
    await Client.open(`${base}/release/chat`);
    await Client.open(`${base}/release/chat/?token=1`);
    expect(table.eventsOf('register').map((e) => e.requestContext.path)).toEqual(['/chat', '/chat']);
    expect((await refusal(`${base}/release/`)).status).toBe(404);
  });
});

describe('lifecycle', () => {
  it('refuses to start on a port in use, naming it', async () => {
    const { gateway } = await setup();
    const second = new LocalGateway({ invoker: new TableInvoker(), port: gateway.port, log: () => undefined });
    await expect(second.start()).rejects.toMatchObject({ code: 'EADDRINUSE', message: expect.stringContaining(`port ${gateway.port}`) });
  });

  it('stop() closes every connection with 1001 and waits for their cleanups; twice is safe', async () => {
    const { gateway, table, url } = await setup();
    table.set('cleanup', () => sleep(200));
    const clients = await Promise.all([Client.open(url), Client.open(url), Client.open(url)]);
    await Promise.all([gateway.stop(), gateway.stop()]);
    for (const client of clients) expect((await client.closed).code).toBe(1001);
    expect(table.callsTo('cleanup').filter((c) => c.result)).toHaveLength(3);
    await gateway.stop();
    expect(() => gateway.port).toThrow(expect.objectContaining({ code: 'ERR_NOT_STARTED' }));
  });
});

describe('rate limits off', () => {
  it('with rateLimits: false, passes 50 frames sent at once on one connection', async () => {
    // limits: rates off (what `npm start -- --limits off` gives); frame size and timeouts as default
    const { table, url } = await setup({ limits: { rateLimits: false } });
    const client = await Client.open(url);
    const sent = Array.from({ length: 50 }, (_, i) => `burst ${i}`);
    for (const text of sent) client.ws.send(text);
    const calls = await table.waitForCalls('transport', 50);
    expect(calls.map((c) => c.event.websocket.data)).toEqual(sent);
    expect(client.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('slows a sender by TCP instead of closing it when frames pile up behind a slow transport', async () => {
    // limits: rates off, at most 5 frames waiting; 40 frames at once
    const { table, url } = await setup({ limits: { rateLimits: false, maxQueuedFrames: 5 } });
    table.set('transport', () => sleep(5));
    const client = await Client.open(url);
    const sent = Array.from({ length: 40 }, (_, i) => `queued ${i}`);
    for (const text of sent) client.ws.send(text);
    const calls = await table.waitForCalls('transport', 40, 10_000);
    expect(calls.map((c) => c.event.websocket.data)).toEqual(sent);
    expect(client.ws.readyState).toBe(WebSocket.OPEN);
  });
});

describe('hardening', () => {
  it('binds loopback by default: the server listens on 127.0.0.1 and no other address answers', async () => {
    const { gateway } = await setup();
    expect(gateway.address).toMatchObject({ address: '127.0.0.1', family: 'IPv4', port: gateway.port });
    const external = Object.values(os.networkInterfaces())
      .flat()
      .find((i) => i && !i.internal && i.family === 'IPv4');
    if (external) {
      const refused = await within(
        new Promise<string>((resolve) => {
          const socket = net.connect(gateway.port, external.address);
          socket.once('connect', () => (socket.destroy(), resolve('connected')));
          socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
        }),
        `a connection to ${external.address}:${gateway.port}`,
      );
      expect(refused).toBe('ECONNREFUSED');
    }
  });

  it('logs connection ids shortened to 6 characters, unless logFullIds is set', async () => {
    const { table, url, pushUrl, lines } = await setup({ limits: { maxMessageBytes: 100 * 1024 } });
    const client = await Client.open(url);
    const id = idOf(table);
    client.ws.send(Buffer.alloc(100 * 1024 + 1));
    await client.closed;
    await table.waitForCalls('cleanup');
    expect((await post(pushUrl, { websocket: { action: 'closing', secConnectionID: id } })).json.errNo).toBe(PushErrNo.NO_CONNECTION);
    expect(logId(id)).toBe(`${id.slice(0, 6)}…`);
    const mentions = lines.filter((l) => l.includes(logId(id)));
    // connected, the ws error, closing... and closed
    expect(mentions.length).toBeGreaterThanOrEqual(2);
    expect(lines.some((l) => l.startsWith(`connected ${logId(id)} to /release/`))).toBe(true);
    expect(
      lines.some((l) => l.startsWith(`closed ${logId(id)} with `)),
      lines.join('\n'),
    ).toBe(true);
    expect(lines.filter((l) => l.includes(id))).toEqual([]);

    const full = await setup({ logFullIds: true });
    await Client.open(full.url);
    const fullId = idOf(full.table);
    expect(full.lines.some((l) => l.startsWith(`connected ${fullId} to`))).toBe(true);
  });

  it('cuts a client trickling the headers of a handshake or a push, and one trickling a push body', async () => {
    const { gateway, table, url } = await setup({ limits: { headersTimeoutMs: 300, requestTimeoutMs: 600 } });
    // a register slower than the request timeout still completes its handshake: the timeouts stop at the upgrade
    table.set('register', async (event) => {
      await sleep(900);
      return accept(event, {} as never);
    });
    const slow = await Client.open(url);
    table.set('register', accept);
    const upgrade = await trickle(gateway.port, {
      start: 'GET /release/ HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n',
      line: 'X-Slow: 1\r\n',
    });
    expect(upgrade.answer).toMatch(/^HTTP\/1\.1 408 /);
    const pushHeaders = await trickle(gateway.port, { start: 'POST /api-test HTTP/1.1\r\nHost: x\r\n', line: 'X-Slow: 1\r\n' });
    expect(pushHeaders.answer).toMatch(/^HTTP\/1\.1 408 /);
    const pushBody = await trickle(gateway.port, {
      start: 'POST /api-test HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"websocket":',
      line: ' ',
    });
    expect(pushBody.answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(table.callsTo('register')).toHaveLength(1);
    // ...and the WebSocket outlives them: the three cuts above took longer than both
    expect(slow.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('echoes at most 64 characters of an unknown id or a bad field', async () => {
    const { pushUrl } = await setup();
    const hugeId = 'A'.repeat(1024 * 1024);
    const unknown = await post(pushUrl, { websocket: { action: 'data send', secConnectionID: hugeId, dataType: 'text', data: 'x' } });
    expect(unknown.json).toEqual({ errNo: PushErrNo.NO_CONNECTION, errMsg: `connection ${'A'.repeat(64)}… is unknown` });
    const badAction = await post(pushUrl, { websocket: { action: 'B'.repeat(100_000), secConnectionID: 'x' } });
    expect(badAction.status).toBe(400);
    expect(badAction.json.errMsg).toBe(`websocket.action must be "data send" or "closing", got "${'B'.repeat(63)}…`);
    const badType = await post(pushUrl, { websocket: { action: 'data send', secConnectionID: 'x', dataType: 'C'.repeat(100_000), data: '' } });
    expect(badType.json.errMsg.length).toBeLessThan(150);
  });

  it('holds a push unread, in arrival order, while push bodies in flight would pass maxPushBytesInFlight', async () => {
    const { gateway, table, url } = await setup({ limits: { maxPushBytesInFlight: 400 * 1024 } });
    await Client.open(url);
    const id = idOf(table);
    const body = Buffer.from(JSON.stringify({ websocket: { action: 'data send', secConnectionID: id, dataType: 'text', data: 'y'.repeat(250_000) } }));
    const head = (length: number, expect: boolean) =>
      `POST /api-test HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n${expect ? 'Expect: 100-continue\r\n' : ''}\r\n`;

    // A raw request whose body is held back: "100 Continue" says the gateway has taken it (and counted its length).
    const held = (length: number, expect = true) => {
      const socket = net.connect(gateway.port, '127.0.0.1');
      cleanups.push(() => void socket.destroy());
      let text = '';
      const waiters: Array<() => void> = [];
      socket.on('data', (c) => {
        text += c.toString('latin1');
        waiters.splice(0).forEach((w) => w());
      });
      socket.on('error', () => undefined);
      socket.write(head(length, expect));
      const until_ = (pattern: RegExp, what: string) =>
        within(
          new Promise<string>((resolve) => {
            const check = () => (pattern.test(text) ? resolve(text) : waiters.push(check));
            check();
          }),
          what,
        );
      return { socket, until: until_, text: () => text };
    };
    const waitingIs = (n: number, what: string) =>
      within(
        (async () => {
          while (gateway.pushesWaiting() !== n) await sleep(5);
        })(),
        what,
      );

    const first = held(body.length);
    await first.until(/100 Continue/, 'the first push to be taken');
    // The second, body and all, does not fit beside the first: it waits, unanswered (and unrefused).
    const second = held(body.length, false);
    second.socket.write(body);
    await waitingIs(1, 'the second push to wait');
    expect(second.text()).toBe('');
    // The first goes through once its body comes; then the second is read and delivered.
    first.socket.write(body);
    const delivered = await first.until(/\r\n\r\n\{.*\}$/s, 'the first push to be answered');
    expect(delivered).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /);
    expect(delivered).toContain('{"errNo":0,"errMsg":"ok"}');
    const next = await second.until(/\r\n\r\n\{.*\}$/s, 'the second push to be answered');
    expect(next).toMatch(/^HTTP\/1\.1 200 /);
    expect(next).toContain('{"errNo":0,"errMsg":"ok"}');
    await waitingIs(0, 'the queue to be empty');

    // A request cut half-way gives its room back, and a waiting one that gives up leaves the queue.
    const cut = held(body.length);
    await cut.until(/100 Continue/, 'the cut push to be taken');
    const quitter = held(body.length, false);
    await waitingIs(1, 'the quitter to wait');
    quitter.socket.destroy();
    await waitingIs(0, 'the quitter to leave the queue');
    cut.socket.write(body.subarray(0, 1000));
    cut.socket.destroy();
    const third = held(body.length, false);
    third.socket.write(body);
    expect(await third.until(/\r\n\r\n\{.*\}$/s, 'a third push to be answered')).toMatch(/^HTTP\/1\.1 200 /);
    // a chunked body (length unknown) counts as the whole allowance: alone, it goes through
    const { request } = await import('node:http');
    const chunked = await within(
      new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = request(`${gateway.origin}/api-test`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode!, text }));
        });
        req.on('error', reject);
        req.write(body.subarray(0, 100));
        req.end(body.subarray(100));
      }),
      'the chunked push to be answered',
    );
    expect(chunked).toEqual({ status: 200, text: '{"errNo":0,"errMsg":"ok"}' });
  });

  it('closes a client that stops reading with 1008 once maxBufferedBytes wait for it, and says so to the push', async () => {
    const { table, url, pushUrl, lines } = await setup({ limits: { maxBufferedBytes: 1024 * 1024 } });
    const client = await Client.open(url);
    const id = idOf(table);
    // the client stops reading: the kernel's buffers fill, then the gateway's
    (client.ws as unknown as { _socket: net.Socket })._socket.pause();
    const frame = JSON.stringify({ websocket: { action: 'data send', secConnectionID: id, dataType: 'text', data: 'z'.repeat(256 * 1024) } });
    let answer: { status: number; json: { errNo: number; errMsg: string } } | undefined;
    let pushes = 0;
    for (; pushes < 1000; pushes++) {
      answer = await post(pushUrl, frame);
      if (answer.json.errNo !== 0) break;
    }
    expect(pushes, 'pushes accepted before the bound').toBeLessThan(1000);
    expect(answer).toEqual({
      status: 200,
      json: { errNo: PushErrNo.NO_CONNECTION, errMsg: `connection ${id} was closed (client not reading: over 1048576 bytes waiting to be sent); not sent` },
    });
    // it is gone for the gateway: cleanup ran, later pushes say so
    await table.waitForCalls('cleanup', 1, 10_000);
    expect(lines.some((l) => l.startsWith(`closed ${logId(id)} with 1008`) || l.includes('closing with 1008 (client not reading'))).toBe(true);
    expect((await post(pushUrl, frame)).json.errMsg).toMatch(/is (closed|closing)$/);
    (client.ws as unknown as { _socket: net.Socket })._socket.resume();
    await client.closed;
  });
});
