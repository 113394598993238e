/**
 * Chat clients for the room benchmarks: open-and-join many with bounded concurrency, keep them
 * from idling out, and time one sender's messages to a room until every receiver had them.
 */
import type WebSocket from 'ws';
import { open } from './clients';
import { percentile } from './stats';

/** Joins `room` and resolves once its `history` arrived (the join is then complete). */
export function join(ws: WebSocket, room: string, timeoutMs = 120_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      clearTimeout(timer);
      ws.off('message', onMessage);
      ws.off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const timer = setTimeout(() => done(new Error(`join of ${room} not done after ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (data: WebSocket.RawData) => {
      const text = data.toString();
      // Presence and other rooms' traffic pass by; only this room's history or an error matter.
      if (!text.startsWith('{"type":"history"') && !text.startsWith('{"type":"error"')) return;
      const reply = JSON.parse(text) as { type: string; room?: string; code?: string; message?: string };
      if (reply.type === 'error') done(new Error(`join of ${room}: ${reply.code} ${reply.message}`));
      else if (reply.room === room) done();
    };
    const onClose = (code: number) => done(new Error(`closed (${code}) while joining ${room}`));
    ws.on('message', onMessage);
    ws.on('close', onClose);
    ws.send(JSON.stringify({ type: 'join', room }));
  });
}

/** Prints a progress line at most every `everyMs` and when asked to finish. */
export function progress(label: string, total: number, everyMs = 10_000): { step(): void; finish(): number } {
  const started = performance.now();
  let done = 0;
  let lastPrint = started;
  const line = () => {
    const s = (performance.now() - started) / 1000;
    console.log(`      ${label}: ${done.toLocaleString('en')}/${total.toLocaleString('en')} in ${s.toFixed(0)} s (${(done / s).toFixed(0)}/s)`);
  };
  return {
    step() {
      done++;
      const now = performance.now();
      if (now - lastPrint >= everyMs) {
        lastPrint = now;
        line();
      }
    },
    finish() {
      line();
      return performance.now() - started;
    },
  };
}

/**
 * Opens `count` clients, each joining the room `roomOf(i)` right after its handshake, `concurrency`
 * clients at a time. Connecting and joining together keeps the registry growing as it would.
 */
export async function openAndJoin(
  url: string,
  count: number,
  roomOf: (i: number) => string,
  options: { concurrency?: number; label: string },
): Promise<{ clients: WebSocket[]; ms: number }> {
  const clients: WebSocket[] = new Array(count);
  const shown = progress(options.label, count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const ws = await open(url);
      clients[i] = ws;
      await join(ws, roomOf(i));
      shown.step();
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 32, count) }, worker));
  return { clients, ms: shown.finish() };
}

/**
 * Counts closes the bench did not ask for (idle timeout, limits) and pings every client so none
 * idles out during long setups. Call `stop()` before closing them on purpose.
 */
export class Crowd {
  readonly clients: WebSocket[] = [];
  /** Close codes of clients that closed while they were meant to stay. */
  readonly unexpectedCloses: number[] = [];
  #stopped = false;
  readonly #pinger: NodeJS.Timeout;

  constructor(pingEveryMs = 60_000) {
    // Spread over the interval, a slice each second: thousands of pings at once would show up as
    // latency in whatever is being measured at that moment.
    const slices = Math.max(1, Math.round(pingEveryMs / 1000));
    let tick = 0;
    this.#pinger = setInterval(() => {
      const slice = tick++ % slices;
      for (let i = slice; i < this.clients.length; i += slices) {
        const ws = this.clients[i]!;
        if (ws.readyState === ws.OPEN) ws.ping();
      }
    }, 1000);
  }

  add(clients: readonly WebSocket[]): void {
    for (const ws of clients) {
      this.clients.push(ws);
      ws.once('close', (code) => {
        if (!this.#stopped) this.unexpectedCloses.push(code);
      });
    }
  }

  /** Throws if any client closed on its own: figures measured then would not mean what they say. */
  check(): void {
    if (this.unexpectedCloses.length > 0) {
      throw new Error(`${this.unexpectedCloses.length} clients closed during the bench (codes ${[...new Set(this.unexpectedCloses)].join(', ')})`);
    }
  }

  /** Stops pinging and cuts every socket without a close handshake (the server is already gone). */
  end(): void {
    this.#stopped = true;
    clearInterval(this.#pinger);
    for (const ws of this.clients) ws.terminate();
  }
}

/** Figures of one fan-out run, in milliseconds from the send. */
export interface FanoutFigures {
  deliveryP50: number;
  deliveryP99: number;
  lastP50: number;
  lastP99: number;
  ackP50: number;
  messages: number;
  receivers: number;
}

/**
 * One sender says `messages` messages (plus one warm-up, not counted), one at a time: each once
 * its ack and every receiver's copy arrived, `gapMs` after the previous one.
 * @param frame the frame to send for a tag: a chat `message` to a room, or the bare tag for the raw floor
 */
export async function timeFanout(
  sender: WebSocket,
  receivers: readonly WebSocket[],
  frame: (tag: string) => string,
  options: { messages: number; gapMs: number; timeoutMs?: number },
): Promise<FanoutFigures> {
  const deliveries: number[] = [];
  const lasts: number[] = [];
  const acks: number[] = [];
  let current: { tag: string; sentAt: number; left: number; acked: boolean; check: () => void } | undefined;
  const onReceive = (data: WebSocket.RawData) => {
    if (!current || !data.toString().includes(current.tag)) return;
    const latency = performance.now() - current.sentAt;
    deliveries.push(latency);
    if (--current.left === 0) {
      lasts.push(latency);
      current.check();
    }
  };
  const onSenderMessage = (data: WebSocket.RawData) => {
    const text = data.toString();
    if (!current || current.acked || !text.startsWith('{"type":"ack"')) return;
    acks.push(performance.now() - current.sentAt);
    current.acked = true;
    current.check();
  };
  for (const ws of receivers) ws.on('message', onReceive);
  sender.on('message', onSenderMessage);
  try {
    for (let i = -1; i < options.messages; i++) {
      const tag = `bench-${i}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          const c = current!;
          reject(
            new Error(
              `message ${i}: ${receivers.length - c.left} of ${receivers.length} receivers, ack ${c.acked ? 'seen' : 'missing'} after ${options.timeoutMs ?? 60_000} ms`,
            ),
          );
        }, options.timeoutMs ?? 60_000);
        current = {
          tag,
          sentAt: performance.now(),
          left: receivers.length,
          acked: false,
          check: () => {
            if (current!.left === 0 && current!.acked) {
              clearTimeout(timer);
              resolve();
            }
          },
        };
        sender.send(frame(tag));
      });
      if (i === -1) {
        deliveries.length = 0;
        lasts.length = 0;
        acks.length = 0;
      }
      current = undefined;
      await new Promise((r) => setTimeout(r, options.gapMs));
    }
  } finally {
    for (const ws of receivers) ws.off('message', onReceive);
    sender.off('message', onSenderMessage);
  }
  return {
    deliveryP50: percentile(deliveries, 50),
    deliveryP99: percentile(deliveries, 99),
    lastP50: percentile(lasts, 50),
    lastP99: percentile(lasts, 99),
    ackP50: percentile(acks, 50),
    messages: options.messages,
    receivers: receivers.length,
  };
}
