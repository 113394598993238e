import { defineApp } from '../toolkit';

/** Every text frame goes to everyone, the sender included, in capitals; binary frames come back reversed. */
export default defineApp({
  protocols: ['shout'],

  async onMessage(ctx, message) {
    if (message.type === 'binary') {
      await ctx.send(ctx.connectionId, Buffer.from(message.data).reverse());
      return;
    }
    const online = (await ctx.connections()).length;
    await ctx.broadcast({ type: 'shout', text: message.text.toUpperCase(), online });
  },
});
