/**
 * The chat: every message goes to everyone else online, the sender gets an ack. Its wire format is
 * in protocol.ts and the README's protocol table.
 */
import { defineApp } from '../toolkit';
import { relayed, type AckEnvelope } from './protocol';

export default defineApp({
  protocols: ['chat'],

  async onMessage(ctx, message) {
    const others = (await ctx.connections()).filter((c) => c.id !== ctx.connectionId);
    // Counted with the sender, whether or not the registry still lists it.
    const online = others.length + 1;
    const result = await ctx.broadcast(relayed(message, ctx.connectionId, online), { except: ctx.connectionId });
    const ack: AckEnvelope = { type: 'ack', online: online - result.removed, delivered: result.delivered };
    await ctx.send(ctx.connectionId, ack);
  },
});
