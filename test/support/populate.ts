import { randomBytes } from 'node:crypto';
import type { ConnectionRegistry } from '../../functions/lib/registry';
import type { RoomRegistry } from '../../functions/lib/rooms';
import { guestOf } from '../../functions/lib/users';

/** A connection id shaped like the gateway's: 32 base64 characters, often with + and /. */
export function fakeConnectionId(): string {
  return randomBytes(24).toString('base64');
}

/**
 * Registers `count` new connections, `concurrency` writes at a time; returns their ids. With
 * `rooms`, each is also put in `room` (default `lobby`) as register puts it there, and indexed by user.
 */
export async function populate(
  registry: ConnectionRegistry,
  count: number,
  concurrency = 50,
  rooms?: { registry: RoomRegistry; room?: string },
): Promise<string[]> {
  const ids = Array.from({ length: count }, fakeConnectionId);
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const id = ids[next++];
      if (!rooms) {
        await registry.add({ id, connectedAt: new Date().toISOString() });
        continue;
      }
      const user = guestOf(id);
      await registry.add({ id, connectedAt: new Date().toISOString(), user });
      await rooms.registry.addUserConnection(user.id, id);
      await rooms.registry.join(id, { room: rooms.room ?? 'lobby', explicit: false, user });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return ids;
}
