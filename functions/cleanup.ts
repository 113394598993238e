/**
 * Cleanup function: runs when a client closes. Removes the connection from the registry.
 */
import { readRegistryConfig } from './lib/config';
import { ChatError, ErrNo, describeError } from './lib/errors';
import { connectionIdIfAny, parseClosingEvent } from './lib/event';
import { log } from './lib/log';
import { registryFor } from './lib/registry';

export async function main_handler(event: unknown): Promise<{ errNo: number; errMsg: string }> {
  const id = connectionIdIfAny(event);
  try {
    const closing = parseClosingEvent(event);
    await registryFor(readRegistryConfig()).remove(closing.websocket.secConnectionID);
    log('info', 'cleanup', 'disconnected', { id });
    return { errNo: ErrNo.OK, errMsg: 'ok' };
  } catch (err) {
    // Not rethrown: the client is gone either way, and an id left behind is pruned at its first failed push.
    const errNo = err instanceof ChatError ? err.errNo : ErrNo.MISCONFIGURED;
    const errMsg = describeError(err);
    log('error', 'cleanup', 'failed', { id, errNo, errMsg });
    return { errNo, errMsg };
  }
}
