/**
 * Who is behind a connection: a user id and display name, verified when an admission token signed
 * them, else an anonymous guest named after the connection's hash (and renamed by the client).
 */
import { createHash } from 'node:crypto';
import { ChatError, ErrNo } from './errors';

/** A connection's user, as others see it. */
export interface User {
  /** Stable id: from the token's claims, or `guest-<hash>` of the connection. */
  id: string;
  /** Display name: from the token's claims, or chosen by the client (unverified). */
  name: string;
  /** Whether an admission token signed `id` and `name`. */
  verified: boolean;
}

/** A user id: 1–64 characters from letters, digits and `_ . @ : -` (so it can sit in keys and tokens). */
export const USER_ID = /^[A-Za-z0-9_.@:-]{1,64}$/;
/** The longest display name, in characters. */
export const MAX_NAME_CHARS = 64;

/** Short, stable hash of a connection id: the id itself is never shown to others. */
export function shortId(connectionId: string): string {
  return createHash('sha256').update(connectionId).digest('base64url').slice(0, 8);
}

/** The user of a connection without verified claims. */
export function guestOf(connectionId: string): User {
  const id = `guest-${shortId(connectionId)}`;
  return { id, name: id, verified: false };
}

/** Why a display name cannot be used, or undefined when it can. */
export function nameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string') return 'a name must be a string';
  const trimmed = name.trim();
  if (trimmed === '') return 'a name must not be empty';
  if ([...trimmed].length > MAX_NAME_CHARS) return `a name is at most ${MAX_NAME_CHARS} characters`;
  if (/[\u0000-\u001f\u007f\u2028\u2029]/.test(trimmed)) return 'a name must not hold control characters';
  return undefined;
}

/** A display name made ready to keep, or a `BAD_NAME` error saying why not. */
export function checkedName(name: unknown): string {
  const problem = nameProblem(name);
  if (problem) throw new ChatError('BAD_NAME', problem, ErrNo.MALFORMED_EVENT);
  return (name as string).trim();
}

/** Why a user id cannot be used, or undefined when it can. */
export function userIdProblem(id: unknown): string | undefined {
  return typeof id === 'string' && USER_ID.test(id) ? undefined : 'a user id is 1-64 characters from letters, digits and _ . @ : -';
}

/** Packs a user into a key segment (base64url of compact JSON), so a listing carries who is who. */
export function encodeUser(user: User): string {
  return Buffer.from(JSON.stringify([user.id, user.name, user.verified ? 1 : 0]), 'utf8').toString('base64url');
}

/** Inverse of {@link encodeUser}; undefined for a segment that is not one. */
export function decodeUser(segment: string): User | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(segment)) return undefined;
  try {
    const value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as unknown;
    if (!Array.isArray(value) || typeof value[0] !== 'string' || typeof value[1] !== 'string') return undefined;
    return { id: value[0], name: value[1], verified: value[2] === 1 };
  } catch {
    return undefined;
  }
}
