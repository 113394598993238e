/**
 * Rooms: (1) fan-out in a 100-member room while 5,000 other connections sit in 50 other rooms of
 * 100, against the same room with nothing else connected, next to the raw ws floor; (2) the cost
 * of one broadcast against room size and against connections in total.
 *
 * The local cloud runs with `--limits off` (no messages/s or bytes/s per connection), so setup can
 * go as fast as the server takes it; the measured sender sends one message at a time, spaced, as
 * the default 10 messages/s would allow anyway. `BENCH_ROOMS_TOTALS=1000,5000` picks the points of
 * the total-connections axis (default 1000,5000,10000), `BENCH_ROOMS_BUSY` the others of table 1
 * (default 5000), `BENCH_ROOMS_MESSAGES` the messages per point (default 30).
 */
import os from 'node:os';
import type WebSocket from 'ws';
import { Crowd, openAndJoin, timeFanout, type FanoutFigures } from './lib/chat-clients';
import { openMany } from './lib/clients';
import { codeVersion, fdLimit } from './lib/machine';
import { startLocalCloud, startRawServer, type RunningServer } from './lib/servers';

const ROOM = 100;
const BUSY_OTHERS = Number(process.env.BENCH_ROOMS_BUSY ?? 5000);
const ROOM_SIZES = [10, 100, 1000];
const TOTALS = (process.env.BENCH_ROOMS_TOTALS ?? '1000,5000,10000').split(',').map(Number);
const MESSAGES = Number(process.env.BENCH_ROOMS_MESSAGES ?? 30);
const GAP_MS = 100;
const CLOUD_ARGS = ['--limits', 'off'];

interface Point extends FanoutFigures {
  /** One-minute load average when the point was measured. */
  load: number;
  connected: number;
}

const chatFrame = (room: string) => (tag: string) => JSON.stringify({ type: 'message', room, text: tag });
const n = (value: number) => value.toLocaleString('en');
const cell = (value: number, width = 9) => `${value.toFixed(1)} ms`.padStart(width);
const load = () => os.loadavg()[0]!;

async function point(sender: WebSocket, receivers: readonly WebSocket[], room: string, connected: number, crowd: Crowd, what: string): Promise<Point> {
  crowd.check();
  console.log(`      measuring ${what}: ${MESSAGES} messages to ${n(receivers.length)} receivers, ${n(connected)} connected, load ${load().toFixed(2)}`);
  const figures = await timeFanout(sender, receivers, chatFrame(room), { messages: MESSAGES, gapMs: GAP_MS });
  crowd.check();
  return { ...figures, load: load(), connected };
}

async function withCloud<T>(run: (server: RunningServer, crowd: Crowd) => Promise<T>): Promise<T> {
  const server = await startLocalCloud({ args: CLOUD_ARGS });
  const crowd = new Crowd();
  try {
    return await run(server, crowd);
  } finally {
    // The server goes first: closing thousands of clients one by one would run a cleanup each.
    await server.stop();
    crowd.end();
  }
}

/** The raw floor: the same 100-client fan-out through a plain ws server. */
async function rawFloor(): Promise<Point> {
  const server = await startRawServer();
  const { clients } = await openMany(server.wsUrl, ROOM);
  try {
    const [sender, ...receivers] = clients;
    const figures = await timeFanout(sender!, receivers, (tag) => tag, { messages: MESSAGES, gapMs: GAP_MS });
    return { ...figures, load: load(), connected: ROOM };
  } finally {
    await server.stop();
    for (const ws of clients) ws.terminate();
  }
}

/** One room grown from 10 to 1,000 members, nothing else connected. */
async function bySize(): Promise<Map<number, Point>> {
  return withCloud(async (server, crowd) => {
    const points = new Map<number, Point>();
    for (const size of ROOM_SIZES) {
      const { clients } = await openAndJoin(server.wsUrl, size - crowd.clients.length, () => 'sized', { label: `joining room "sized" up to ${n(size)}` });
      crowd.add(clients);
      const [sender, ...receivers] = crowd.clients;
      points.set(size, await point(sender!, receivers, 'sized', crowd.clients.length, crowd, `room of ${n(size)}`));
    }
    return points;
  });
}

