/**
 * Admission tokens: an optional shared-secret check on connect.
 *
 * Browsers can pass nothing but subprotocols on a WebSocket handshake, so a client offers
 * `["chat", "<token>"]`. A subprotocol must be an RFC 6455 token, hence the format
 * `<expiry unix seconds>.<base64url HMAC-SHA256, no padding>`.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ChatError, ErrNo } from './errors';

const CONTEXT = 'chat-admission.v1';
/** Default token lifetime: one hour. */
export const DEFAULT_TOKEN_TTL_SECONDS = 3600;

function sign(secret: string, expires: number): string {
  return createHmac('sha256', secret).update(`${CONTEXT}.${expires}`).digest('base64url');
}

/**
 * Mints a token valid until `now + ttlSeconds`.
 * @param secret the shared secret the register function is configured with
 */
export function createAdmissionToken(
  secret: string,
  { ttlSeconds = DEFAULT_TOKEN_TTL_SECONDS, now = Date.now() }: { ttlSeconds?: number; now?: number } = {},
): string {
  if (!secret) throw new Error('an admission secret is required to mint a token');
  const expires = Math.floor(now / 1000) + Math.floor(ttlSeconds);
  return `${expires}.${sign(secret, expires)}`;
}

/** Returns the token's expiry; throws a {@link ChatError} (errNo 403) saying why a token is refused. */
export function verifyAdmissionToken(secret: string, token: string, now = Date.now()): Date {
  const match = /^(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!match) {
    throw new ChatError('ADMISSION_REFUSED', 'admission token is malformed (expected <expiry>.<signature>)', ErrNo.ADMISSION_REFUSED);
  }
  const expires = Number(match[1]);
  const expected = Buffer.from(sign(secret, expires));
  const given = Buffer.from(match[2]);
  if (!timingSafeEqual(expected, given)) {
    throw new ChatError('ADMISSION_REFUSED', 'admission token signature is invalid', ErrNo.ADMISSION_REFUSED);
  }
  if (expires * 1000 <= now) {
    throw new ChatError('ADMISSION_REFUSED', `admission token expired at ${new Date(expires * 1000).toISOString()}`, ErrNo.ADMISSION_REFUSED);
  }
  return new Date(expires * 1000);
}
