/**
 * Slow clients: the local COS store cuts a connection whose headers or body trickle in past its
 * limits, instead of holding it for Node's defaults (minutes).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { type Socket, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import COS from 'cos-nodejs-sdk-v5';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { randomCredential } from '../../local/credentials';
import { CosServer, DEFAULT_HEADERS_TIMEOUT_MS, DEFAULT_REQUEST_TIMEOUT_MS } from '../../local/cos/server';

const BUCKET = 'slow-test-1250000000';
const REGION = 'ap-guangzhou';
/** Far beyond the limits set below, far below the test timeout: the cut must have come by then. */
const GUARD_MS = 10_000;

/** What a raw client saw before the server closed its connection. */
interface Cut {
  received: string;
}

/** Opens a raw connection and sends `first`, then `drip` every 50 ms until the server closes it. */
function trickle(port: number, first: string, drip: string): { socket: Socket; cut: Promise<Cut> } {
  const socket = connect(port, '127.0.0.1');
  let received = '';
  let timer: NodeJS.Timeout | undefined;
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (received += chunk));
  socket.on('connect', () => {
    socket.write(first);
    timer = setInterval(() => socket.writable && socket.write(drip), 50);
  });
  const cut = new Promise<Cut>((resolve, reject) => {
    const guard = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server still held the trickling connection open after ${GUARD_MS} ms`));
    }, GUARD_MS);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(guard);
      clearInterval(timer);
      resolve({ received });
    });
  });
  return { socket, cut };
}

describe('local COS server: slow requests', () => {
  let directory: string;
  let server: CosServer;
  let cos: COS;
  const credential = randomCredential();
  const sockets: Socket[] = [];

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'local-cos-slow-'));
    server = new CosServer({ directory, credentials: [credential], buckets: [BUCKET], timeouts: { headersMs: 300, requestMs: 800 } });
    await server.start();
    cos = new COS({ SecretId: credential.secretId, SecretKey: credential.secretKey, Domain: server.domain });
  });

  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.destroy();
  });

  afterAll(async () => {
    await server?.stop();
    if (directory) await rm(directory, { recursive: true, force: true });
  });

  it('cuts a client trickling its headers with 408', async () => {
    const { socket, cut } = trickle(server.port, `GET /${BUCKET} HTTP/1.1\r\nHost: 127.0.0.1\r\n`, 'X-Trickle: a\r\n');
    sockets.push(socket);
    const { received } = await cut;
    expect(received).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('cuts a client trickling a body, and stores nothing of it', async () => {
    const key = 'slow/upload.txt';
    const host = `127.0.0.1:${server.port}`;
    const authorization = COS.getAuthorization({
      SecretId: credential.secretId,
      SecretKey: credential.secretKey,
      Method: 'PUT',
      Key: key,
      Headers: { host },
    });
    const head = `PUT /${BUCKET}/${key} HTTP/1.1\r\nHost: ${host}\r\nAuthorization: ${authorization}\r\nContent-Length: 100000\r\n\r\n`;
    const { socket, cut } = trickle(server.port, head, 'x');
    sockets.push(socket);
    const { received } = await cut;
    expect(received).toMatch(/^HTTP\/1\.1 408 /);
    const err = await cos.headObject({ Bucket: BUCKET, Region: REGION, Key: key }).then(
      () => undefined,
      (e: { statusCode?: number }) => e,
    );
    expect(err?.statusCode).toBe(404);
  });

  it('still answers requests that arrive in time', async () => {
    await cos.putObject({ Bucket: BUCKET, Region: REGION, Key: 'fast.txt', Body: 'in time' });
    const got = await cos.getObject({ Bucket: BUCKET, Region: REGION, Key: 'fast.txt' });
    expect(got.Body.toString()).toBe('in time');
  });

  it('defaults to 10 s for headers and 60 s for the whole request', () => {
    expect([DEFAULT_HEADERS_TIMEOUT_MS, DEFAULT_REQUEST_TIMEOUT_MS]).toEqual([10_000, 60_000]);
  });

  it('refuses limits that are not whole milliseconds, or a request limit below the headers limit', () => {
    const options = { directory: '/nonexistent', credentials: [credential] };
    for (const timeouts of [{ headersMs: -1 }, { requestMs: 1.5 }, { headersMs: 2000, requestMs: 1000 }]) {
      expect(() => new CosServer({ ...options, timeouts }), JSON.stringify(timeouts)).toThrow(expect.objectContaining({ code: 'ERR_BAD_TIMEOUT' }));
    }
    expect(() => new CosServer({ ...options, timeouts: { headersMs: 0, requestMs: 0 } })).not.toThrow();
  });
});
