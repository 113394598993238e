import { randomBytes } from 'node:crypto';
import COS from 'cos-nodejs-sdk-v5';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_CLOCK_SKEW_SECONDS,
  type LocalCredential,
  type SignedRequestParts,
  parseCosAuthorization,
  verifyCosSignature,
} from '../../local/cos/signature';

const credential: LocalCredential = {
  secretId: 'AKID' + randomBytes(16).toString('hex'),
  secretKey: randomBytes(24).toString('base64url'),
};
const temporary: LocalCredential = {
  secretId: 'AKID' + randomBytes(16).toString('hex'),
  secretKey: randomBytes(24).toString('base64url'),
  sessionToken: randomBytes(32).toString('base64url'),
};
const credentials = [credential, temporary];

const NOW_MS = 1_750_000_000_000;
const NOW = NOW_MS / 1000;
const KEY = 'rooms/лобби/msg (1)+=!.json';
const HEADERS = {
  Host: '127.0.0.1:4568',
  'Content-Type': 'application/json',
  'Content-Length': '12',
  'x-cos-meta-room': 'lobby',
};
const QUERY = { prefix: 'rooms/a b', 'max-keys': '10', uploads: '' };

/** Signs like the SDK does, and returns what the server would see for that request. */
function signed(options: { method?: COS.Method; keyTime?: string; secret?: LocalCredential } = {}): { parts: SignedRequestParts; authorization: string } {
  const secret = options.secret ?? credential;
  const authorization = COS.getAuthorization({
    SecretId: secret.secretId,
    SecretKey: secret.secretKey,
    Method: options.method ?? 'PUT',
    Key: KEY,
    Query: QUERY,
    Headers: HEADERS,
    KeyTime: options.keyTime ?? `${NOW - 1};${NOW + 900}`,
  });
  const headers: Record<string, string> = { authorization };
  for (const [name, value] of Object.entries(HEADERS)) headers[name.toLowerCase()] = value;
  return {
    authorization,
    parts: { method: options.method ?? 'PUT', pathname: '/' + KEY, query: Object.entries(QUERY), headers },
  };
}

function expectFailure(result: ReturnType<typeof verifyCosSignature>, code: string) {
  expect(result.ok).toBe(false);
  if (result.ok) throw new Error('unreachable');
  expect(result.code).toBe(code);
  return result;
}

