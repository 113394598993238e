/**
 * The toolkit's function-side API: what an app's module imports.
 *
 *   import { defineApp } from '../toolkit';
 *   export default defineApp({ protocols: ['echo'], onMessage: (ctx, m) => ctx.send(ctx.connectionId, m.type === 'text' ? m.text : m.data) });
 */
export { defineApp, type App, type ScfContext, type TransportResult } from './app';
export { AppError } from './errors';
export type { WebApp, WebServer, WebServerOptions, WebServerStats } from './web';
export {
  createServerClient,
  type RegistryServerClient,
  type ServerBroadcastResult,
  type ServerClient,
  type ServerClientOptions,
  type ServerOutcome,
} from './server';
export { STORE_PREFIX, type ListOptions, type Store, type StoreEntry, type StoreValue } from '../lib/store';
export type { RegistryConfig } from '../lib/config';
export { createAdmissionToken } from '../lib/admission';
export { MAX_PUSH_BYTES } from '../lib/limits';
export { checkedSince, MESSAGE_ID, newMessageId } from '../lib/history';
export { checkedRoom, ROOM_NAME } from '../lib/rooms';
export type { TokenUser } from '../lib/admission';
export type {
  AdmissionClaims,
  AppDefinition,
  BroadcastResult,
  Connection,
  ConnectionRecord,
  ConnectContext,
  Context,
  Delivery,
  HistoryEntry,
  JoinResult,
  LeaveResult,
  Logger,
  Member,
  PresenceEvent,
  Room,
  User,
  Message,
  Outgoing,
} from './types';
