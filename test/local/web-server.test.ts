import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { WebServer, type WebServerOptions } from '../../local/web-server';
import { trickle } from '../support/slow-client';

/** A port nothing listens on just now. */
async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** Settles as `promise` does, or fails saying what it waited for after 10 s, well before the test timeout. */
function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after 10 s waiting for ${what}`)), 10_000);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'web');

const servers: WebServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

async function start(options: Partial<WebServerOptions> = {}): Promise<{ server: WebServer; port: number }> {
  const server = new WebServer({ root: ROOT, config: () => ({ wsUrl: 'ws://127.0.0.1:1/release/', admission: false, stack: 'test' }), ...options });
  await server.start();
  servers.push(server);
  return { server, port: Number(new URL(server.url).port) };
}

/** Sends one raw request line (fetch would normalize the path) and gives the status and body. */
function raw(port: number, target: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
    const chunks: Buffer[] = [];
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', reject);
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
      resolve({ status, body: text.slice(text.indexOf('\r\n\r\n') + 4) });
    });
  });
}

describe('page server', () => {
  it('answers a path that is not valid percent-encoding with 400, without the exception text', async () => {
    const { port } = await start();
    for (const target of ['/%zz', '/%E0%A4%A', '//[']) {
      const answer = await raw(port, target);
      expect(answer.status, target).toBe(400);
      expect(answer.body, target).toContain('bad request: ');
      expect(answer.body, target).not.toMatch(/URI|malformed|Invalid URL/);
    }
    // the page itself still comes
    expect((await raw(port, '/')).status).toBe(200);
    expect((await raw(port, '/chat%2Ejs')).status).toBe(200);
  });

  it('cuts a client trickling its headers after headersTimeoutMs', async () => {
    const { port } = await start({ headersTimeoutMs: 300, requestTimeoutMs: 600 });
    const cut = await trickle(port, { start: 'GET / HTTP/1.1\r\nHost: x\r\n', line: 'X-Slow: 1\r\n', failAfterMs: 10_000 });
    expect(cut.answer).toMatch(/^HTTP\/1\.1 408 /);
    // a prompt request on the same server is served
    expect((await fetch(`http://127.0.0.1:${port}/config.json`)).status).toBe(200);
  });

  it('cuts a client trickling its body after requestTimeoutMs', async () => {
    const { port } = await start({ headersTimeoutMs: 300, requestTimeoutMs: 600 });
    const cut = await trickle(port, { start: 'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n', line: 'x', failAfterMs: 10_000 });
    expect(cut.linesWritten).toBeGreaterThan(0);
  });

  it('lets a start during a stop wait for it, then listen again on the same port', async () => {
    const port = await freePort();
    const { server } = await start({ port });
    // a keep-alive connection with a request in progress keeps the stop busy for a moment
    const busy = net.connect(port, '127.0.0.1', () => busy.write('GET / HTTP/1.1\r\nHost: x\r\n'));
    busy.on('error', () => undefined);
    await within(new Promise((resolve) => busy.once('connect', resolve)), 'the busy connection');
    const order: string[] = [];
    const stopping = server.stop().then(() => order.push('stopped'));
    const restarting = server.start().then(() => order.push('started'));
    await within(Promise.all([stopping, restarting]), 'the stop and the start');
    expect(order).toEqual(['stopped', 'started']);
    expect(server.url).toBe(`http://127.0.0.1:${port}/`);
    expect((await fetch(`${server.url}config.json`)).status).toBe(200);
    busy.destroy();
  });

  it('shares one listen between concurrent starts', async () => {
    const port = await freePort();
    const server = new WebServer({ root: ROOT, port, config: () => ({ wsUrl: 'ws://127.0.0.1:1/release/', admission: false, stack: 'test' }) });
    servers.push(server);
    expect(() => server.url).toThrow(expect.objectContaining({ code: 'ERR_NOT_STARTED' }));
    // two listens on one fixed port would fail the second with EADDRINUSE
    await within(Promise.all([server.start(), server.start()]), 'two concurrent starts');
    expect((await fetch(`${server.url}config.json`)).status).toBe(200);
    await server.stop();
    expect(() => server.url).toThrow(expect.objectContaining({ code: 'ERR_NOT_STARTED' }));
    // the port is free again: a second page server can take it
    const other = await start({ port });
    expect(other.port).toBe(port);
  });

  it('names the taken port with EADDRINUSE', async () => {
    const { port } = await start();
    const second = new WebServer({ root: ROOT, port, config: () => ({ wsUrl: 'ws://127.0.0.1:1/release/', admission: false, stack: 'test' }) });
    await expect(second.start()).rejects.toThrow(expect.objectContaining({ code: 'EADDRINUSE', message: expect.stringContaining(`port ${port}`) }));
  });
});
