/**
 * (b) Connect rate, and memory per idle connection, with 5,000 connections, next to the raw floor.
 */
import { closeAll, openMany } from './lib/clients';
import { measureBoth, type RunningServer } from './lib/servers';
import { rssOf } from './lib/stats';

const CONNECTIONS = 5000;

async function measure(server: RunningServer): Promise<{ perSecond: number; bytesPerConnection: number }> {
  // Warm-up: function instances start on first use and are a fixed cost, not a per-connection one.
  await closeAll((await openMany(server.wsUrl, 300, 100)).clients);
  await new Promise((r) => setTimeout(r, 1000));
  const before = await rssOf(server.pid);
  const { clients, perSecond } = await openMany(server.wsUrl, CONNECTIONS, 100);
  // Let the servers settle (timers, buffers) before reading memory.
  await new Promise((r) => setTimeout(r, 2000));
  const after = await rssOf(server.pid);
  await closeAll(clients);
  return { perSecond, bytesPerConnection: (after - before) / CONNECTIONS };
}

export async function connectBench(): Promise<void> {
  const { floor, local } = await measureBoth(measure);
  const kb = (b: number) => `${(b / 1024).toFixed(1)} KB`;
  console.log(`(b) ${CONNECTIONS} connections (each one a register invocation writing to the registry)`);
  console.log(
    `    connects/s          local cloud ${local.perSecond.toFixed(0)}   raw ws ${floor.perSecond.toFixed(0)}   ratio ${(floor.perSecond / local.perSecond).toFixed(1)}x slower`,
  );
  console.log(`    RSS per connection  local cloud ${kb(local.bytesPerConnection)}   raw ws ${kb(floor.bytesPerConnection)}`);
  console.log(`    target: >= 500 connects/s, <= 30 KB per connection`);
}

if (process.argv[1]?.endsWith('connect.ts')) await connectBench();
