/**
 * (c) Round trip with one client: a message out, its ack back. The raw floor acks the same way.
 */
import type WebSocket from 'ws';
import { closeAll, openMany } from './lib/clients';
import { measureBoth, type RunningServer } from './lib/servers';
import { ms, percentile } from './lib/stats';

const ROUNDS = 50;
// The local cloud runs with the default limits (10 messages/s per connection): one message per 110 ms stays under them.
const GAP_MS = 110;

async function measure(server: RunningServer): Promise<{ p50: number; p99: number }> {
  const { clients } = await openMany(server.wsUrl, 1);
  const [ws] = clients;
  const times: number[] = [];
  for (let i = -3; i < ROUNDS; i++) {
    const started = performance.now();
    await new Promise<void>((resolve) => {
      const onMessage = (data: WebSocket.RawData) => {
        if (!data.toString().includes('"ack"')) return;
        ws.off('message', onMessage);
        resolve();
      };
      ws.on('message', onMessage);
      ws.send(JSON.stringify({ type: 'message', text: `echo ${i}` }));
    });
    if (i >= 0) times.push(performance.now() - started);
    await new Promise((r) => setTimeout(r, GAP_MS));
  }
  await closeAll(clients);
  return { p50: percentile(times, 50), p99: percentile(times, 99) };
}

export async function echoBench(): Promise<void> {
  const { floor, local } = await measureBoth(measure);
  console.log(`(c) round trip, one client, ${ROUNDS} messages (send -> ack)`);
  console.log(
    `    local cloud p50 ${ms(local.p50)}  p99 ${ms(local.p99)}   raw ws p50 ${ms(floor.p50)}  p99 ${ms(floor.p99)}   ratio p50 ${(local.p50 / floor.p50).toFixed(1)}x`,
  );
}

if (process.argv[1]?.endsWith('echo.ts')) await echoBench();
