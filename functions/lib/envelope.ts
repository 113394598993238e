/**
 * The chat's wire format: what clients send and what they receive.
 */
import { createHash } from 'node:crypto';
import type { PushFrame } from './push-client';

/** Largest frame the gateway delivers to a client (256 KB). */
export const MAX_PUSH_BYTES = 256 * 1024;

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

/** A frame as the client sent it, decoded. */
export type Incoming = { kind: 'text'; text: string } | { kind: 'binary'; base64: string };

/**
 * Reads a client frame: JSON `{"type":"message","text":"..."}` is a chat message, any other text is
 * the message itself, binary stays binary.
 */
export function readIncoming(frame: PushFrame): Incoming {
  if (frame.dataType === 'binary') return { kind: 'binary', base64: frame.data };
  const raw = frame.data;
  if (raw.startsWith('{')) {
    try {
      const parsed = JSON.parse(raw) as { type?: unknown; text?: unknown };
      if (parsed && parsed.type === 'message' && typeof parsed.text === 'string') return { kind: 'text', text: parsed.text };
    } catch {
      // Not JSON: the text is the message.
    }
  }
  return { kind: 'text', text: raw };
}

/** Short display id of a connection: a hash prefix, so the id itself is not revealed. */
export function shortId(connectionId: string): string {
  return createHash('sha256').update(connectionId).digest('base64url').slice(0, 8);
}

/** The frame for an envelope. */
export function envelopeFrame(envelope: Envelope): PushFrame {
  return { dataType: 'text', data: JSON.stringify(envelope) };
}

/** Size in bytes of the message a client receives for this frame. */
export function deliveredSize(frame: PushFrame): number {
  return frame.dataType === 'binary' ? Buffer.byteLength(frame.data, 'base64') : Buffer.byteLength(frame.data, 'utf8');
}
