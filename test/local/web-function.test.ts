/**
 * WebSocket web functions on the local SCF runtime behind the local gateway: one process per
 * connection running a plain `ws` server from the zip, the handshake and frames passed through,
 * and the connection's end logged as the invocation's end with seed 002's status codes.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { LocalGateway } from '../../local/gateway/gateway';
import type { ApiDef } from '../../local/gateway/model';
import { LocalScf } from '../../local/scf/runtime';
import type { FunctionSpec } from '../../local/scf/spec';
import { writeEchoZip } from './web-echo';

const CREDENTIALS = { secretId: 'AKIDlocalwebtest000000000000000000', secretKey: 'local-web-test-key' };
const ECHO: Omit<FunctionSpec, 'zipPath'> = {
  name: 'echo',
  handler: '',
  environment: { GREETING: 'hi' },
  memoryMb: 128,
  timeoutSeconds: 30,
  type: 'HTTP',
  protocolType: 'WS',
  wsIdleTimeoutSeconds: 30,
};
const fnRef = (name: string) => ({ name, namespace: 'default', qualifier: '$LATEST' });

let root: string;
let zip: string;
let scf: LocalScf;
let gateway: LocalGateway;
const lines: string[] = [];

/** A released WebSocket API whose backend is the web function `name`. */
function webApi(apiId: string, path: string, name: string): ApiDef {
  return {
    serviceId: 'svc-web',
    apiId,
    apiName: apiId,
    path,
    method: 'GET',
    protocol: 'WEBSOCKET',
    serviceType: 'SCF',
    serviceTimeout: 600,
    scfFunction: fnRef(name),
    scfFunctionType: 'HTTP',
  };
}

const url = (apiPath = '/echo') => `${gateway.origin.replace('http', 'ws')}/release${apiPath}`;

interface Client {
  ws: WebSocket;
  messages: string[];
  closed: Promise<{ code: number; reason: string }>;
  next(match?: (text: string) => boolean): Promise<string>;
}

