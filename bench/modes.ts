/**
 * Web mode beside event mode, in one run, with the raw `ws` floor: the chat on the local cloud in
 * each mode (`--limits off`, so no rate limit shapes the figures), and a plain `ws` server.
 *
 * - echo: one client, a message to the lobby, its ack back;
 * - connect alone: 10 clients one after the other, each closed before the next (in web mode each
 *   is a cold start, as every connection is);
 * - fan-out: a 100-member room, 1 sender and 99 receivers, one message at a time;
 * - connects per second with `BENCH_MODES_CONNECTIONS` clients (default 200), then as many again
 *   opening and joining a room each (rooms of 10);
 * - memory per idle connection: event mode what the local cloud's processes grew by, read with
 *   `BENCH_MODES_MEMORY_CONNECTIONS` open (default 2,000: a few KB each is lost in the heap's own
 *   swings at 200), the floor likewise; web mode with the `CONNECTIONS` open, the instances' RSS
 *   (one node process per connection, here on this machine) plus what the gateway and Redis grew by.
 *
 * Each server runs in its own process tree, one after the other; the one-minute load average is
 * printed beside every figure, since the machine may be shared.
 */
import os from 'node:os';
import type WebSocket from 'ws';
import { Crowd, openAndJoin, timeFanout, type FanoutFigures } from './lib/chat-clients';
import { closeAll, open, openMany } from './lib/clients';
import { codeVersion, fdLimit, load, loads, othersCores, sampleCpu } from './lib/machine';
import { cloudProcesses, processTree, sumOf, type CloudProcesses } from './lib/processes';
import { startLocalCloud, startRawServer, type RunningServer } from './lib/servers';
import { percentile } from './lib/stats';

const CONNECTIONS = Number(process.env.BENCH_MODES_CONNECTIONS ?? 200);
const ROOM = 100;
const ECHO_ROUNDS = 50;
const ECHO_GAP_MS = 20;
const FANOUT_MESSAGES = Number(process.env.BENCH_MODES_MESSAGES ?? 30);
const FANOUT_GAP_MS = 100;
/** Connections opened one after the other for the lone handshake. */
const ALONE = 10;
/** Handshakes in flight at once while connecting, the same for every server. */
const CONCURRENCY = 50;
/** Connections opened and closed before the memory baseline: event mode's function instances start on first use. */
const WARM_UP = 50;
/** Room size of the connect-and-join phase: small, so presence fan-out does not dominate the join. */
const JOIN_ROOM = 10;
/** Idle connections the memory of event mode and the floor is read with (web mode: `CONNECTIONS`). */
const MEMORY_CONNECTIONS = Math.max(CONNECTIONS, Number(process.env.BENCH_MODES_MEMORY_CONNECTIONS ?? 2000));
/** Web instances at once: the held connections plus room for ones still lingering after their close. */
const MAX_WEB_INSTANCES = CONNECTIONS + ROOM + WARM_UP;

type Kind = 'raw' | 'event' | 'web';

/**
 * A figure, or why it could not be taken, with the one-minute load average at its end and the
 * cores that processes other than this bench's kept busy meanwhile.
 */
type Measured<T> = ({ ok: true; value: T } | { ok: false; error: string }) & { load: number; others: number };

interface Memory {
  /** Bytes per idle connection, all counted. */
  perConnection: number;
  /** Connections open when it was read. */
  count: number;
  /** Web mode: the instances' RSS per connection, their PSS per connection, how many there were. */
  instances?: { rss: number; pss: number; count: number };
  /** What the server's own process(es) grew by per connection: the whole server in event mode and raw, the gateway in web mode. */
  serverDelta: number;
  /** Web mode: Redis's RSS with the connections open, and what it grew by per connection. */
  redis?: { rss: number; delta: number };
}

interface Results {
  readyMs: number;
  echo: Measured<{ p50: number; p99: number }>;
  fanout: Measured<FanoutFigures>;
  alone: Measured<{ p50: number; p99: number }>;
  connect: Measured<{ perSecond: number; handshakeP50: number; handshakeP99: number }>;
  memory: Measured<Memory>;
  join: Measured<{ perSecond: number }> | undefined;
}

