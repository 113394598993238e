import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { readRegistryConfig } from '../../functions/lib/config';
import { RoomRegistry } from '../../functions/lib/rooms';
import { guestOf } from '../../functions/lib/users';
import { ConnectionRegistry } from '../../functions/lib/registry';
import { LocalGateway } from '../../local/gateway/gateway';
import { TableInvoker } from '../../local/gateway/table-invoker';
import { startCos, useEnv, type CosFixture } from '../support/cos-fixture';
import { fakeConnectionId } from '../support/populate';
import chat from '../../functions/chat/app';

const cleanup = chat.cleanup;
const register = chat.register;
const transport = chat.transport;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Settles as `promise` does, or fails saying what it waited for after 10 s, well before the test timeout. */
function within<T>(promise: Promise<T>, what: string, ms = 10_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A ws client that records what it receives. */
class ChatClient {
  readonly received: Array<{ data: Buffer; binary: boolean }> = [];
  readonly #closed: Promise<number>;
  constructor(readonly ws: WebSocket) {
    ws.on('message', (data, binary) => this.received.push({ data: data as Buffer, binary }));
    this.#closed = new Promise((resolve) => ws.on('close', (code) => resolve(code)));
  }

  /** The close code, or a failure after 10 s. */
  get closed(): Promise<number> {
    return within(this.#closed, 'the client to be closed');
  }

  static open(url: string, protocols: string[]): Promise<ChatClient> {
    const ws = new WebSocket(url, protocols, { handshakeTimeout: 10_000 });
    const client = new ChatClient(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(client));
      ws.once('error', reject);
    });
  }

  /** Every text message received so far, parsed. */
  json(): Array<Record<string, unknown>> {
    return this.received.filter((m) => !m.binary).map((m) => JSON.parse(m.data.toString('utf8')));
  }

  async waitFor(count: number): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (this.received.length < count) {
      if (Date.now() > deadline) throw new Error(`expected ${count} messages, got ${this.received.length}`);
      await sleep(10);
    }
  }
}

describe('the project handlers behind the local gateway', () => {
  let cos: CosFixture;
  let gateway: LocalGateway;
  let table: TableInvoker;
  let restore: () => void;
  let url: string;

  beforeAll(async () => {
    cos = await startCos();
    table = new TableInvoker({ register: register, transport: transport, cleanup: cleanup }, { timeoutMs: 15_000 });
    gateway = new LocalGateway({ invoker: table, log: () => undefined });
    await gateway.start();
    gateway.createService({ serviceId: 'service-chat', serviceName: 'chat_dev_gz' });
    gateway.createApi({
      serviceId: 'service-chat',
      apiId: 'api-chat',
      apiName: 'chat_dev_gz_ws',
      path: '/',
      method: 'GET',
      protocol: 'WEBSOCKET',
      serviceType: 'SCF',
      serviceTimeout: 600,
      scfFunction: TableInvoker.ref('transport'),
      register: TableInvoker.ref('register'),
      transport: TableInvoker.ref('transport'),
      cleanup: TableInvoker.ref('cleanup'),
    });
    gateway.releaseService('service-chat', 'release');
    url = gateway.wsUrl('service-chat', 'release');
    // The functions read their configuration from the environment, the push address included.
    restore = useEnv({ ...cos.env, url: gateway.describeApi('api-chat')!.internalDomain, ADMISSION_SECRET: undefined, LOG_LEVEL: 'warn' });
  });
  afterAll(async () => {
    await gateway.stop();
    restore();
    await cos.stop();
  });

  it('relays a chat between two clients through register, transport, cleanup and the COS registry', async () => {
    const registry = new ConnectionRegistry(readRegistryConfig(cos.env));
    const a = await ChatClient.open(url, ['chat']);
    const b = await ChatClient.open(url, ['chat']);
    expect(a.ws.protocol).toBe('chat');
    const [idA, idB] = table.eventsOf('register').map((e) => e.websocket.secConnectionID as string);
    expect((await registry.list()).sort()).toEqual([idA, idB].sort());

    a.ws.send(JSON.stringify({ type: 'message', text: 'hello B' }));
    await b.waitFor(1);
    await a.waitFor(1);
    const id = expect.stringMatching(/^[0-9a-z]{18}$/);
    expect(b.json()).toEqual([{ type: 'message', id, room: 'lobby', from: guestOf(idA!), text: 'hello B', online: 2, sentAt: expect.any(String) }]);
    expect(a.json()).toEqual([{ type: 'ack', id: b.json()[0].id, room: 'lobby', online: 2, delivered: 1 }]);

    const bytes = Buffer.from([0, 255, 1, 254]);
    b.ws.send(bytes);
    await a.waitFor(2);
    await b.waitFor(2);
    expect(a.received[1]).toEqual({ data: bytes, binary: true });
    expect(b.json()[1]).toEqual({ type: 'ack', id, room: 'lobby', online: 2, delivered: 1 });

    b.ws.close(1000);
    await b.closed;
    await table.waitForCalls('cleanup', 1, 10_000);
    expect(await registry.list()).toEqual([idA]);
    const rooms = new RoomRegistry(readRegistryConfig(cos.env));
    expect((await rooms.members('lobby')).map((m) => m.connectionId)).toEqual([idA]);

    a.ws.send('anyone?');
    await a.waitFor(3);
    expect(a.json()[1]).toEqual({ type: 'ack', id, room: 'lobby', online: 1, delivered: 0 });
    a.ws.close();
    await a.closed;
    await table.waitForCalls('cleanup', 2, 10_000);
    expect(await registry.list()).toEqual([]);
    expect(await rooms.members('lobby')).toEqual([]);
  });

  it('prunes a registered id the gateway does not know, from the push answer', async () => {
    const registry = new ConnectionRegistry(readRegistryConfig(cos.env));
    const rooms = new RoomRegistry(readRegistryConfig(cos.env));
    const stale = fakeConnectionId();
    await registry.add({ id: stale, connectedAt: new Date().toISOString() });
    await rooms.join(stale, { room: 'lobby', explicit: false, user: guestOf(stale) });
    const a = await ChatClient.open(url, ['chat']);
    a.ws.send('hi');
    await a.waitFor(1);
    expect(a.json()).toEqual([{ type: 'ack', id: expect.any(String), room: 'lobby', online: 1, delivered: 0 }]);
    expect(await registry.list()).not.toContain(stale);
    expect((await rooms.members('lobby')).map((m) => m.connectionId)).not.toContain(stale);
    a.ws.close();
    await a.closed;
  });

  it("refuses with 403 and register's reason when no offered subprotocol is chat", async () => {
    const ws = new WebSocket(url, ['graphql-ws']);
    const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
      ws.once('open', () => reject(new Error('accepted')));
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
    });
    const refused = await within(answer, 'the handshake to be refused');
    expect(refused.status).toBe(403);
    expect(refused.body).toBe('none of the offered subprotocols is supported (supported: chat)');
  });
});