describe('verifyCosSignature', () => {
  it('accepts a signature computed by the SDK', () => {
    const { parts } = signed();
    const result = verifyCosSignature(parts, credentials, NOW_MS);
    expect(result).toEqual({ ok: true, credential });
  });

  it('accepts header names in any case as node lower-cases them', () => {
    const { parts, authorization } = signed({ method: 'get' });
    expect(authorization).toContain('q-header-list=content-length;content-type;host;x-cos-meta-room');
    expect(authorization).toContain('q-url-param-list=max-keys;prefix;uploads');
    expect(verifyCosSignature({ ...parts, method: 'GET' }, credentials, NOW_MS).ok).toBe(true);
  });

  it('accepts a pre-signed URL whose q-* fields travel in the query', () => {
    const { parts, authorization } = signed({ method: 'GET' });
    const { authorization: _, ...headers } = parts.headers;
    const query = [...parts.query, ...authorization.split('&').map((pair) => pair.split('=') as [string, string])];
    expect(verifyCosSignature({ ...parts, headers, query }, credentials, NOW_MS).ok).toBe(true);
  });

  it('ignores query parameters the client did not sign', () => {
    const { parts } = signed();
    const query = [...parts.query, ['response-content-type', 'text/plain'] as const];
    expect(verifyCosSignature({ ...parts, query }, credentials, NOW_MS).ok).toBe(true);
  });

  it.each([
    ['method', (p: SignedRequestParts) => ({ ...p, method: 'DELETE' })],
    ['path', (p: SignedRequestParts) => ({ ...p, pathname: p.pathname + 'x' })],
    ['bucket-prefixed path', (p: SignedRequestParts) => ({ ...p, pathname: '/chat-dev-gz-1250000000' + p.pathname })],
    ['signed header', (p: SignedRequestParts) => ({ ...p, headers: { ...p.headers, 'x-cos-meta-room': 'other' } })],
    ['host', (p: SignedRequestParts) => ({ ...p, headers: { ...p.headers, host: 'evil.example:4568' } })],
    ['missing signed header', (p: SignedRequestParts) => ({ ...p, headers: { ...p.headers, 'content-type': undefined } })],
    [
      'signed param',
      (p: SignedRequestParts) => ({
        ...p,
        query: [
          ['prefix', 'rooms/b'],
          ['max-keys', '10'],
          ['uploads', ''],
        ] as const,
      }),
    ],
    ['missing signed param', (p: SignedRequestParts) => ({ ...p, query: p.query.filter(([name]) => name !== 'uploads') })],
  ])('refuses a tampered %s', (_, tamper) => {
    const { parts } = signed();
    const result = expectFailure(verifyCosSignature(tamper(parts), credentials, NOW_MS), 'SignatureDoesNotMatch');
    expect(result.formatString).toBeDefined();
    expect(result.stringToSign).toMatch(/^sha1\n/);
  });

  it('refuses a signature made with another SecretKey', () => {
    const { parts } = signed({ secret: { secretId: credential.secretId, secretKey: 'not-the-key' } });
    expectFailure(verifyCosSignature(parts, credentials, NOW_MS), 'SignatureDoesNotMatch');
  });

  it('refuses an unknown SecretId', () => {
    const { parts } = signed({ secret: { secretId: 'AKIDunknown', secretKey: credential.secretKey } });
    expectFailure(verifyCosSignature(parts, credentials, NOW_MS), 'InvalidAccessKeyId');
  });

  it('refuses an expired window with the message the SDK recognises', () => {
    const { parts } = signed({ keyTime: `${NOW - 1000};${NOW - 100}` });
    const result = expectFailure(verifyCosSignature(parts, credentials, NOW_MS), 'AccessDenied');
    expect(result.message).toBe('Request has expired');
  });

  it('refuses a window that starts in the future', () => {
    const { parts } = signed({ keyTime: `${NOW + 600};${NOW + 1500}` });
    expectFailure(verifyCosSignature(parts, credentials, NOW_MS), 'RequestTimeTooSkewed');
  });

  it(`tolerates ${DEFAULT_CLOCK_SKEW_SECONDS} s of clock skew, and no more`, () => {
    const justExpired = signed({ keyTime: `${NOW - 900};${NOW - DEFAULT_CLOCK_SKEW_SECONDS}` });
    expect(verifyCosSignature(justExpired.parts, credentials, NOW_MS).ok).toBe(true);
    const tooLate = signed({ keyTime: `${NOW - 900};${NOW - DEFAULT_CLOCK_SKEW_SECONDS - 1}` });
    expectFailure(verifyCosSignature(tooLate.parts, credentials, NOW_MS), 'AccessDenied');
    const early = signed({ keyTime: `${NOW + DEFAULT_CLOCK_SKEW_SECONDS};${NOW + 900}` });
    expect(verifyCosSignature(early.parts, credentials, NOW_MS).ok).toBe(true);
    expect(verifyCosSignature(early.parts, credentials, NOW_MS, { clockSkewSeconds: 0 }).ok).toBe(false);
  });

  it('refuses a request without Authorization', () => {
    const { parts } = signed();
    const { authorization: _, ...headers } = parts.headers;
    const result = expectFailure(verifyCosSignature({ ...parts, headers }, credentials, NOW_MS), 'AccessDenied');
    expect(result.message).toMatch(/no Authorization/);
  });

  it('refuses other authorization schemes', () => {
    const { parts } = signed();
    const headers = { ...parts.headers, authorization: 'AWS4-HMAC-SHA256 Credential=x/y, SignedHeaders=host, Signature=abc' };
    const result = expectFailure(verifyCosSignature({ ...parts, headers }, credentials, NOW_MS), 'AccessDenied');
    expect(result.message).toMatch(/unsupported scheme/);
  });

  it.each([
    ['a missing field', (a: string) => a.replace(/&q-key-time=[^&]*/, ''), /missing q-key-time/],
    ['a bad sign time', (a: string) => a.replace(/q-sign-time=[^&]*/, 'q-sign-time=yesterday'), /q-sign-time must be/],
    ['a reversed sign time', (a: string) => a.replace(/q-sign-time=[^&]*/, `q-sign-time=${NOW + 9};${NOW}`), /q-sign-time must be/],
    ['a short signature', (a: string) => a.replace(/q-signature=[^&]*/, 'q-signature=abc'), /q-signature must be 40 hex/],
    ['another algorithm', (a: string) => a.replace('q-sign-algorithm=sha1', 'q-sign-algorithm=sha256'), /unsupported q-sign-algorithm/],
    ['a duplicated field', (a: string) => a + '&q-ak=AKIDother', /q-ak appears twice/],
    ['a field without value separator', (a: string) => a + '&garbage', /not a name=value pair/],
  ])('refuses a malformed Authorization with %s, saying what is wrong', (_, mangle, message) => {
    const { parts, authorization } = signed();
    const headers = { ...parts.headers, authorization: mangle(authorization) };
    const result = expectFailure(verifyCosSignature({ ...parts, headers }, credentials, NOW_MS), 'AccessDenied');
    expect(result.message).toMatch(/^Authorization is malformed/);
    expect(result.message).toMatch(message);
  });

  describe('session tokens', () => {
    const withToken = (token: string | undefined) => {
      const { parts } = signed({ secret: temporary });
      const headers = token === undefined ? parts.headers : { ...parts.headers, 'x-cos-security-token': token };
      return verifyCosSignature({ ...parts, headers }, credentials, NOW_MS);
    };

    it('accepts the matching token', () => {
      expect(withToken(temporary.sessionToken)).toEqual({ ok: true, credential: temporary });
    });

    it('refuses a missing token', () => {
      expectFailure(withToken(undefined), 'InvalidAccessKeyId');
    });

    it('refuses a wrong token', () => {
      expectFailure(withToken(randomBytes(32).toString('base64url')), 'AccessDenied');
    });

    it('refuses a token sent with a permanent credential', () => {
      const { parts } = signed();
      const headers = { ...parts.headers, 'x-cos-security-token': 'stray' };
      expectFailure(verifyCosSignature({ ...parts, headers }, credentials, NOW_MS), 'AccessDenied');
    });
  });
});

describe('parseCosAuthorization', () => {
  it('reads the fields of an SDK Authorization', () => {
    const { authorization } = signed();
    const parsed = parseCosAuthorization(authorization);
    expect(parsed).toMatchObject({
      algorithm: 'sha1',
      secretId: credential.secretId,
      signTime: { start: NOW - 1, end: NOW + 900 },
      headerList: ['content-length', 'content-type', 'host', 'x-cos-meta-room'],
      urlParamList: ['max-keys', 'prefix', 'uploads'],
    });
  });
});
