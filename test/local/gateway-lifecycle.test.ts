import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { LocalGateway } from '../../local/gateway/gateway';
import { type Handler, TableInvoker } from '../../local/gateway/table-invoker';

const SERVICE = 'service-life';
const API = 'api-life';

/** Settles as `promise` does, or fails saying what it waited for after `ms`, well before the test timeout. */
function within<T>(promise: Promise<T>, what: string, ms = 10_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A port nothing listens on just now. */
async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** Whether a server of ours can listen on `port`, i.e. nothing holds it any more. */
async function portIsFree(port: number): Promise<boolean> {
  const probe = net.createServer();
  const free = await new Promise<boolean>((resolve) => {
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => resolve(true));
  });
  if (free) await new Promise<void>((resolve) => probe.close(() => resolve()));
  return free;
}

const accept: Handler = (event) => ({ errNo: 0, errMsg: 'ok', websocket: { action: 'connecting', secConnectionID: event.websocket.secConnectionID } });

const gateways: LocalGateway[] = [];
const sockets: WebSocket[] = [];
afterEach(async () => {
  for (const ws of sockets.splice(0)) ws.terminate();
  await Promise.all(gateways.splice(0).map((g) => g.stop()));
});

/** A gateway with one released API whose cleanups are counted; not started. */
function gatewayWith(port = 0): { gateway: LocalGateway; cleanups: () => number } {
  let cleanups = 0;
  const table = new TableInvoker(
    {
      register: accept,
      transport: () => ({ errNo: 0 }),
      cleanup: () => {
        cleanups++;
        return { errNo: 0 };
      },
    },
    { timeoutMs: 2000 },
  );
  const gateway = new LocalGateway({ invoker: table, port, log: () => undefined });
  gateways.push(gateway);
  gateway.createService({ serviceId: SERVICE, serviceName: 'life' });
  gateway.createApi({
    serviceId: SERVICE,
    apiId: API,
    apiName: 'life_ws',
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
  gateway.releaseService(SERVICE, 'release');
  return { gateway, cleanups: () => cleanups };
}

/** An open WebSocket to the released API, and the close code it will see. */
async function connect(gateway: LocalGateway): Promise<{ ws: WebSocket; closed: Promise<number> }> {
  const ws = new WebSocket(gateway.wsUrl(SERVICE, 'release'));
  sockets.push(ws);
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  await within(
    new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    }),
    'the WebSocket to open',
  );
  return { ws, closed };
}

describe('LocalGateway start and stop', () => {
  it('lets a start during a stop wait for it, then listen again with the same APIs', async () => {
    const { gateway, cleanups } = gatewayWith();
    await gateway.start();
    const first = await connect(gateway);
    const order: string[] = [];
    const stopping = gateway.stop().then(() => order.push('stopped'));
    const restarting = gateway.start().then(() => order.push('started'));
    await within(Promise.all([stopping, restarting]), 'the stop and the start');
    expect(order).toEqual(['stopped', 'started']);
    // the stop did its whole job: the open connection was closed and its cleanup invoked
    expect(await within(first.closed, 'the first connection to close')).toBe(1001);
    expect(cleanups()).toBe(1);
    // and the gateway listens again, on a new port, with the released API
    expect(gateway.port).toBeGreaterThan(0);
    const second = await connect(gateway);
    expect(second.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('shares one listen between concurrent starts', async () => {
    const port = await freePort();
    const { gateway } = gatewayWith(port);
    // two listens on one fixed port would fail the second with EADDRINUSE
    await within(Promise.all([gateway.start(), gateway.start()]), 'two concurrent starts');
    await gateway.start();
    expect(gateway.port).toBe(port);
    await connect(gateway);
    await gateway.stop();
    expect(() => gateway.port).toThrow(expect.objectContaining({ code: 'ERR_NOT_STARTED' }));
    expect(await portIsFree(port)).toBe(true);
  });

  it('stops what a start in progress opens when stopped during it', async () => {
    const port = await freePort();
    const { gateway } = gatewayWith(port);
    const starting = gateway.start();
    await within(gateway.stop(), 'the stop');
    await starting;
    expect(() => gateway.port).toThrow(expect.objectContaining({ code: 'ERR_NOT_STARTED' }));
    expect(await portIsFree(port)).toBe(true);
  });
});
