/**
 * `defineApp`: an app's three callbacks made into the three SCF handlers of the gateway's
 * WebSocket protocol (register, transport, cleanup). The toolkit owns the events, the connection
 * registry, subprotocols and admission, the push address and its answers, and the 256 KB check.
 */
import { readAdmissionSecret, readPushConfig, readRegistryConfig, readRegistryExpiryDays } from '../lib/config';
import { ChatError, ErrNo, describeError } from '../lib/errors';
import { connectionIdIfAny, parseClosingEvent, parseConnectingEvent, parseDataEvent, type RegisterAnswer } from '../lib/event';
import { negotiate, parseOffer } from '../lib/handshake';
import { PushClient } from '../lib/push-client';
import { registryFor, type ConnectionRegistry, type RegistryEntry } from '../lib/registry';
import { checkedRoom, roomsFor, type Membership } from '../lib/rooms';
import { guestOf } from '../lib/users';
import { InvocationContext, loggerFor } from './context';
import { codeOf } from './errors';
import type { AppDefinition, ConnectContext, Message } from './types';

export type { RegisterAnswer } from '../lib/event';

/** What a transport invocation did; the gateway ignores it, logs and tests read it. */
export interface TransportResult {
  errNo: number;
  errMsg: string;
  /** Registered connections, the sender counted, when the app listed them. */
  online?: number;
  delivered?: number;
  /** Records removed: connections the gateway closed (non-200) or was asked to close (non-zero errNo). */
  pruned?: number;
  /** Pushes answered with a non-zero errNo; those connections were asked to close. */
  refused?: number;
  failed?: number;
  /** What was done to the sender's own record: rewritten to keep it from expiring, or written back. */
  senderRecord?: 'kept' | 'refreshed' | 'restored';
}

/** The three handlers, each exported by its function's bundle as `main_handler`. */
export interface App {
  readonly definition: AppDefinition;
  register(event: unknown, context?: ScfContext): Promise<RegisterAnswer>;
  transport(event: unknown, context?: ScfContext): Promise<TransportResult>;
  cleanup(event: unknown, context?: ScfContext): Promise<{ errNo: number; errMsg: string }>;
}

/** The part of SCF's context object the toolkit reads. */
export interface ScfContext {
  request_id?: string;
}

const DAY_MS = 86_400_000;

/** Defines an app. Its module's default export is what the bundler builds the three functions from. */
export function defineApp(definition: AppDefinition): App {
  if (definition.lobby !== undefined) checkedRoom(definition.lobby);
  const registry = () => registryFor(readRegistryConfig());
  return {
    definition,
    register: (event, context) => register(definition, registry, event, context),
    transport: (event, context) => transport(definition, registry, event, context),
    cleanup: (event, context) => cleanup(definition, registry, event, context),
  };
}

async function register(app: AppDefinition, registry: () => ConnectionRegistry, event: unknown, scf?: ScfContext): Promise<RegisterAnswer> {
  const id = connectionIdIfAny(event);
  try {
    const connecting = parseConnectingEvent(event);
    const offer = connecting.websocket.secWebSocketProtocol;
    const { protocol, expiresAt, user: claimed } = negotiate(offer, readAdmissionSecret(), Date.now(), app.protocols ?? []);
    const connectionId = connecting.websocket.secConnectionID;
    const user = claimed ?? guestOf(connectionId);
    const base = new InvocationContext({ fn: 'register', connectionId, requestId: scf?.request_id, push: undefined, registry, app, user });
    const ctx: ConnectContext = Object.assign(base, {
      protocol,
      claims: expiresAt ? { expiresAt, ...(claimed ? { user: claimed } : {}) } : undefined,
      sourceIp: connecting.requestContext.sourceIp,
      offered: parseOffer(offer),
    });
    await app.onConnect?.(ctx);
    // Written before accepting: a connection the registry does not hold would never receive anything.
    const rooms = roomsFor(readRegistryConfig());
    const writes = await Promise.allSettled([
      registry().add({
        id: connectionId,
        connectedAt: new Date().toISOString(),
        sourceIp: connecting.requestContext.sourceIp,
        protocol,
        user,
        ...(expiresAt ? { claims: { expiresAt: expiresAt.toISOString() } } : {}),
      }),
      rooms.addUserConnection(user.id, connectionId),
      ...(app.lobby ? [rooms.join(connectionId, { room: app.lobby, explicit: false, user })] : []),
    ]);
    const failed = writes.find((w): w is PromiseRejectedResult => w.status === 'rejected');
    if (failed) {
      // Refused whole, not half-registered: what was written is taken back (what cannot be, expires).
      await Promise.allSettled([registry().remove(connectionId), rooms.removeUserConnections(user.id, [connectionId]), rooms.leaveAll(connectionId)]);
      throw failed.reason;
    }
    loggerFor('register', id).info('connected', { protocol, user: user.verified ? user.id : undefined });
    return {
      errNo: ErrNo.OK,
      errMsg: 'ok',
      websocket: { action: 'connecting', secConnectionID: connecting.websocket.secConnectionID, ...(protocol ? { secWebSocketProtocol: protocol } : {}) },
    };
  } catch (err) {
    const errNo = err instanceof ChatError && err.errNo !== ErrNo.OK ? err.errNo : ErrNo.MISCONFIGURED;
    const errMsg = describeError(err);
    loggerFor('register', id)[errNo >= 500 ? 'error' : 'warn']('refused', { errNo, errMsg });
    return { errNo, errMsg, ...(id ? { websocket: { action: 'connecting' as const, secConnectionID: id } } : {}) };
  }
}

