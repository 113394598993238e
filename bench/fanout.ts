/**
 * (a) Fan-out: one sender to 999 receivers with 1000 connected, per-delivery latency p50/p99 over
 * 20+ messages, next to the raw ws floor measured in the same run.
 */
import type WebSocket from 'ws';
import { closeAll, openMany } from './lib/clients';
import { measureBoth, type RunningServer } from './lib/servers';
import { ms, percentile } from './lib/stats';

const CONNECTIONS = 1000;
const MESSAGES = 24;
// The local cloud runs with the default limits: spaced under their 10 messages/s per connection.
const GAP_MS = 150;

export interface FanoutResult {
  p50: number;
  p99: number;
  /** Time until the last receiver had the message. */
  completeP50: number;
  completeP99: number;
}

async function measure(server: RunningServer): Promise<FanoutResult> {
  const { clients } = await openMany(server.wsUrl, CONNECTIONS);
  const [sender, ...receivers] = clients;
  const latencies: number[] = [];
  const completions: number[] = [];
  let current: { tag: string; sentAt: number; left: number; done: () => void } | undefined;
  for (const ws of receivers) {
    ws.on('message', (data: WebSocket.RawData) => {
      const text = data.toString();
      if (!current || !text.includes(current.tag)) return;
      const latency = performance.now() - current.sentAt;
      latencies.push(latency);
      if (--current.left === 0) {
        completions.push(latency);
        current.done();
      }
    });
  }
  // One warm-up message (cold starts), not counted.
  for (let i = -1; i < MESSAGES; i++) {
    const tag = `fanout-${i}-${Date.now()}`;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`message ${i} reached only ${receivers.length - current!.left} of ${receivers.length}`)), 30_000);
      current = { tag, sentAt: performance.now(), left: receivers.length, done: () => (clearTimeout(timer), resolve()) };
      sender.send(JSON.stringify({ type: 'message', text: tag }));
    });
    if (i === -1) {
      latencies.length = 0;
      completions.length = 0;
    }
    await new Promise((r) => setTimeout(r, GAP_MS));
  }
  await closeAll(clients);
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), completeP50: percentile(completions, 50), completeP99: percentile(completions, 99) };
}

export async function fanoutBench(): Promise<void> {
  const { floor, local } = await measureBoth(measure);
  console.log(`(a) fan-out: 1 sender to ${CONNECTIONS - 1} receivers, ${CONNECTIONS} connected, ${MESSAGES} messages`);
  console.log(
    `    per delivery        local cloud p50 ${ms(local.p50)}  p99 ${ms(local.p99)}   raw ws p50 ${ms(floor.p50)}  p99 ${ms(floor.p99)}   ratio p50 ${(local.p50 / floor.p50).toFixed(1)}x`,
  );
  console.log(
    `    last receiver       local cloud p50 ${ms(local.completeP50)}  p99 ${ms(local.completeP99)}   raw ws p50 ${ms(floor.completeP50)}  p99 ${ms(floor.completeP99)}   ratio p50 ${(local.completeP50 / floor.completeP50).toFixed(1)}x`,
  );
  console.log(`    target: p50 <= 150 ms and <= 10x the raw floor`);
}

if (process.argv[1]?.endsWith('fanout.ts')) await fanoutBench();
