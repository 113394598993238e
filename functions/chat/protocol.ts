/**
 * The chat's wire format: what clients send and what they receive (the README's protocol tables).
 */
import { AppError, type Message, type User } from '../toolkit';

/** The room of every connection that never joins one, and of messages that name none. */
export const LOBBY = 'lobby';

/** What a client may send. Any text that is not one of these JSON objects is a message to the lobby. */
export type ChatRequest =
  | { type: 'join'; room: string; since?: string }
  | { type: 'leave'; room: string }
  | { type: 'message'; room: string; text: string }
  | { type: 'profile'; name: string }
  | { type: 'direct'; to: string; text: string };

/** A message someone said in a room, as the others receive it and as history keeps it. */
export interface MessageEnvelope {
  type: 'message';
  /** Sorts in time order within the room; `since` takes it. */
  id: string;
  room: string;
  from: User;
  text: string;
  /** Connections in the room when it was sent, sender included (absent in history). */
  online?: number;
  sentAt: string;
}

/** What a room's history keeps of a message. */
export interface KeptMessage {
  from: User;
  text: string;
}

/** Pushed to the sender once the broadcast is done. */
export interface AckEnvelope {
  type: 'ack';
  /** The id the others received the message with. */
  id: string;
  room?: string;
  /** For a direct message: the user it went to. */
  to?: string;
  online?: number;
  /** Connections the message reached. */
  delivered: number;
}

export interface JoinedEnvelope {
  type: 'joined';
  room: string;
  /** Everyone in the room, the joiner included. */
  members: User[];
  online: number;
  /** The joiner itself, as the others see it (a guest cannot tell otherwise which member it is). */
  you: User;
}

export interface HistoryEnvelope {
  type: 'history';
  room: string;
  /** Oldest first. */
  messages: MessageEnvelope[];
  /** Set when the history did not fit one 256 KB frame: more `history` frames follow. */
  more?: true;
}

export interface LeftEnvelope {
  type: 'left';
  room: string;
  online: number;
}

export interface ProfileEnvelope {
  type: 'profile';
  user: User;
}

/** A message sent to one user, at each of its connections. */
export interface DirectEnvelope {
  type: 'direct';
  id: string;
  from: User;
  text: string;
  sentAt: string;
}

const bad = (message: string) => new AppError('BAD_REQUEST', message);

function stringField(request: Record<string, unknown>, field: string): string {
  const value = request[field];
  if (typeof value !== 'string') throw bad(`"${request.type}" needs "${field}" as a string`);
  return value;
}

/**
 * What a text frame asks for. JSON objects of a known `type` are requests (and must be well
 * formed); any other text is the message itself, said in the lobby, as the first chat had it.
 * @throws AppError `BAD_REQUEST` for a known type with missing or mistyped fields
 */
export function parseRequest(raw: string): ChatRequest {
  let parsed: unknown;
  if (raw.startsWith('{')) {
    try {
      parsed = JSON.parse(raw);
    } catch {
      // Not JSON: the text is the message.
    }
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return { type: 'message', room: LOBBY, text: raw };
  const request = parsed as Record<string, unknown>;
  switch (request.type) {
    case 'message':
      if (typeof request.text !== 'string') return { type: 'message', room: LOBBY, text: raw };
      return { type: 'message', room: request.room === undefined ? LOBBY : stringField(request, 'room'), text: request.text };
    case 'join': {
      const since = request.since === undefined || request.since === null ? undefined : stringField(request, 'since');
      return { type: 'join', room: stringField(request, 'room'), ...(since !== undefined ? { since } : {}) };
    }
    case 'leave':
      return { type: 'leave', room: stringField(request, 'room') };
    case 'profile':
      return { type: 'profile', name: stringField(request, 'name') };
    case 'direct':
      return { type: 'direct', to: stringField(request, 'to'), text: stringField(request, 'text') };
    default:
      return { type: 'message', room: LOBBY, text: raw };
  }
}

/** What a client receives for a message from history or from a sender. */
export function messageEnvelope(room: string, entry: { id: string; at: string; data: KeptMessage }, online?: number): MessageEnvelope {
  return {
    type: 'message',
    id: entry.id,
    room,
    from: entry.data.from,
    text: entry.data.text,
    ...(online !== undefined ? { online } : {}),
    sentAt: entry.at,
  };
}

/** A binary frame is relayed to the lobby as it is. */
export function isBinary(message: Message): message is Extract<Message, { type: 'binary' }> {
  return message.type === 'binary';
}