/** A client frame as the app sees it. */
function messageOf(frame: { dataType: 'text' | 'binary'; data: string }): Message {
  return frame.dataType === 'binary' ? { type: 'binary', data: Buffer.from(frame.data, 'base64') } : { type: 'text', text: frame.data };
}

async function transport(app: AppDefinition, registry: () => ConnectionRegistry, event: unknown, scf?: ScfContext): Promise<TransportResult> {
  // Without a push address nothing can be said to anyone: fail loudly (the gateway then closes the sender).
  const push = new PushClient(readPushConfig());
  const sender = connectionIdIfAny(event);
  const started = Date.now();
  let expiryDays = 1;
  // The sender's record is kept while the app works, not before it: from the app's listing when it
  // makes one, else from the record itself once the app is done.
  let kept: Promise<TransportResult['senderRecord']> | undefined;
  const keep = () => (kept ??= keepSender(ctx, registry(), sender!, expiryDays, app.lobby));
  const ctx = new InvocationContext({
    fn: 'transport',
    connectionId: sender ?? '',
    requestId: scf?.request_id,
    push,
    registry,
    app,
    onListing: (entries) => void (entries ?? Promise.resolve()).then(keep, () => undefined),
  });

  // Failures are answered to the sender rather than thrown: a failed invocation closes its connection.
  const refuse = async (err: unknown): Promise<TransportResult> => {
    const errNo = err instanceof ChatError ? err.errNo : ErrNo.MISCONFIGURED;
    const message = describeError(err);
    ctx.log.warn('not handled', { errMsg: message });
    const reply = app.errorMessage ? app.errorMessage({ code: codeOf(err), message }) : { type: 'error', code: codeOf(err), message };
    if (sender && reply !== undefined) {
      try {
        await ctx.send(sender, reply);
      } catch (sendErr) {
        ctx.log.warn('could not tell the sender', { errMsg: describeError(sendErr) });
      }
    }
    return { errNo, errMsg: message, ...counts(ctx) };
  };

  let message: Message;
  try {
    const data = parseDataEvent(event);
    message = messageOf(data.websocket);
    expiryDays = readRegistryExpiryDays();
  } catch (err) {
    return refuse(err);
  }
  try {
    await app.onMessage?.(ctx, message);
  } catch (err) {
    const result = await refuse(err);
    await ctx.settled();
    return { ...result, senderRecord: await keep() };
  }
  const senderRecord = await keep();
  await ctx.settled();
  // The sender counts as online whether or not the listing still held it: it just sent a frame.
  const listed = ctx.listing ? await ctx.listing.catch(() => undefined) : undefined;
  const online = listed ? listed.filter((e) => e.id !== sender).length + 1 : undefined;
  ctx.log.info('handled', { online, ...ctx.tally, senderRecord, totalMs: Date.now() - started });
  return { errNo: ErrNo.OK, errMsg: 'ok', ...(online !== undefined ? { online } : {}), ...counts(ctx), senderRecord };
}