/** A 100-member room alone, then with others added in rooms of 100 until each total is reached. */
async function byTotal(): Promise<{ alone: Point; busy: Point; totals: Map<number, Point> }> {
  return withCloud(async (server, crowd) => {
    const { clients: members } = await openAndJoin(server.wsUrl, ROOM, () => 'target', { label: 'joining room "target"' });
    crowd.add(members);
    const [sender, ...receivers] = members;
    const alone = await point(sender!, receivers, 'target', ROOM, crowd, 'room "target" alone');
    let busy: Point | undefined;
    const totals = new Map<number, Point>();
    // Each step adds others until there are this many; the busy point of table 1 is one of them.
    const steps = [...new Set([BUSY_OTHERS, ...TOTALS.map((t) => t - ROOM)])].sort((a, b) => a - b);
    let others = 0;
    for (const target of steps) {
      const first = others;
      const { clients } = await openAndJoin(server.wsUrl, target - others, (i) => `others-${Math.floor((first + i) / ROOM)}`, {
        label: `others in rooms of ${ROOM} up to ${n(target)}`,
      });
      crowd.add(clients);
      others = target;
      const measured = await point(sender!, receivers, 'target', ROOM + others, crowd, `room "target" with ${n(others)} others`);
      if (others === BUSY_OTHERS) busy = measured;
      if (TOTALS.includes(ROOM + others)) totals.set(ROOM + others, measured);
    }
    return { alone, busy: busy!, totals };
  });
}

/** Runs both tables and prints them. */
export async function roomsBench(): Promise<void> {
  const started = performance.now();
  const needed = ROOM + Math.max(BUSY_OTHERS, ...TOTALS.map((t) => t - ROOM));
  console.log(`rooms: local cloud with ${CLOUD_ARGS.join(' ')} (no per-connection rate limit; frame, idle and duration limits stay)`);
  console.log(`      code ${codeVersion()}`);
  console.log(`      open files limit ${fdLimit()} per process (clients here, the gateway in its own; up to ${n(needed)} each)`);
  console.log(
    `      load average at start ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} on ${os.cpus().length} cores`,
  );
  console.log('      raw ws floor, 100 clients');
  const floor = await rawFloor();
  console.log('      room size axis (fresh local cloud)');
  const sizes = await bySize();
  console.log('      total connections axis (fresh local cloud)');
  const { alone, busy, totals } = await byTotal();

  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`.padStart(9);
  const verdict = (a: number, b: number) => (a / b <= 1.5 ? 'met' : 'NOT met');
  console.log('');
  console.log(`(1) fan-out in a ${ROOM}-member room: 1 sender, ${ROOM - 1} receivers, ${MESSAGES} messages one at a time`);
  console.log(`                                                   per delivery p50      p99   last recv p50    ack p50  load`);
  const row = (label: string, p: Point) =>
    console.log(`    ${label.padEnd(45)}  ${cell(p.deliveryP50)} ${cell(p.deliveryP99)}       ${cell(p.lastP50)}  ${cell(p.ackP50)}  ${p.load.toFixed(2)}`);
  row(`alone (${ROOM} connected)`, alone);
  row(`busy (+${n(BUSY_OTHERS)} in ${BUSY_OTHERS / ROOM} rooms of ${ROOM}, ${n(busy.connected)} in all)`, busy);
  console.log(
    `    ${'ratio busy / alone'.padEnd(45)}  ${ratio(busy.deliveryP50, alone.deliveryP50)} ${ratio(busy.deliveryP99, alone.deliveryP99)}       ${ratio(busy.lastP50, alone.lastP50)}  ${ratio(busy.ackP50, alone.ackP50)}`,
  );
  row(`raw ws floor (${ROOM} connected)`, floor);
  console.log(
    `    target: busy within 1.5x of alone — per delivery p50 ${verdict(busy.deliveryP50, alone.deliveryP50)}, last receiver p50 ${verdict(busy.lastP50, alone.lastP50)}`,
  );
  console.log('');
  console.log(`(2) one broadcast, p50 of ${MESSAGES} messages, ms from send`);
  console.log(`                                                 to ack  to last recv  per delivery  load`);
  const small = (label: string, p: Point) =>
    console.log(`    ${label.padEnd(43)}  ${cell(p.ackP50)}     ${cell(p.lastP50)}     ${cell(p.deliveryP50)}  ${p.load.toFixed(2)}`);
  console.log('    room size, nothing else connected');
  for (const [size, p] of sizes) small(`  ${n(size)} members`, p);
  console.log(`    connections in total, ${ROOM}-member room, others in rooms of ${ROOM}`);
  for (const [total, p] of [...totals].sort((a, b) => a[0] - b[0])) small(`  ${n(total)} connected`, p);
  console.log(
    `    whole bench ${((performance.now() - started) / 1000).toFixed(0)} s; load average at end ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
}

if (process.argv[1]?.endsWith('rooms.ts')) await roomsBench();
