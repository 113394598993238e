import { createServer } from 'node:http';
import { describe, expect, it } from 'vitest';
import { Listener, listen } from '../../local/listen';

/** A Listener over a real HTTP server on a free port, counting its opens and closes. */
function counted() {
  const counts = { opens: 0, afterCloses: 0 };
  const listener = new Listener({
    open: async () => {
      counts.opens++;
      const server = createServer((_req, res) => res.end('ok'));
      return { server, port: await listen(server, 0, '127.0.0.1', (message) => new Error(message)) };
    },
    graceMs: 100,
    afterClose: async () => {
      counts.afterCloses++;
    },
  });
  return { listener, counts };
}

async function answers(port: number): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/`)).ok;
  } catch {
    return false;
  }
}

describe('Listener', () => {
  it('shares one listen between concurrent starts, and stops twice safely', async () => {
    const { listener, counts } = counted();
    expect(listener.port).toBeUndefined();
    await listener.stop(); // before start: nothing to do
    await Promise.all([listener.start(), listener.start()]);
    await listener.start();
    expect(counts.opens).toBe(1);
    const port = listener.port!;
    expect(await answers(port)).toBe(true);
    await Promise.all([listener.stop(), listener.stop()]);
    expect(counts.afterCloses).toBe(1);
    expect(listener.port).toBeUndefined();
    expect(await answers(port)).toBe(false);
  });

  it('closes what a start in progress opens when stopped during it', async () => {
    const { listener, counts } = counted();
    const starting = listener.start();
    await listener.stop();
    await starting;
    expect(counts.opens).toBe(1);
    expect(counts.afterCloses).toBe(1);
    expect(listener.port).toBeUndefined();
  });

  it('lets a start during a stop wait for it, then listen again', async () => {
    const { listener, counts } = counted();
    await listener.start();
    const stopping = listener.stop();
    const restarting = listener.start();
    await Promise.all([stopping, restarting]);
    expect(counts.opens).toBe(2);
    expect(counts.afterCloses).toBe(1);
    expect(await answers(listener.port!)).toBe(true);
    await listener.stop();
  });
});
