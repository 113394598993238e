/**
 * The chat's wire format: what clients send and what they receive.
 */
import { createHash } from 'node:crypto';
import type { Message } from '../toolkit';

/** Pushed to every other connection for each chat message. */
export interface MessageEnvelope {
  type: 'message';
  /** Short, stable id of the sender; the full connection id is never shown to others. */
  from: string;
  text: string;
  /** Connections online when the message was sent, sender included. */
  online: number;
  sentAt: string;
}

/** Pushed to the sender once the broadcast is done. */
export interface AckEnvelope {
  type: 'ack';
  online: number;
  /** Connections the message reached. */
  delivered: number;
}

/** Pushed to the sender when its message was not broadcast. */
export interface ErrorEnvelope {
  type: 'error';
  code: 'MESSAGE_TOO_LARGE' | 'REGISTRY_UNAVAILABLE' | 'MALFORMED_EVENT';
  message: string;
}

export type Envelope = MessageEnvelope | AckEnvelope | ErrorEnvelope;

/**
 * The text of a chat message: JSON `{"type":"message","text":"..."}` carries it, any other text is
 * the message itself.
 */
export function messageText(raw: string): string {
  if (raw.startsWith('{')) {
    try {
      const parsed = JSON.parse(raw) as { type?: unknown; text?: unknown };
      if (parsed && parsed.type === 'message' && typeof parsed.text === 'string') return parsed.text;
    } catch {
      // Not JSON: the text is the message.
    }
  }
  return raw;
}

/** What the other clients receive for a frame: binary stays binary, text becomes a message envelope. */
export function relayed(message: Message, from: string, online: number): Buffer | MessageEnvelope {
  if (message.type === 'binary') return message.data;
  return { type: 'message', from: shortId(from), text: messageText(message.text), online, sentAt: new Date().toISOString() };
}

/** Short display id of a connection: a hash prefix, so the id itself is not revealed. */
export function shortId(connectionId: string): string {
  return createHash('sha256').update(connectionId).digest('base64url').slice(0, 8);
}
