/**
 * Transport function: runs for every frame a client sends, and broadcasts it to every other
 * connection through the gateway's reverse-push address.
 */
import { readPushConfig, readRegistryConfig } from './lib/config';
import { ChatError, ErrNo, describeError } from './lib/errors';
import { connectionIdIfAny, parseDataEvent } from './lib/event';
import { MAX_PUSH_BYTES, deliveredSize, envelopeFrame, readIncoming, shortId, type ErrorEnvelope } from './lib/envelope';
import { log } from './lib/log';
import { PushClient, type PushFrame } from './lib/push-client';
import { registryFor } from './lib/registry';

/** What a transport invocation did; the gateway ignores it, logs and tests read it. */
export interface TransportResult {
  errNo: number;
  errMsg: string;
  online?: number;
  delivered?: number;
  pruned?: number;
  failed?: number;
}

function errorCode(err: unknown): ErrorEnvelope['code'] {
  const code = err instanceof ChatError ? err.code : '';
  return code === 'MALFORMED_EVENT' || code === 'MESSAGE_TOO_LARGE' ? code : 'REGISTRY_UNAVAILABLE';
}

export async function main_handler(event: unknown): Promise<TransportResult> {
  // Without a push address nothing can be said to anyone: fail loudly (the gateway then closes the sender).
  const push = new PushClient(readPushConfig());
  const sender = connectionIdIfAny(event);

  // Failures below are answered to the sender rather than thrown: a failed invocation closes its connection.
  const refuse = async (err: unknown): Promise<TransportResult> => {
    const errNo = err instanceof ChatError ? err.errNo : ErrNo.MISCONFIGURED;
    const message = describeError(err);
    log('warn', 'transport', 'not broadcast', { id: sender, errMsg: message });
    if (sender) await push.send(sender, envelopeFrame({ type: 'error', code: errorCode(err), message }));
    return { errNo, errMsg: message };
  };

  let from: string;
  let ids: string[];
  let incoming;
  const started = Date.now();
  try {
    const data = parseDataEvent(event);
    from = data.websocket.secConnectionID;
    incoming = readIncoming(data.websocket);
    ids = await registryFor(readRegistryConfig()).list();
  } catch (err) {
    return refuse(err);
  }
  const listMs = Date.now() - started;

  const others = ids.filter((id) => id !== from);
  const online = others.length + 1;
  const frame: PushFrame =
    incoming.kind === 'binary'
      ? { dataType: 'binary', data: incoming.base64 }
      : envelopeFrame({ type: 'message', from: shortId(from), text: incoming.text, online, sentAt: new Date().toISOString() });
  const size = deliveredSize(frame);
  if (size > MAX_PUSH_BYTES) {
    return refuse(
      new ChatError('MESSAGE_TOO_LARGE', `message is ${size} bytes once wrapped, over the ${MAX_PUSH_BYTES}-byte limit; it was not sent`, ErrNo.MALFORMED_EVENT),
    );
  }

  const outcomes = await push.broadcast(others, frame);
  const delivered = outcomes.filter((o) => o.status === 'delivered').length;
  const gone = outcomes.flatMap((o) => (o.status === 'gone' ? [o.id] : []));
  const failed = outcomes.filter((o) => o.status === 'failed');
  let pruned = 0;
  if (gone.length > 0) {
    try {
      pruned = await registryFor(readRegistryConfig()).removeMany(gone);
    } catch (err) {
      log('warn', 'transport', 'could not prune gone connections', { count: gone.length, errMsg: describeError(err) });
    }
  }
  if (failed.length > 0) {
    log('warn', 'transport', 'some pushes failed', { count: failed.length, first: failed[0].status === 'failed' ? failed[0].error : '' });
  }
  await push.send(from, envelopeFrame({ type: 'ack', online: online - gone.length, delivered }));
  log('info', 'transport', 'broadcast', { id: from, online, delivered, pruned, failed: failed.length, listMs, totalMs: Date.now() - started });
  return { errNo: ErrNo.OK, errMsg: 'ok', online, delivered, pruned, failed: failed.length };
}