function counts(ctx: InvocationContext): Pick<TransportResult, 'delivered' | 'pruned' | 'refused' | 'failed'> {
  return { delivered: ctx.tally.delivered, pruned: ctx.tally.removed, refused: ctx.tally.refused, failed: ctx.tally.failed };
}

/**
 * Keeps the sender registered: the lifecycle rule expires records by their last write, so a record
 * older than half the expiry is rewritten, and one the registry lacks (expired or pruned while the
 * client stayed connected: it just sent a frame) is written back. The age comes from the app's
 * listing when it made one, else from the record itself.
 */
async function keepSender(
  ctx: InvocationContext,
  registry: ConnectionRegistry,
  from: string,
  expiryDays: number,
  lobby: string | undefined,
): Promise<TransportResult['senderRecord']> {
  try {
    let lastModified: number | undefined;
    if (ctx.listing) {
      const entries: RegistryEntry[] = await ctx.listing;
      lastModified = entries.find((e) => e.id === from)?.lastModified;
    } else {
      lastModified = await registry.lastModified(from);
    }
    const rooms = roomsFor(readRegistryConfig());
    if (lastModified === undefined) {
      // Its rooms' keys may have outlived the record: they still say who the user is. One in no
      // room at all is put back in the lobby, where it was at connect.
      const [membership] = await rooms.memberships(from);
      const user = membership?.user ?? guestOf(from);
      await registry.add({ id: from, connectedAt: new Date().toISOString(), restored: true, user });
      await rooms.refresh(from, user.id);
      if (!membership && lobby) await rooms.join(from, { room: lobby, explicit: false, user });
      ctx.log.info('sender record restored');
      return 'restored';
    }
    // NaN (no usable time) counts as old: a needless rewrite is cheaper than a lost record. The
    // record is never younger than the connection's room and user keys, so it speaks for them.
    if (!(Date.now() - lastModified <= (expiryDays * DAY_MS) / 2)) {
      const rewritten = await registry.refresh(from);
      if (rewritten) await rooms.refresh(from, (await ctx.user()).id);
      ctx.log.info('sender record refreshed', { ageMs: Date.now() - lastModified });
      return rewritten ? 'refreshed' : 'kept';
    }
  } catch (err) {
    ctx.log.warn('could not keep the sender record', { errMsg: describeError(err) });
  }
  return 'kept';
}

async function cleanup(app: AppDefinition, registry: () => ConnectionRegistry, event: unknown, scf?: ScfContext): Promise<{ errNo: number; errMsg: string }> {
  const id = connectionIdIfAny(event);
  const log = loggerFor('cleanup', id);
  let closing;
  let memberships: Membership[];
  try {
    closing = parseClosingEvent(event);
    const connectionId = closing.websocket.secConnectionID;
    const rooms = roomsFor(readRegistryConfig());
    // Out of every room first, then the user's index, then the record, which says who the user was.
    memberships = await rooms.leaveAll(connectionId);
    const user = memberships[0]?.user ?? (await registry().get(connectionId))?.user ?? guestOf(connectionId);
    await rooms.removeUserConnections(user.id, [connectionId]);
    await registry().remove(connectionId);
    log.info('disconnected', { rooms: memberships.length });
  } catch (err) {
    // Not rethrown: the client is gone either way, and an id left behind is pruned at its first failed push.
    const errNo = err instanceof ChatError ? err.errNo : ErrNo.MISCONFIGURED;
    const errMsg = describeError(err);
    log.error('failed', { errNo, errMsg });
    return { errNo, errMsg };
  }
  let push: PushClient | undefined;
  try {
    push = new PushClient(readPushConfig());
  } catch {
    // No push address: the app may still clean up its own state; sends then fail.
  }
  const ctx = new InvocationContext({
    fn: 'cleanup',
    connectionId: closing.websocket.secConnectionID,
    requestId: scf?.request_id,
    push,
    registry,
    app,
    ...(memberships[0] ? { user: memberships[0].user } : {}),
  });
  if (push) await ctx.announceLeaves(memberships);
  if (app.onDisconnect) {
    try {
      await app.onDisconnect(ctx);
    } catch (err) {
      log.error('onDisconnect failed', { errMsg: describeError(err) });
    }
  }
  await ctx.settled();
  return { errNo: ErrNo.OK, errMsg: 'ok' };
}