async function open(target = url(), protocols: string[] = [], headers: Record<string, string> = {}): Promise<Client> {
  const ws = new WebSocket(target, protocols, { headers });
  const messages: string[] = [];
  const waiters: Array<() => void> = [];
  ws.on('message', (data) => {
    messages.push(data.toString());
    for (const wake of waiters.splice(0)) wake();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  let seen = 0;
  let closedWith: string | undefined;
  void closed.then(({ code, reason }) => {
    closedWith = `${code} ${reason}`;
    for (const wake of waiters.splice(0)) wake();
  });
  const next = async (match: (text: string) => boolean = () => true): Promise<string> => {
    for (;;) {
      while (seen < messages.length) {
        const text = messages[seen++];
        if (match(text)) return text;
      }
      if (closedWith !== undefined) throw new Error(`the connection closed (${closedWith}) while a message was awaited`);
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };
  // the function greets every connection first
  await next((text) => text.startsWith('hello '));
  return { ws, messages, closed, next };
}

/**
 * Waits for the log line of an invocation's end after `mark` (an index into `lines`) that says
 * `why`: the end of a connection of an earlier test may be logged after this one's mark.
 */
async function endedAfter(mark: number, why: string | RegExp): Promise<{ status: number; line: string }> {
  for (;;) {
    const line = lines.slice(mark).find((l) => /invocation ended with status \d+/.test(l) && (typeof why === 'string' ? l.includes(why) : why.test(l)));
    if (line) return { status: Number(/status (\d+)/.exec(line)![1]), line };
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'web-function-'));
  zip = await writeEchoZip(path.join(root, 'echo.zip'));
  scf = new LocalScf({ workDir: path.join(root, 'scf'), credentials: CREDENTIALS, log: (line) => lines.push(line), webLingerMs: 100 });
  await scf.deploy({ ...ECHO, zipPath: zip });
  await scf.deploy({ ...ECHO, name: 'idle', zipPath: zip, wsIdleTimeoutSeconds: 0.4 });
  // pings keep it from going idle; its timeout cuts it
  await scf.deploy({ ...ECHO, name: 'short', zipPath: zip, timeoutSeconds: 1, wsIdleTimeoutSeconds: 1 });
  gateway = new LocalGateway({ invoker: scf, web: scf, log: (line) => lines.push(line), allowShortTimeouts: true });
  await gateway.start();
  gateway.createService({ serviceId: 'svc-web', serviceName: 'web' });
  gateway.createApi(webApi('api-echo', '/echo', 'echo'));
  gateway.createApi(webApi('api-idle', '/idle', 'idle'));
  gateway.createApi(webApi('api-short', '/short', 'short'));
  gateway.releaseService('svc-web', 'release');
});

afterAll(async () => {
  await gateway?.stop();
  await scf?.stop();
  await rm(root, { recursive: true, force: true });
});

describe('web function instances', () => {
  it('runs one process per connection, each on a port of its own, with the function environment and a logged cold start', async () => {
    const mark = lines.length;
    const before = scf.stats('echo');
    const clients = await Promise.all([open(), open(), open()]);
    const pids = new Set<string>();
    const ports = new Set<string>();
    for (const client of clients) {
      client.ws.send('pid');
      pids.add(await client.next((t) => /^\d+$/.test(t)));
      client.ws.send('env');
      const env = JSON.parse(await client.next((t) => t.startsWith('{')));
      expect(env).toMatchObject({ GREETING: 'hi', SCF_FUNCTIONNAME: 'echo' });
      ports.add(env.PORT);
    }
    expect(pids.size).toBe(3);
    expect(ports.size).toBe(3);
    expect(scf.webInstances()).toBeGreaterThanOrEqual(3);
    const coldStarts = lines.slice(mark).filter((l) => /^\[echo [0-9a-f-]{36}\] cold start: \d+ ms/.test(l));
    expect(coldStarts).toHaveLength(3);
    expect(scf.stats('echo').coldStarts - before.coldStarts).toBe(3);

    // each connection's end stops its own process, and no other
    const [first, ...rest] = clients;
    const firstPid = Number([...pids][0]);
    first.ws.send('pid');
    const pidOfFirst = Number(await first.next((t) => /^\d+$/.test(t)));
    first.ws.close(1000);
    await first.closed;
    for (let i = 0; i < 200 && alive(pidOfFirst); i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(alive(pidOfFirst)).toBe(false);
    for (const client of rest) {
      client.ws.send('still here');
      expect(await client.next((t) => t === 'still here')).toBe('still here');
    }
    for (const client of rest) client.ws.close(1000);
    await Promise.all(rest.map((c) => c.closed));
    expect(firstPid).toBeGreaterThan(0);
  });

  it('ends only its own connection when it crashes: the client sees 1006, the invocation 439', async () => {
    const [crashing, other] = await Promise.all([open(), open()]);
    const mark = lines.length;
    crashing.ws.send('crash');
    expect((await crashing.closed).code).toBe(1006);
    const { status, line } = await endedAfter(mark, 'exited with code 3');
    expect(status).toBe(439);
    expect(line).toContain('while its connection was open');
    other.ws.send('after the crash');
    expect(await other.next((t) => t === 'after the crash')).toBe('after the crash');
    other.ws.close(1000);
    await other.closed;
  });
});

describe('the end of a connection is the end of the invocation (seed 002 status codes)', () => {
  const cases: Array<{ who: 'client' | 'function'; code: number; status: number }> = [
    { who: 'client', code: 1000, status: 200 },
    { who: 'client', code: 1010, status: 200 },
    { who: 'client', code: 4000, status: 456 },
    { who: 'function', code: 1000, status: 200 },
    { who: 'function', code: 1011, status: 200 },
    { who: 'function', code: 4001, status: 439 },
  ];
  for (const { who, code, status } of cases) {
    it(`${who} closes with ${code}: status ${status}`, async () => {
      const client = await open();
      const mark = lines.length;
      if (who === 'client') client.ws.close(code, 'bye');
      else client.ws.send(`close ${code}`);
      expect((await client.closed).code).toBe(code);
      const ended = await endedAfter(mark, `closed with ${code}`);
      expect(ended.status).toBe(status);
      expect(ended.line).toContain(who === 'client' ? 'the client closed' : 'the function closed');
    });
  }

  it('a client whose connection drops without a close frame: 456', async () => {
    const client = await open();
    const mark = lines.length;
    client.ws.terminate();
    expect((await endedAfter(mark, /the client (connection dropped|closed its connection without a close frame)/)).status).toBe(456);
  });

  it('no frame either way for the idle timeout: both sides get 1001, status 455', async () => {
    const client = await open(url('/idle'));
    const mark = lines.length;
    const closed = await client.closed;
    expect(closed).toEqual({ code: 1001, reason: 'idle timeout' });
    expect((await endedAfter(mark, 'idle timeout')).status).toBe(455);
    // the function was told too
    await expect.poll(() => lines.slice(mark).some((l) => l.includes('"msg":"closed","code":1001'))).toBe(true);
  });

  it("the function's timeout reached: the connection is cut (1006), status 433", async () => {
    const client = await open(url('/short'));
    const mark = lines.length;
    // pings keep it active, so only the timeout can end it
    const pinger = setInterval(() => client.ws.ping(), 100);
    const closed = await client.closed;
    clearInterval(pinger);
    expect(closed.code).toBe(1006);
    expect((await endedAfter(mark, "the function's timeout")).status).toBe(433);
  });
});

describe('the gateway passes the handshake through', () => {
  it('the subprotocol the function chose, the client headers and its address reach it', async () => {
    const mark = lines.length;
    const client = await open(url(), ['second', 'first'], { 'X-Custom': 'from the client' });
    expect(client.ws.protocol).toBe('second');
    expect(client.messages[0]).toBe('hello second');
    await expect.poll(() => lines.slice(mark).find((l) => l.includes('"msg":"connected"'))).toBeDefined();
    const connected = JSON.parse(
      lines
        .slice(mark)
        .find((l) => l.includes('"msg":"connected"'))!
        .replace(/^\[[^\]]+\] /, ''),
    );
    // the path below the environment, as the function sees it
    expect(connected).toEqual({ msg: 'connected', path: '/echo', forwardedFor: '127.0.0.1', custom: 'from the client' });
    client.ws.close(1000);
    await client.closed;
  });

  for (const status of [403, 503]) {
    it(`a refusal (${status}) reaches the client as the function answered it, headers and body`, async () => {
      const mark = lines.length;
      const ws = new WebSocket(`${url()}?refuse=${status}`);
      const response = await new Promise<{ status: number; header: unknown; body: string }>((resolve, reject) => {
        ws.once('unexpected-response', (_req, res) => {
          let body = '';
          res.on('data', (chunk) => (body += chunk));
          res.on('end', () => resolve({ status: res.statusCode!, header: res.headers['x-refused-by'], body }));
        });
        ws.once('open', () => reject(new Error('the handshake was accepted')));
      });
      ws.on('error', () => undefined);
      expect(response).toEqual({ status, header: 'function', body: 'refused by the function' });
      expect((await endedAfter(mark, `refused the handshake with ${status}`)).status).toBe(status);
    });
  }
});

describe('the gateway pipes frames both ways', () => {
  it('text, binary, fragmented messages and every length form pass both ways, and the frames after them are still read', async () => {
    const client = await open();
    client.ws.send('plain text');
    expect(await client.next()).toBe('plain text');
    const binary = await new Promise<Buffer>((resolve) => {
      client.ws.once('message', (data, isBinary) => resolve(isBinary ? (data as Buffer) : Buffer.from('not binary')));
      client.ws.send(Buffer.from([0, 1, 2, 255]));
    });
    expect([...binary]).toEqual([0, 1, 2, 255]);
    // lengths in all three header forms (7 bits, 16 bits from 126, 64 bits from 65536), under 128 KB in all
    for (const size of [125, 126, 1000, 30000, 65536]) {
      client.ws.send('m'.repeat(size));
      expect((await client.next((t) => t.startsWith('m'))).length).toBe(size);
    }
    client.ws.send('frag', { fin: false });
    client.ws.send('mented', { fin: true });
    expect(await client.next((t) => t.startsWith('frag'))).toBe('fragmented');
    // the gateway reads the close frame behind all of them: had it lost count of a frame's length, it would not
    const mark = lines.length;
    client.ws.close(4321, 'counted');
    await client.closed;
    expect((await endedAfter(mark, 'closed with 4321')).line).toContain('the client closed with 4321 (counted)');
  });

  it('a 200 KB message from the client and a 150 KB one from the function arrive whole', async () => {
    const client = await open();
    client.ws.send('big 150000');
    expect((await client.next((t) => t.length > 1000)).length).toBe(150000);
    // last: it leaves the client's 128 KB/s in debt for a while
    const large = 'x'.repeat(200 * 1024);
    client.ws.send(large);
    expect(await client.next((t) => t.length > 1000)).toBe(large);
    client.ws.close(1000);
    await client.closed;
  });

  it('a client message over 256 KB closes both sides with 1009 (status 456)', async () => {
    const client = await open();
    const mark = lines.length;
    client.ws.send('y'.repeat(256 * 1024 + 1));
    expect((await client.closed).code).toBe(1009);
    expect((await endedAfter(mark, 'message over 262144 bytes')).status).toBe(456);
  });

  it('a client message over 256 KB sent in pieces, as browsers send it, closes with 1009 too, not with the byte rate', async () => {
    const client = await open();
    const mark = lines.length;
    const piece = 'p'.repeat(64 * 1024);
    for (let i = 0; i < 4; i++) client.ws.send(piece, { fin: false });
    client.ws.send('p', { fin: true });
    expect((await client.closed).code).toBe(1009);
    expect((await endedAfter(mark, 'message over 262144 bytes')).status).toBe(456);
  });

  it('a function message over 256 KB closes both sides with 1009 (status 439)', async () => {
    const client = await open();
    const mark = lines.length;
    client.ws.send(`big ${256 * 1024 + 1}`);
    expect((await client.closed).code).toBe(1009);
    expect((await endedAfter(mark, 'the function sent a message over 262144 bytes')).status).toBe(439);
  });

  it('a client over 10 messages per second is closed with 1008 (status 456)', async () => {
    const client = await open();
    const mark = lines.length;
    for (let i = 0; i < 11; i++) client.ws.send('quiet');
    const closed = await client.closed;
    expect(closed.code).toBe(1008);
    expect(closed.reason).toContain('messages per second');
    expect((await endedAfter(mark, 'messages per second')).status).toBe(456);
  });
});

describe('starting instances', () => {
  it('starts a few at a time, the others waiting in turn, so a burst is served first come first served', async () => {
    const gated = new LocalScf({ workDir: path.join(root, 'scf-gated'), credentials: CREDENTIALS, log: (line) => lines.push(line), maxWebStarts: 1 });
    await gated.deploy({ ...ECHO, name: 'gated', zipPath: zip });
    try {
      const mark = lines.length;
      const sessions = await Promise.all([0, 1, 2].map(() => gated.connect(fnRef('gated'))));
      expect(sessions.every((s) => s.ok)).toBe(true);
      const starts = lines.slice(mark).filter((l) => l.startsWith('[gated ') && l.includes('cold start:'));
      expect(starts).toHaveLength(3);
      // one at a time: the second and third waited for the one before them
      expect(starts.filter((l) => l.includes('waited'))).toHaveLength(2);
      for (const s of sessions) if (s.ok) s.session.end(200, 'test over');
    } finally {
      await gated.stop();
    }
  });
});

describe('throttled rather than closed (--rate-limit throttle)', () => {
  it('holds a fast client back instead: every message arrives, in order, and the connection stays open', async () => {
    const throttled = new LocalGateway({ invoker: scf, web: scf, log: () => {}, limits: { rateLimitAction: 'throttle' } });
    await throttled.start();
    try {
      throttled.createService({ serviceId: 'svc-web', serviceName: 'web' });
      throttled.createApi(webApi('api-echo', '/echo', 'echo'));
      throttled.releaseService('svc-web', 'release');
      const client = await open(`${throttled.origin.replace('http', 'ws')}/release/echo`);
      for (let i = 0; i < 15; i++) client.ws.send(`n${i}`);
      const got: string[] = [];
      for (let i = 0; i < 15; i++) got.push(await client.next((t) => t.startsWith('n')));
      expect(got).toEqual(Array.from({ length: 15 }, (_, i) => `n${i}`));
      expect(client.ws.readyState).toBe(WebSocket.OPEN);
      client.ws.close(1000);
      await client.closed;
    } finally {
      await throttled.stop();
    }
  });
});

describe('stopping', () => {
  it('kills every instance process when the runtime stops', async () => {
    const extraScf = new LocalScf({ workDir: path.join(root, 'scf-stop'), credentials: CREDENTIALS, log: () => {} });
    await extraScf.deploy({ ...ECHO, zipPath: zip });
    const extraGateway = new LocalGateway({ invoker: extraScf, web: extraScf, log: () => {} });
    await extraGateway.start();
    extraGateway.createService({ serviceId: 'svc-web', serviceName: 'web' });
    extraGateway.createApi(webApi('api-echo', '/echo', 'echo'));
    extraGateway.releaseService('svc-web', 'release');
    const target = `${extraGateway.origin.replace('http', 'ws')}/release/echo`;
    const clients = await Promise.all([open(target), open(target)]);
    const pids: number[] = [];
    for (const client of clients) {
      client.ws.send('pid');
      pids.push(Number(await client.next((t) => /^\d+$/.test(t))));
    }
    expect(pids.every(alive)).toBe(true);
    await extraGateway.stop();
    for (const client of clients) expect((await client.closed).code).toBe(1001);
    await extraScf.stop();
    expect(pids.filter(alive)).toEqual([]);
    expect(extraScf.webInstances()).toBe(0);
  });
});
