/**
 * Register function: runs when a client connects. Its answer accepts or refuses the handshake.
 */
import { readAdmissionSecret, readRegistryConfig } from './lib/config';
import { ChatError, ErrNo, describeError } from './lib/errors';
import { connectionIdIfAny, parseConnectingEvent, type RegisterAnswer } from './lib/event';
import { negotiate } from './lib/handshake';
import { log } from './lib/log';
import { registryFor } from './lib/registry';

export async function main_handler(event: unknown): Promise<RegisterAnswer> {
  const id = connectionIdIfAny(event);
  try {
    const connecting = parseConnectingEvent(event);
    const { protocol } = negotiate(connecting.websocket.secWebSocketProtocol, readAdmissionSecret());
    // Written before accepting: a connection the registry does not hold would never receive anything.
    await registryFor(readRegistryConfig()).add({
      id: connecting.websocket.secConnectionID,
      connectedAt: new Date().toISOString(),
      sourceIp: connecting.requestContext.sourceIp,
      protocol,
    });
    log('info', 'register', 'connected', { id, protocol });
    return {
      errNo: ErrNo.OK,
      errMsg: 'ok',
      websocket: { action: 'connecting', secConnectionID: connecting.websocket.secConnectionID, ...(protocol ? { secWebSocketProtocol: protocol } : {}) },
    };
  } catch (err) {
    const errNo = err instanceof ChatError ? err.errNo : ErrNo.MISCONFIGURED;
    const errMsg = describeError(err);
    log(errNo >= 500 ? 'error' : 'warn', 'register', 'refused', { id, errNo, errMsg });
    return { errNo, errMsg, ...(id ? { websocket: { action: 'connecting' as const, secConnectionID: id } } : {}) };
  }
}
