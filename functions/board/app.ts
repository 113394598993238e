/**
 * A shared board: binary strokes are kept in COS and relayed to the others, cursors are relayed
 * only, and a late joiner's `hello` replays every stroke. Its wire format is in protocol.ts and the
 * README's board table.
 */
import { AppError, defineApp, type Context } from '../toolkit';
import {
  BOARD_PROTOCOL,
  checkStroke,
  MAX_STROKES,
  parseCommand,
  shortId,
  strokeKey,
  STROKES_PREFIX,
  type ClearedEnvelope,
  type CursorEnvelope,
  type ReadyEnvelope,
} from './protocol';

/** Strokes read from COS at once while replaying; they are still sent one by one, in order. */
const REPLAY_READ_AHEAD = 16;

export default defineApp({
  protocols: [BOARD_PROTOCOL],

  async onMessage(ctx, message) {
    if (message.type === 'binary') return addStroke(ctx, message.data);
    const command = parseCommand(message.text);
    switch (command.type) {
      case 'hello':
        return replay(ctx);
      case 'cursor': {
        const moved: CursorEnvelope = { type: 'cursor', from: shortId(ctx.connectionId), x: command.x, y: command.y };
        await ctx.broadcast(moved, { except: ctx.connectionId });
        return;
      }
      case 'clear':
        return clear(ctx);
    }
  },
});

/** Stores a stroke, then relays it: a client that says hello once it has seen the stroke gets it too. */
async function addStroke(ctx: Context, stroke: Buffer): Promise<void> {
  checkStroke(stroke);
  // A count, not a lock: two strokes at once on a nearly full board may both get in.
  const stored = await ctx.store.list(STROKES_PREFIX, { limit: MAX_STROKES });
  if (stored.length >= MAX_STROKES) throw new AppError('BOARD_FULL', `the board holds ${MAX_STROKES} strokes; clear it to draw more`);
  await ctx.store.put(strokeKey(), stroke);
  await ctx.broadcast(stroke, { except: ctx.connectionId });
}

/** Sends the sender every stored stroke in order, then `ready` with how many. */
async function replay(ctx: Context): Promise<void> {
  const keys = (await ctx.store.list(STROKES_PREFIX)).map((e) => e.key);
  let sent = 0;
  for (let i = 0; i < keys.length; i += REPLAY_READ_AHEAD) {
    const strokes = await Promise.all(keys.slice(i, i + REPLAY_READ_AHEAD).map((key) => ctx.store.get(key)));
    for (const stroke of strokes) {
      // Gone meanwhile: a clear ran while replaying.
      if (stroke === undefined) continue;
      const delivery = await ctx.send(ctx.connectionId, stroke);
      // The sender is gone or unreachable: the rest would not reach it either.
      if (delivery !== 'delivered') return;
      sent++;
    }
  }
  const ready: ReadyEnvelope = { type: 'ready', strokes: sent };
  await ctx.send(ctx.connectionId, ready);
}

/** Deletes every stroke and tells everyone, the sender too (even when the listing lacks it). */
async function clear(ctx: Context): Promise<void> {
  const keys = (await ctx.store.list(STROKES_PREFIX)).map((e) => e.key);
  await ctx.store.deleteMany(keys);
  const cleared: ClearedEnvelope = { type: 'cleared' };
  await ctx.broadcast(cleared, { except: ctx.connectionId });
  await ctx.send(ctx.connectionId, cleared);
}
