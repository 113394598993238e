import { describe, expect, it } from 'vitest';
import { createAdmissionToken, readAdmissionToken, verifyAdmissionToken } from '../../functions/lib/admission';
import { negotiate, parseOffer } from '../../functions/lib/handshake';
import { ErrNo } from '../../functions/lib/errors';

const secret = 'local-test-secret';
// RFC 6455 subprotocols are RFC 2616 tokens: no separators, no spaces, no '=' padding.
const RFC_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function refusal(fn: () => unknown): { errNo?: number; message?: string } {
  try {
    fn();
  } catch (err) {
    return err as { errNo?: number; message?: string };
  }
  return {};
}

describe('admission tokens', () => {
  it('mints tokens that are valid subprotocol tokens and verify', () => {
    const token = createAdmissionToken(secret, { ttlSeconds: 60 });
    expect(token).toMatch(RFC_TOKEN);
    expect(() => verifyAdmissionToken(secret, token)).not.toThrow();
  });

  it('refuses an expired token, naming when it expired', () => {
    const now = Date.UTC(2026, 0, 1);
    const token = createAdmissionToken(secret, { ttlSeconds: 10, now });
    expect(() => verifyAdmissionToken(secret, token, now + 5_000)).not.toThrow();
    const err = refusal(() => verifyAdmissionToken(secret, token, now + 11_000));
    expect(err.errNo).toBe(ErrNo.ADMISSION_REFUSED);
    expect(err.message).toMatch(/expired at 2026-01-01T00:00:10/);
  });

  it('refuses a token signed with another secret, a tampered expiry and garbage', () => {
    const token = createAdmissionToken('another-secret');
    expect(refusal(() => verifyAdmissionToken(secret, token)).message).toMatch(/signature is invalid/);
    const [exp, sig] = createAdmissionToken(secret).split('.');
    expect(refusal(() => verifyAdmissionToken(secret, `${Number(exp) + 1000}.${sig}`)).message).toMatch(/signature is invalid/);
    expect(refusal(() => verifyAdmissionToken(secret, 'hello')).message).toMatch(/malformed/);
  });
});

describe('negotiate', () => {
  it('splits offers', () => {
    expect(parseOffer(' chat , binary,')).toEqual(['chat', 'binary']);
    expect(parseOffer(undefined)).toEqual([]);
  });

  it('picks chat from the offer and nothing when nothing was offered', () => {
    expect(negotiate('binary, chat', undefined)).toEqual({ protocol: 'chat' });
    expect(negotiate(undefined, undefined)).toEqual({ protocol: undefined });
  });

  it('refuses an offer with no supported protocol rather than letting the client fail the handshake', () => {
    const err = refusal(() => negotiate('mqtt', undefined));
    expect(err.errNo).toBe(ErrNo.UNSUPPORTED_SUBPROTOCOL);
    expect(err.message).toMatch(/supported: chat/);
  });

  it('with a secret, requires a valid token beside chat', () => {
    const now = Date.now();
    const token = createAdmissionToken(secret, { ttlSeconds: 600, now });
    // The token's claims come back: its expiry, to the second.
    expect(negotiate(`chat, ${token}`, secret, now)).toEqual({ protocol: 'chat', expiresAt: new Date(Math.floor(now / 1000) * 1000 + 600_000) });
    expect(refusal(() => negotiate('chat', secret)).errNo).toBe(ErrNo.ADMISSION_REQUIRED);
    expect(refusal(() => negotiate(undefined, secret)).errNo).toBe(ErrNo.ADMISSION_REQUIRED);
    expect(refusal(() => negotiate(`chat, ${createAdmissionToken('wrong')}`, secret)).errNo).toBe(ErrNo.ADMISSION_REFUSED);
  });
});

describe('admission tokens naming a user', () => {
  it('carry a signed user id and name, and stay RFC 6455 subprotocol tokens', () => {
    const token = createAdmissionToken(secret, { user: { id: 'ann@example.com', name: 'Ann <b>Lee</b>, "A." 李' } });
    expect(token).toMatch(RFC_TOKEN);
    expect(readAdmissionToken(secret, token)).toEqual({
      expiresAt: expect.any(Date),
      user: { id: 'ann@example.com', name: 'Ann <b>Lee</b>, "A." 李', verified: true },
    });
    // The name defaults to the id.
    expect(readAdmissionToken(secret, createAdmissionToken(secret, { user: { id: 'u1' } })).user).toEqual({ id: 'u1', name: 'u1', verified: true });
    // Tokens without claims still admit, naming no one.
    expect(readAdmissionToken(secret, createAdmissionToken(secret)).user).toBeUndefined();
  });

  it('refuse claims that were changed after signing', () => {
    const token = createAdmissionToken(secret, { user: { id: 'ann' } });
    const [expiry, , signature] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ sub: 'admin', name: 'admin' })).toString('base64url');
    expect(refusal(() => readAdmissionToken(secret, `${expiry}.${forged}.${signature}`)).message).toMatch(/signature is invalid/);
    // Dropping the claims does not keep the signature valid either.
    expect(refusal(() => readAdmissionToken(secret, `${expiry}.${signature}`)).message).toMatch(/signature is invalid/);
  });

  it('will not mint a token for an id or name that could not be carried', () => {
    expect(() => createAdmissionToken(secret, { user: { id: 'has space' } })).toThrow(/user id/);
    expect(() => createAdmissionToken(secret, { user: { id: '' } })).toThrow(/user id/);
    expect(() => createAdmissionToken(secret, { user: { id: 'x'.repeat(65) } })).toThrow(/user id/);
    expect(() => createAdmissionToken(secret, { user: { id: 'ok', name: 'x'.repeat(65) } })).toThrow(/at most 64/);
    expect(() => createAdmissionToken(secret, { user: { id: 'ok', name: 'tab\there' } })).toThrow(/control/);
  });

  it('pass the user through negotiation', () => {
    const token = createAdmissionToken(secret, { user: { id: 'bo', name: 'Bo' } });
    expect(negotiate(`chat, ${token}`, secret)).toEqual({ protocol: 'chat', expiresAt: expect.any(Date), user: { id: 'bo', name: 'Bo', verified: true } });
  });
});
