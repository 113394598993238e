/**
 * Subprotocol negotiation and admission for the register function.
 */
import { readAdmissionToken } from './admission';
import type { User } from './users';
import { ChatError, ErrNo } from './errors';

/** Subprotocols the chat speaks, in order of preference. */
export const SUPPORTED_PROTOCOLS = ['chat'] as const;

/** What register answers the handshake with. */
export interface HandshakeResult {
  /** The chosen subprotocol, absent when the client offered none. */
  protocol?: string;
  /** When admission is on: the accepted token's expiry. */
  expiresAt?: Date;
  /** When the token carries claims: the user it names, verified. */
  user?: User;
}

/** Splits a `Sec-WebSocket-Protocol` value into its offers. */
export function parseOffer(header: string | undefined): string[] {
  return (header ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
}

/**
 * Picks a supported subprotocol from the offer and, when a secret is set, checks the admission
 * token offered beside it. Throws a {@link ChatError} carrying the errNo to refuse with.
 * @param supported the app's subprotocols, in order of preference (default: the chat's)
 */
export function negotiate(
  offerHeader: string | undefined,
  secret: string | undefined,
  now = Date.now(),
  supported: readonly string[] = SUPPORTED_PROTOCOLS,
): HandshakeResult {
  const offers = parseOffer(offerHeader);
  const protocol = supported.find((p) => offers.includes(p));
  const others = offers.filter((p) => !supported.includes(p));

  let admitted: ReturnType<typeof readAdmissionToken> | undefined;
  if (secret) {
    if (others.length === 0) {
      const example = supported[0] ?? 'app';
      throw new ChatError(
        'ADMISSION_REQUIRED',
        `admission token required: offer it as a subprotocol beside "${example}", e.g. ["${example}", "<token>"]`,
        ErrNo.ADMISSION_REQUIRED,
      );
    }
    // The token is the first offer that is not a protocol.
    admitted = readAdmissionToken(secret, others[0]!, now);
  }
  if (offers.length > 0 && !protocol) {
    throw new ChatError(
      'UNSUPPORTED_SUBPROTOCOL',
      `none of the offered subprotocols is supported (supported: ${supported.join(', ') || 'none'})`,
      ErrNo.UNSUPPORTED_SUBPROTOCOL,
    );
  }
  if (!admitted) return { protocol };
  return admitted.user ? { protocol, expiresAt: admitted.expiresAt, user: admitted.user } : { protocol, expiresAt: admitted.expiresAt };
}
