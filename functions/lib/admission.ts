/**
 * Admission tokens: an optional shared-secret check on connect, optionally naming the user.
 *
 * Browsers can pass nothing but subprotocols on a WebSocket handshake, so a client offers
 * `["chat", "<token>"]`. A subprotocol must be an RFC 6455 token (no separators such as `,` `/`
 * `=` or spaces), hence base64url parts joined by dots:
 * - `<expiry unix seconds>.<HMAC-SHA256>`: admits anyone holding it;
 * - `<expiry unix seconds>.<claims>.<HMAC-SHA256>`: admits the user the claims name, where claims is
 *   base64url JSON `{"sub":<user id>,"name":<display name>}`, signed with the expiry.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ChatError, ErrNo } from './errors';
import { nameProblem, userIdProblem, type User } from './users';

const CONTEXT = 'chat-admission.v1';
/** Default token lifetime: one hour. */
export const DEFAULT_TOKEN_TTL_SECONDS = 3600;

/** Who a token admits, as its issuer names them. */
export interface TokenUser {
  /** 1-64 characters from letters, digits and `_ . @ : -`. */
  id: string;
  /** 1-64 characters, no control characters. @default the id */
  name?: string;
}

/** What an accepted token proves. */
export interface AdmissionResult {
  expiresAt: Date;
  /** Present when the token carries claims: the user, verified. */
  user?: User;
}

function sign(secret: string, signed: string): string {
  return createHmac('sha256', secret).update(`${CONTEXT}.${signed}`).digest('base64url');
}

/**
 * Mints a token valid until `now + ttlSeconds`, naming `user` when given.
 * @param secret the shared secret the register function is configured with
 * @throws Error for an empty secret, or a user id or name that could not be carried
 */
export function createAdmissionToken(
  secret: string,
  { ttlSeconds = DEFAULT_TOKEN_TTL_SECONDS, now = Date.now(), user }: { ttlSeconds?: number; now?: number; user?: TokenUser } = {},
): string {
  if (!secret) throw new Error('an admission secret is required to mint a token');
  const expires = Math.floor(now / 1000) + Math.floor(ttlSeconds);
  if (!user) return `${expires}.${sign(secret, String(expires))}`;
  const idProblem = userIdProblem(user.id);
  if (idProblem) throw new Error(`cannot mint a token for user ${JSON.stringify(user.id)}: ${idProblem}`);
  const name = user.name ?? user.id;
  const badName = nameProblem(name);
  if (badName) throw new Error(`cannot mint a token for user ${user.id}: ${badName}`);
  const claims = Buffer.from(JSON.stringify({ sub: user.id, name: name.trim() }), 'utf8').toString('base64url');
  return `${expires}.${claims}.${sign(secret, `${expires}.${claims}`)}`;
}

const refused = (message: string) => new ChatError('ADMISSION_REFUSED', message, ErrNo.ADMISSION_REFUSED);

/** What a token proves; throws a {@link ChatError} (errNo 403) saying why a token is refused. */
export function readAdmissionToken(secret: string, token: string, now = Date.now()): AdmissionResult {
  const match = /^(\d{1,12})\.(?:([A-Za-z0-9_-]{1,700})\.)?([A-Za-z0-9_-]{43})$/.exec(token);
  if (!match) throw refused('admission token is malformed (expected <expiry>.<signature> or <expiry>.<claims>.<signature>)');
  const [, expiry, claims, signature] = match;
  const expected = Buffer.from(sign(secret, claims ? `${expiry}.${claims}` : expiry!));
  if (!timingSafeEqual(expected, Buffer.from(signature!))) throw refused('admission token signature is invalid');
  const expires = Number(expiry);
  if (expires * 1000 <= now) throw refused(`admission token expired at ${new Date(expires * 1000).toISOString()}`);
  if (!claims) return { expiresAt: new Date(expires * 1000) };
  let parsed: { sub?: unknown; name?: unknown };
  try {
    parsed = JSON.parse(Buffer.from(claims, 'base64url').toString('utf8')) as typeof parsed;
  } catch {
    throw refused('admission token claims are not JSON');
  }
  // Signed, so these are the issuer's mistakes; still refused rather than shown.
  const problem = userIdProblem(parsed?.sub) ?? nameProblem(parsed?.name);
  if (problem) throw refused(`admission token claims are invalid: ${problem}`);
  return { expiresAt: new Date(expires * 1000), user: { id: parsed.sub as string, name: (parsed.name as string).trim(), verified: true } };
}

/** Returns the token's expiry; throws a {@link ChatError} (errNo 403) saying why a token is refused. */
export function verifyAdmissionToken(secret: string, token: string, now = Date.now()): Date {
  return readAdmissionToken(secret, token, now).expiresAt;
}
