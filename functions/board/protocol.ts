/**
 * The board's wire format (subprotocol `board`): binary frames are strokes, text frames are JSON
 * commands. Strokes are opaque to the server (clients may pack Float32 points, say); it stores and
 * relays them as they came.
 */
import { createHash, randomBytes } from 'node:crypto';
import { AppError } from '../toolkit';

export const BOARD_PROTOCOL = 'board';
/** Largest stroke accepted, in bytes. */
export const MAX_STROKE_BYTES = 16 * 1024;
/** Strokes a board holds; the next is refused with `BOARD_FULL` until it is cleared. */
export const MAX_STROKES = 2000;
/** Where strokes are kept in the app's store, one object each. */
export const STROKES_PREFIX = 'strokes/';

/** What a client sends as text. */
export type Command =
  /** Asks for every stored stroke (as binary frames), then `ready`. */
  | { type: 'hello' }
  /** Where this client's pointer is; relayed to the others, not stored. */
  | { type: 'cursor'; x: number; y: number }
  /** Deletes every stroke; everyone is told `cleared`. */
  | { type: 'clear' };

/** Pushed to the client that said hello, after the strokes. */
export interface ReadyEnvelope {
  type: 'ready';
  /** Strokes replayed. */
  strokes: number;
}

/** Pushed to the others for each cursor move. */
export interface CursorEnvelope {
  type: 'cursor';
  /** Short, stable id of the mover; the connection id itself is never shown to others. */
  from: string;
  x: number;
  y: number;
}

/** Pushed to everyone once the board was cleared. */
export interface ClearedEnvelope {
  type: 'cleared';
}

/** Pushed to everyone by `npm run announce`. */
export interface AnnouncementEnvelope {
  type: 'announcement';
  text: string;
}

/** Pushed to the sender of a frame that was not handled; its connection stays open. */
export interface ErrorEnvelope {
  type: 'error';
  code:
    'INVALID_MESSAGE' | 'UNKNOWN_TYPE' | 'INVALID_CURSOR' | 'EMPTY_STROKE' | 'STROKE_TOO_LARGE' | 'BOARD_FULL' | 'STORE_UNAVAILABLE' | 'REGISTRY_UNAVAILABLE';
  message: string;
}

export type Envelope = ReadyEnvelope | CursorEnvelope | ClearedEnvelope | AnnouncementEnvelope | ErrorEnvelope;

/** Reads a text frame as a command. @throws AppError `INVALID_MESSAGE`, `UNKNOWN_TYPE`, `INVALID_CURSOR`. */
export function parseCommand(text: string): Command {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new AppError('INVALID_MESSAGE', 'text frames must be JSON commands: {"type":"hello"}, {"type":"cursor","x":n,"y":n} or {"type":"clear"}');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new AppError('INVALID_MESSAGE', 'a command must be a JSON object with a "type"');
  const command = value as Record<string, unknown>;
  switch (command.type) {
    case 'hello':
    case 'clear':
      return { type: command.type };
    case 'cursor': {
      const { x, y } = command;
      if (typeof x !== 'number' || typeof y !== 'number' || !Number.isFinite(x) || !Number.isFinite(y)) {
        throw new AppError('INVALID_CURSOR', 'a cursor needs finite numbers "x" and "y"');
      }
      return { type: 'cursor', x, y };
    }
    default:
      throw new AppError('UNKNOWN_TYPE', `unknown command type ${JSON.stringify(command.type) ?? 'undefined'}; the board knows hello, cursor and clear`);
  }
}

/** Checks a stroke's size. @throws AppError `EMPTY_STROKE`, `STROKE_TOO_LARGE`. */
export function checkStroke(data: Buffer): void {
  if (data.length === 0) throw new AppError('EMPTY_STROKE', 'a stroke needs at least one byte');
  if (data.length > MAX_STROKE_BYTES) throw new AppError('STROKE_TOO_LARGE', `a stroke is at most ${MAX_STROKE_BYTES} bytes, this one is ${data.length}`);
}

let sequence = 0;

/**
 * A new stroke's key: the time, zero-padded so that keys list in the order strokes came, then a
 * counter and random bytes so that strokes in the same millisecond (here or in another instance)
 * never share a key.
 */
export function strokeKey(now = Date.now()): string {
  sequence = (sequence + 1) % 1_000_000;
  return `${STROKES_PREFIX}${String(now).padStart(15, '0')}-${String(sequence).padStart(6, '0')}-${randomBytes(4).toString('hex')}`;
}

/** Short display id of a connection: a hash prefix, so the id itself is not revealed. */
export function shortId(connectionId: string): string {
  return createHash('sha256').update(connectionId).digest('base64url').slice(0, 8);
}
