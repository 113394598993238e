import { randomBytes } from 'node:crypto';
import type { ConnectionRegistry } from '../../functions/lib/registry';

/** A connection id shaped like the gateway's: 32 base64 characters, often with + and /. */
export function fakeConnectionId(): string {
  return randomBytes(24).toString('base64');
}

/** Registers `count` new connections, `concurrency` writes at a time; returns their ids. */
export async function populate(registry: ConnectionRegistry, count: number, concurrency = 50): Promise<string[]> {
  const ids = Array.from({ length: count }, fakeConnectionId);
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const id = ids[next++];
      await registry.add({ id, connectedAt: new Date().toISOString() });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return ids;
}
