/**
 * The chat: rooms (everyone starts in `lobby`), named users, presence and history with resume.
 * Its wire format is in protocol.ts and the README's protocol tables.
 */
import { AppError, checkedSince, defineApp, MAX_PUSH_BYTES, newMessageId, type Context } from '../toolkit';
import { checkedFrame } from '../toolkit/pushes';
import {
  isBinary,
  LOBBY,
  messageEnvelope,
  parseRequest,
  type AckEnvelope,
  type ChatRequest,
  type DirectEnvelope,
  type HistoryEnvelope,
  type JoinedEnvelope,
  type KeptMessage,
  type LeftEnvelope,
  type MessageEnvelope,
} from './protocol';

/** The widest `online` the size check allows for: a message that fits with it fits with any real count. */
const MAX_ONLINE = 9_999_999;

async function say(ctx: Context, roomName: string, text: string): Promise<void> {
  const room = ctx.room(roomName);
  const me = await room.member();
  if (!me) throw new AppError('NOT_IN_ROOM', `you are not in room ${roomName}: join it first`);
  // Refused before it is kept: a message nobody could receive must not sit in the history. The
  // room is listed only after the message is kept, so `online` is counted at its widest.
  checkedFrame(messageEnvelope(roomName, { id: 'x'.repeat(18), at: new Date().toISOString(), data: { from: me.user, text } }, MAX_ONLINE));
  // Kept before the room is listed: a client joining meanwhile finds it live or in history.
  const entry = await room.remember<KeptMessage>({ from: me.user, text });
  const members = await room.members();
  // Counted with the sender, whether or not the listing still holds it.
  const online = members.filter((m) => m.connectionId !== ctx.connectionId).length + 1;
  const result = await room.broadcast(messageEnvelope(roomName, entry, online), { except: ctx.connectionId });
  const ack: AckEnvelope = { type: 'ack', id: entry.id, room: roomName, online: online - result.removed, delivered: result.delivered };
  await ctx.send(ctx.connectionId, ack);
}

async function handle(ctx: Context, request: ChatRequest): Promise<void> {
  switch (request.type) {
    case 'message':
      return say(ctx, request.room, request.text);
    case 'join': {
      const room = ctx.room(request.room);
      // Checked before joining, so a bad `since` changes nothing.
      const since = request.since === undefined ? undefined : checkedSince(request.since);
      const joined = await ctx.join(request.room);
      const reply: JoinedEnvelope = {
        type: 'joined',
        room: request.room,
        members: joined.members.map((m) => m.user),
        online: joined.online,
        you: await ctx.user(),
      };
      await ctx.send(ctx.connectionId, reply);
      const kept = await room.history<KeptMessage>(since !== undefined ? { since } : {});
      for (const history of historyFrames(
        request.room,
        kept.map((e) => messageEnvelope(request.room, e)),
      ))
        await ctx.send(ctx.connectionId, history);
      return;
    }
    case 'leave': {
      const left = await ctx.leave(request.room);
      if (!left.left) throw new AppError('NOT_IN_ROOM', `you are not in room ${request.room}`);
      const reply: LeftEnvelope = { type: 'left', room: request.room, online: left.online };
      await ctx.send(ctx.connectionId, reply);
      return;
    }
    case 'profile': {
      const user = await ctx.setName(request.name);
      await ctx.send(ctx.connectionId, { type: 'profile', user });
      return;
    }
    case 'direct': {
      const from = await ctx.user();
      const direct: DirectEnvelope = { type: 'direct', id: newMessageId(), from, text: request.text, sentAt: new Date().toISOString() };
      const result = await ctx.sendToUser(request.to, direct);
      const ack: AckEnvelope = { type: 'ack', id: direct.id, to: request.to, delivered: result.delivered };
      await ctx.send(ctx.connectionId, ack);
      return;
    }
  }
}

/**
 * The history as frames of at most 256 KB, oldest first: one `history` envelope when it fits,
 * else several, each but the last marked `more: true`. A kept message that could not fit even
 * alone (kept before the size check existed) is left out.
 */
export function historyFrames(room: string, messages: MessageEnvelope[]): HistoryEnvelope[] {
  const frames: HistoryEnvelope[] = [];
  const overhead = Buffer.byteLength(JSON.stringify({ type: 'history', room, messages: [], more: true }));
  let batch: MessageEnvelope[] = [];
  let size = overhead;
  for (const message of messages) {
    const bytes = Buffer.byteLength(JSON.stringify(message)) + 1;
    if (overhead + bytes > MAX_PUSH_BYTES) continue;
    if (size + bytes > MAX_PUSH_BYTES && batch.length > 0) {
      frames.push({ type: 'history', room, messages: batch, more: true });
      batch = [];
      size = overhead;
    }
    batch.push(message);
    size += bytes;
  }
  frames.push({ type: 'history', room, messages: batch });
  return frames;
}

export default defineApp({
  protocols: ['chat'],
  lobby: LOBBY,

  async onMessage(ctx, message) {
    if (isBinary(message)) {
      // Binary is relayed as it is, to the lobby; it is not kept.
      const room = ctx.room(LOBBY);
      if (!(await room.member())) throw new AppError('NOT_IN_ROOM', `you are not in room ${LOBBY}: join it first`);
      const online = (await room.members()).filter((m) => m.connectionId !== ctx.connectionId).length + 1;
      const result = await room.broadcast(message.data, { except: ctx.connectionId });
      const ack: AckEnvelope = { type: 'ack', id: newMessageId(), room: LOBBY, online: online - result.removed, delivered: result.delivered };
      await ctx.send(ctx.connectionId, ack);
      return;
    }
    await handle(ctx, parseRequest(message.text));
  },
});
