/**
 * One broadcast to 2,499 registered connections through the real COS registry (the local store,
 * over HTTP), done by the transport function, next to the same broadcast done as the seed article
 * does it: one blocking POST after another, each on a new connection.
 */
import http from 'node:http';
import chat from '../functions/chat/app';
import { readRegistryConfig } from '../functions/lib/config';
import { ConnectionRegistry } from '../functions/lib/registry';
import { startCos } from '../test/support/cos-fixture';
import { populate } from '../test/support/populate';
import { PushRecorder } from '../test/support/push-recorder';

const CONNECTIONS = 2500;
const RUNS = 5;

function seedStylePost(url: string, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    // agent: false opens a fresh connection per request, as requests.post without a session does.
    const req = http.request(
      url,
      { method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        res.resume();
        res.on('end', resolve);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function seedStyleBroadcast(registry: ConnectionRegistry, url: string, sender: string, text: string): Promise<void> {
  const ids = await registry.list();
  const data = `${text}(===Online people:${ids.length}===)`;
  for (const id of ids) {
    if (id !== sender) await seedStylePost(url, JSON.stringify({ websocket: { action: 'data send', secConnectionID: id, dataType: 'text', data } }));
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** Runs the comparison and prints the figures. */
export async function broadcastBench(): Promise<void> {
  const cos = await startCos();
  const push = new PushRecorder();
  await push.start();
  const saved = { ...process.env };
  Object.assign(process.env, cos.env, { url: push.url, LOG_LEVEL: 'warn' });
  try {
    const registry = new ConnectionRegistry(readRegistryConfig(cos.env));
    const [sender] = await populate(registry, CONNECTIONS);
    const event = { websocket: { action: 'data send', secConnectionID: sender, dataType: 'text', data: 'bench' } };
    await chat.transport(event); // warm-up: module load, sockets

    const listing: number[] = [];
    const ours: number[] = [];
    const seed: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      listing.push(await timed(() => registry.list()));
      push.reset();
      ours.push(await timed(() => chat.transport(event)));
      if (push.pushes.length !== CONNECTIONS) throw new Error(`expected ${CONNECTIONS} pushes, saw ${push.pushes.length}`);
      push.reset();
      seed.push(await timed(() => seedStyleBroadcast(registry, push.url, sender, 'bench')));
      if (push.pushes.length !== CONNECTIONS - 1) throw new Error(`seed style: expected ${CONNECTIONS - 1} pushes, saw ${push.pushes.length}`);
    }
    const concurrency = process.env.PUSH_CONCURRENCY ?? '32 (default)';
    console.log(`broadcast to ${CONNECTIONS - 1} of ${CONNECTIONS} registered connections, median of ${RUNS} runs`);
    console.log(`  registry listing (3 pages over HTTP):          ${median(listing).toFixed(0)} ms`);
    console.log(`  transport function (keep-alive, ${concurrency} at once): ${median(ours).toFixed(0)} ms`);
    console.log(`  seed style (one POST after another):            ${median(seed).toFixed(0)} ms`);
    console.log(`  ratio seed / ours:                              ${(median(seed) / median(ours)).toFixed(1)}x`);
  } finally {
    process.env = saved;
    await push.stop();
    await cos.stop();
  }
}
