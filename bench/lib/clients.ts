/**
 * Many `ws` clients for the benchmarks, opened with bounded concurrency.
 */
import WebSocket from 'ws';

/** Opens one client; resolves when open. */
export function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, ['chat'], { perMessageDeflate: false, handshakeTimeout: 30_000 });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`handshake refused with HTTP ${res.statusCode}`)));
  });
}

/** Opens `count` clients, `concurrency` handshakes at a time; returns them and the connect rate. */
export async function openMany(url: string, count: number, concurrency = 50): Promise<{ clients: WebSocket[]; perSecond: number; ms: number }> {
  const clients: WebSocket[] = new Array(count);
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < count) {
      const i = next++;
      clients[i] = await open(url);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  const ms = performance.now() - started;
  return { clients, perSecond: (count / ms) * 1000, ms };
}

/** Closes every client and waits for the closes. */
export async function closeAll(clients: WebSocket[]): Promise<void> {
  await Promise.all(
    clients.map(
      (ws) =>
        new Promise<void>((resolve) => {
          if (ws.readyState === ws.CLOSED) return resolve();
          ws.once('close', () => resolve());
          ws.close(1000);
        }),
    ),
  );
}