/** The pids of a server's tree, for {@link sampleCpu}. */
const treeOf = async (server: RunningServer) => (await processTree(server.pid)).map((p) => p.pid);

async function measured<T>(what: string, server: RunningServer, run: () => Promise<T>): Promise<Measured<T>> {
  const from = sampleCpu(await treeOf(server));
  const finish = async () => ({ load: load(), others: othersCores(from, sampleCpu(await treeOf(server))) });
  try {
    const value = await run();
    return { ok: true, value, ...(await finish()) };
  } catch (err) {
    const error = (err as Error).message.split('\n')[0]!;
    console.log(`      ${what} failed: ${error}`);
    return { ok: false, error, ...(await finish()) };
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One client, a message out and its ack back, one at a time. */
async function echo(server: RunningServer): Promise<{ p50: number; p99: number }> {
  const [ws] = (await openMany(server.wsUrl, 1)).clients;
  try {
    const times: number[] = [];
    for (let i = -3; i < ECHO_ROUNDS; i++) {
      const started = performance.now();
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ack for echo ${i} after 30 s`)), 30_000);
        const onMessage = (data: WebSocket.RawData) => {
          if (!data.toString().startsWith('{"type":"ack"')) return;
          clearTimeout(timer);
          ws!.off('message', onMessage);
          resolve();
        };
        ws!.on('message', onMessage);
        ws!.send(JSON.stringify({ type: 'message', text: `echo ${i}` }));
      });
      if (i >= 0) times.push(performance.now() - started);
      await sleep(ECHO_GAP_MS);
    }
    return { p50: percentile(times, 50), p99: percentile(times, 99) };
  } finally {
    await closeAll([ws!]);
  }
}

/** Opens clients one at a time, each closed before the next: what a lone user waits for. */
async function connectAlone(server: RunningServer): Promise<{ p50: number; p99: number }> {
  const times: number[] = [];
  for (let i = 0; i < ALONE; i++) {
    const started = performance.now();
    const ws = await open(server.wsUrl);
    times.push(performance.now() - started);
    await closeAll([ws]);
  }
  return { p50: percentile(times, 50), p99: percentile(times, 99) };
}

/** A 100-member room (for the floor, 100 clients of the broadcast server), one sender. */
async function fanout(server: RunningServer, kind: Kind): Promise<FanoutFigures> {
  const clients =
    kind === 'raw'
      ? (await openMany(server.wsUrl, ROOM, CONCURRENCY)).clients
      : (await openAndJoin(server.wsUrl, ROOM, () => 'fanout', { concurrency: CONCURRENCY, label: `${kind}: joining room "fanout"` })).clients;
  try {
    const [sender, ...receivers] = clients;
    const frame = kind === 'raw' ? (tag: string) => tag : (tag: string) => JSON.stringify({ type: 'message', room: 'fanout', text: tag });
    return await timeFanout(sender!, receivers, frame, { messages: FANOUT_MESSAGES, gapMs: FANOUT_GAP_MS });
  } finally {
    await closeAll(clients);
  }
}

/** Opens `count` clients `CONCURRENCY` at a time, timing each handshake. */
async function connectMany(url: string, count: number): Promise<{ clients: WebSocket[]; perSecond: number; handshakes: number[] }> {
  const clients: WebSocket[] = [];
  const handshakes: number[] = [];
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < count) {
      next++;
      const begun = performance.now();
      clients.push(await open(url));
      handshakes.push(performance.now() - begun);
    }
  };
  const results = await Promise.allSettled(Array.from({ length: Math.min(CONCURRENCY, count) }, worker));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    for (const ws of clients) ws.terminate();
    throw new Error(`${clients.length} of ${count} connected, then: ${(failed.reason as Error).message}`);
  }
  return { clients, perSecond: (count / (performance.now() - started)) * 1000, handshakes };
}

/** Waits until no web-function instance is left (they linger a moment after their connection). */
async function instancesGone(pid: number, timeoutMs = 60_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const { instances } = await cloudProcesses(pid);
    if (instances.length === 0) return;
    if (performance.now() > deadline)
      throw new Error(`${instances.length} web-function instances still running ${timeoutMs / 1000} s after their connections closed`);
    await sleep(250);
  }
}

function memoryOf(kind: Kind, before: CloudProcesses, after: CloudProcesses, count: number): Memory {
  const serverDelta = (sumOf(after.cloud) - sumOf(before.cloud)) / count;
  if (kind !== 'web') return { perConnection: serverDelta, count, serverDelta };
  const instances = { rss: sumOf(after.instances) / count, pss: sumOf(after.instances, 'pss') / count, count: after.instances.length };
  const redis = { rss: sumOf(after.redis), delta: (sumOf(after.redis) - sumOf(before.redis)) / count };
  return { perConnection: instances.rss + serverDelta + redis.delta, count, instances, serverDelta, redis };
}

/** Every measurement against one server, which is stopped at the end. */
async function measureServer(kind: Kind): Promise<Results> {
  const server =
    kind === 'raw'
      ? await startRawServer()
      : await startLocalCloud({ args: ['--limits', 'off', ...(kind === 'web' ? ['--mode', 'web', '--max-web-instances', String(MAX_WEB_INSTANCES)] : [])] });
  console.log(`      ${kind}: ready in ${server.readyMs} ms, load ${load().toFixed(2)}`);
  const settle = async () => {
    if (kind === 'web') await instancesGone(server.pid);
  };
  try {
    const echoResult = await measured(`${kind} echo`, server, () => echo(server));
    console.log(`      ${kind}: echo done, load ${load().toFixed(2)}`);
    await settle();
    const aloneResult = await measured(`${kind} connect alone`, server, () => connectAlone(server));
    await settle();
    const fanoutResult = await measured(`${kind} fan-out`, server, () => fanout(server, kind));
    console.log(`      ${kind}: fan-out done, load ${load().toFixed(2)}`);
    await settle();

    // Warm-up, then the baseline with nothing connected, then the connections held idle.
    await closeAll((await openMany(server.wsUrl, WARM_UP, CONCURRENCY)).clients);
    await settle();
    await sleep(1000);
    const before = await cloudProcesses(server.pid);
    const crowd = new Crowd();
    let memoryResult: Measured<Memory> = { ok: false, error: 'not measured: the connections did not open', load: load(), others: NaN };
    const connectResult = await measured(`${kind} connect`, server, async () => {
      const { clients, perSecond, handshakes } = await connectMany(server.wsUrl, CONNECTIONS);
      crowd.add(clients);
      return { perSecond, handshakeP50: percentile(handshakes, 50), handshakeP99: percentile(handshakes, 99) };
    });
    console.log(`      ${kind}: ${CONNECTIONS} connected, load ${load().toFixed(2)}`);
    if (connectResult.ok) {
      memoryResult = await measured(`${kind} memory`, server, async () => {
        // Let timers, buffers and the instances' start-up settle before reading memory.
        await sleep(3000);
        const after = await cloudProcesses(server.pid);
        crowd.check();
        if (kind === 'web') {
          const memory = memoryOf(kind, before, after, CONNECTIONS);
          if (memory.instances!.count !== CONNECTIONS) throw new Error(`${memory.instances!.count} instance processes for ${CONNECTIONS} open connections`);
          return memory;
        }
        // A few KB per connection times a few hundred is within the heap's own swings: more, to read it.
        const { clients } = await openMany(server.wsUrl, MEMORY_CONNECTIONS - CONNECTIONS, 100);
        crowd.add(clients);
        await sleep(3000);
        const more = await cloudProcesses(server.pid);
        crowd.check();
        return memoryOf(kind, before, more, MEMORY_CONNECTIONS);
      });
    }
    await closeAll(crowd.clients);
    crowd.end();
    await settle();

    let joinResult: Results['join'];
    if (kind !== 'raw') {
      joinResult = await measured(`${kind} connect and join`, server, async () => {
        const { clients, ms } = await openAndJoin(server.wsUrl, CONNECTIONS, (i) => `join-${Math.floor(i / JOIN_ROOM)}`, {
          concurrency: CONCURRENCY,
          label: `${kind}: connecting and joining rooms of ${JOIN_ROOM}`,
        });
        await closeAll(clients);
        return { perSecond: (CONNECTIONS / ms) * 1000 };
      });
      await settle();
    }
    return {
      readyMs: server.readyMs,
      echo: echoResult,
      alone: aloneResult,
      fanout: fanoutResult,
      connect: connectResult,
      memory: memoryResult,
      join: joinResult,
    };
  } finally {
    await server.stop();
  }
}

const size = (bytes: number) => (Math.abs(bytes) >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : `${(bytes / 1024).toFixed(1)} KB`);
const msCell = (v: number) => `${v.toFixed(1)} ms`;
const rateCell = (v: number) => `${v.toFixed(0)}/s`;

/** Prints the table: a row per figure, for each server its value and the load when it was taken. */
function printTable(results: Record<Kind, Results>): void {
  const kinds: Kind[] = ['raw', 'event', 'web'];
  const head = { raw: 'raw ws floor', event: 'event mode', web: 'web mode' };
  const label = 46;
  const col = 13;
  const header = `    ${''.padEnd(label)}${kinds.map((k) => `${head[k].padStart(col)}  load other`).join('')}   web/event`;
  console.log(header);
  const row = <T>(name: string, pick: (r: Results) => Measured<T> | undefined, format: (v: T) => string, value?: (v: T) => number) => {
    const cells = kinds.map((k) => {
      const m = pick(results[k]);
      if (!m) return `${'-'.padStart(col)}${''.padStart(12)}`;
      return `${(m.ok ? format(m.value) : 'FAILED').padStart(col)} ${m.load.toFixed(2).padStart(5)} ${m.others.toFixed(2).padStart(5)}`;
    });
    const e = pick(results.event);
    const w = pick(results.web);
    const times = (r: number) => (r >= 100 ? r.toFixed(0) : r >= 1 ? r.toFixed(1) : r.toFixed(2));
    // a memory delta within the heap's swings can come out negative: no ratio of that
    const ratio = value && e?.ok && w?.ok && value(e.value) > 0 && value(w.value) > 0 ? `${times(value(w.value) / value(e.value))}x`.padStart(11) : '';
    console.log(`    ${name.padEnd(label)}${cells.join('')}${ratio}`);
  };
  row(
    'echo round trip p50',
    (r) => r.echo,
    (v) => msCell(v.p50),
    (v) => v.p50,
  );
  row(
    'echo round trip p99',
    (r) => r.echo,
    (v) => msCell(v.p99),
    (v) => v.p99,
  );
  row(
    `fan-out ${ROOM}-member room, per delivery p50`,
    (r) => r.fanout,
    (v) => msCell(v.deliveryP50),
    (v) => v.deliveryP50,
  );
  row(
    `fan-out ${ROOM}-member room, per delivery p99`,
    (r) => r.fanout,
    (v) => msCell(v.deliveryP99),
    (v) => v.deliveryP99,
  );
  row(
    `fan-out ${ROOM}-member room, last receiver p50`,
    (r) => r.fanout,
    (v) => msCell(v.lastP50),
    (v) => v.lastP50,
  );
  row(
    `fan-out ${ROOM}-member room, sender's ack p50`,
    (r) => r.fanout,
    (v) => msCell(v.ackP50),
    (v) => v.ackP50,
  );
  row(
    `connect alone (one at a time) p50, ${ALONE} clients`,
    (r) => r.alone,
    (v) => msCell(v.p50),
    (v) => v.p50,
  );
  row(
    `connect alone (one at a time) p99`,
    (r) => r.alone,
    (v) => msCell(v.p99),
    (v) => v.p99,
  );
  row(
    `connects/s, ${CONNECTIONS} clients, ${CONCURRENCY} at a time`,
    (r) => r.connect,
    (v) => rateCell(v.perSecond),
    (v) => v.perSecond,
  );
  row(
    '  handshake p50 (waits included)',
    (r) => r.connect,
    (v) => msCell(v.handshakeP50),
    (v) => v.handshakeP50,
  );
  row(
    '  handshake p99',
    (r) => r.connect,
    (v) => msCell(v.handshakeP99),
    (v) => v.handshakeP99,
  );
  row(
    `connect + join/s, ${CONNECTIONS} clients, rooms of ${JOIN_ROOM}`,
    (r) => r.join,
    (v) => rateCell(v.perSecond),
    (v) => v.perSecond,
  );
  row(
    'memory per idle connection',
    (r) => r.memory,
    (v) => size(v.perConnection),
    (v) => v.perConnection,
  );
  row(
    '  connections open when read',
    (r) => r.memory,
    (v) => v.count.toLocaleString('en'),
  );
  row(
    '  server process(es) grew by, per connection',
    (r) => r.memory,
    (v) => size(v.serverDelta),
  );
  row(
    '  instances RSS per connection (one each)',
    (r) => r.memory,
    (v) => (v.instances ? size(v.instances.rss) : '-'),
  );
  row(
    '  instances PSS per connection (shared split)',
    (r) => r.memory,
    (v) => (v.instances ? size(v.instances.pss) : '-'),
  );
  row(
    '  Redis grew by, per connection',
    (r) => r.memory,
    (v) => (v.redis ? size(v.redis.delta) : '-'),
  );
  row(
    '  Redis RSS',
    (r) => r.memory,
    (v) => (v.redis ? size(v.redis.rss) : '-'),
  );
  const failures = kinds.flatMap((k) =>
    (['echo', 'alone', 'fanout', 'connect', 'memory', 'join'] as const).flatMap((part) => {
      const m = results[k][part];
      return m && !m.ok ? [`${head[k]} ${part}: ${m.error}`] : [];
    }),
  );
  for (const failure of failures) console.log(`    FAILED ${failure}`);
  console.log(`    load: one-minute load average at the figure's end, this bench's own processes included`);
  console.log(`    other: cores (of ${os.cpus().length}) kept busy by processes outside this bench while the figure was taken`);
}

/** Runs the raw floor, event mode and web mode, and prints them side by side. */
export async function modesBench(): Promise<void> {
  const started = performance.now();
  console.log(`modes: the chat on the local cloud in event mode and in web mode (--limits off), beside a raw ws server`);
  console.log(`      code ${codeVersion()}`);
  console.log(
    `      ${os.cpus().length} cores, ${(os.totalmem() / 1024 ** 3).toFixed(1)} GB memory, open files limit ${fdLimit()}, load average at start ${loads()}`,
  );
  console.log(
    `      ${CONNECTIONS} connections held (BENCH_MODES_CONNECTIONS): web mode runs one node process per connection locally, --max-web-instances ${MAX_WEB_INSTANCES}`,
  );
  const results = {} as Record<Kind, Results>;
  for (const kind of ['raw', 'event', 'web'] as const) results[kind] = await measureServer(kind);
  console.log('');
  console.log(`(modes) echo: ${ECHO_ROUNDS} messages one at a time; fan-out: ${FANOUT_MESSAGES} messages to ${ROOM - 1} receivers`);
  printTable(results);
  console.log(
    `    ready in: raw ${results.raw.readyMs} ms, event ${results.event.readyMs} ms, web ${results.web.readyMs} ms; memory is VmRSS (PSS splits pages shared between instances)`,
  );
  console.log(`    whole bench ${((performance.now() - started) / 1000).toFixed(0)} s; load average at end ${loads()}`);
}

if (process.argv[1]?.endsWith('modes.ts')) await modesBench();
