/**
 * Verification of Cloud API 3.0 request signatures (TC3-HMAC-SHA256), computed as
 * tencentcloud-sdk-nodejs's `Sign.sign3` does and as the signing documentation describes. Pure: no
 * I/O, the clock is a parameter.
 *
 * What is signed: the canonical request
 * `METHOD\n/path\nquery\n<name>:<value>\n…\n\n<signed header names>\n<hex SHA-256 of the body>`,
 * then `TC3-HMAC-SHA256\n<X-TC-Timestamp>\n<date>/<service>/tc3_request\n<hex SHA-256 of it>`, with
 * the key chain `TC3`+SecretKey → date → service → `tc3_request`.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { LocalCredential } from '../credentials';
import { CloudApiErrorCode } from './errors';

export type { LocalCredential };

export const TC3_ALGORITHM = 'TC3-HMAC-SHA256';

/**
 * How far X-TC-Timestamp may be from the server clock: the cloud's five minutes ("Timestamp 与服务器
 * 接收到请求的时间相差不得超过五分钟").
 */
export const DEFAULT_CLOCK_SKEW_SECONDS = 300;

/** The parts of a request the signature covers, plus the headers that carry it. */
export interface SignedRequest {
  method: string;
  /** The URL's path, e.g. `/`. */
  path: string;
  /** The raw query string without `?` (empty for the SDK's POSTs). */
  query: string;
  /** Request headers with lower-case names, as node's `IncomingMessage.headers`. */
  headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The body's bytes exactly as received: the SDK hashes the very string it sends. */
  body: Buffer;
}

/** The fields of a TC3 Authorization header. */
export interface Tc3Authorization {
  secretId: string;
  /** `YYYY-MM-DD`, the UTC date of the timestamp. */
  date: string;
  /**
   * The service of the credential scope. The SDK takes it from the endpoint's first label, so a
   * client pointed at `127.0.0.1:PORT` signs for `127`: it is verified as given, never required
   * to name a product (requests are routed by X-TC-Action and X-TC-Version instead).
   */
  service: string;
  /** Lower-case header names, in the order signed. */
  signedHeaders: string[];
  /** Lower-case hex. */
  signature: string;
}

export type Tc3ErrorCode =
  | typeof CloudApiErrorCode.INVALID_AUTHORIZATION
  | typeof CloudApiErrorCode.SECRET_ID_NOT_FOUND
  | typeof CloudApiErrorCode.SIGNATURE_FAILURE
  | typeof CloudApiErrorCode.SIGNATURE_EXPIRE
  | typeof CloudApiErrorCode.TOKEN_FAILURE
  | typeof CloudApiErrorCode.MISSING_PARAMETER
  | typeof CloudApiErrorCode.INVALID_PARAMETER_VALUE;

export type Tc3Verdict =
  | { ok: true; credential: LocalCredential; authorization: Tc3Authorization }
  | {
      ok: false;
      code: Tc3ErrorCode;
      message: string;
      /** For a signature mismatch: what the server signed, to compare with the client's. */
      canonicalRequest?: string;
      stringToSign?: string;
    };

export interface VerifyOptions {
  /** Default {@link DEFAULT_CLOCK_SKEW_SECONDS}. */
  clockSkewSeconds?: number;
}

/** Parses `TC3-HMAC-SHA256 Credential=<id>/<date>/<service>/tc3_request, SignedHeaders=a;b, Signature=<hex>`. */
export function parseTc3Authorization(value: string): Tc3Authorization | { error: string } {
  const trimmed = value.trim();
  const space = trimmed.indexOf(' ');
  const algorithm = space === -1 ? trimmed : trimmed.slice(0, space);
  if (algorithm !== TC3_ALGORITHM) {
    return { error: `Authorization must use ${TC3_ALGORITHM}, got "${truncate(algorithm)}"` };
  }
  const fields = new Map<string, string>();
  for (const part of trimmed.slice(space + 1).split(',')) {
    const item = part.trim();
    const eq = item.indexOf('=');
    if (eq === -1) return { error: `Authorization is malformed: "${truncate(item)}" is not a name=value pair` };
    fields.set(item.slice(0, eq), item.slice(eq + 1));
  }
  const missing = ['Credential', 'SignedHeaders', 'Signature'].filter((name) => !fields.get(name));
  if (missing.length) {
    return { error: `Authorization is malformed: missing ${missing.join(', ')} (expected ${TC3_ALGORITHM} Credential=..., SignedHeaders=..., Signature=...)` };
  }
  const scope = fields.get('Credential')!.split('/');
  if (scope.length !== 4 || scope.some((part) => part === '') || scope[3] !== 'tc3_request') {
    return { error: 'Authorization is malformed: Credential must be <SecretId>/<YYYY-MM-DD>/<service>/tc3_request' };
  }
  const [secretId, date, service] = scope;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return { error: `Authorization is malformed: the Credential date "${truncate(date)}" is not YYYY-MM-DD` };
  const signedHeaders = fields
    .get('SignedHeaders')!
    .split(';')
    .map((name) => name.trim().toLowerCase());
  for (const required of ['content-type', 'host']) {
    if (!signedHeaders.includes(required)) return { error: `Authorization is malformed: SignedHeaders must include ${required}` };
  }
  const signature = fields.get('Signature')!.toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(signature)) return { error: 'Authorization is malformed: Signature must be 64 hex digits' };
  return { secretId, date, service, signedHeaders, signature };
}

/** `YYYY-MM-DD` of a Unix time in seconds, in UTC, as the SDK derives the scope date. */
export function utcDate(timestampSeconds: number): string {
  return new Date(timestampSeconds * 1000).toISOString().slice(0, 10);
}

/**
 * The canonical request. Header names and values are lower-cased and trimmed, as the signing
 * documentation specifies (the SDK's values already are); `hostValue` stands for the Host header.
 */
export function canonicalRequest(request: SignedRequest, signedHeaders: readonly string[], hostValue: string): string {
  const headerLines = signedHeaders.map((name) => {
    const raw = name === 'host' ? hostValue : request.headers[name];
    const value = Array.isArray(raw) ? raw.join(',') : (raw ?? '');
    return `${name}:${value.trim().toLowerCase()}\n`;
  });
  const bodyHash = createHash('sha256').update(request.body).digest('hex');
  return [request.method.toUpperCase(), request.path, request.query, headerLines.join(''), signedHeaders.join(';'), bodyHash].join('\n');
}

/** The string to sign for a canonical request. */
export function stringToSign(timestamp: string, auth: Pick<Tc3Authorization, 'date' | 'service'>, canonical: string): string {
  const digest = createHash('sha256').update(canonical).digest('hex');
  return [TC3_ALGORITHM, timestamp, `${auth.date}/${auth.service}/tc3_request`, digest].join('\n');
}

/** The hex signature of a string to sign with a SecretKey. */
export function tc3Signature(secretKey: string, auth: Pick<Tc3Authorization, 'date' | 'service'>, toSign: string): string {
  const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
  const signingKey = hmac(hmac(hmac('TC3' + secretKey, auth.date), auth.service), 'tc3_request');
  return createHmac('sha256', signingKey).update(toSign).digest('hex');
}

/**
 * The Host values a client may have signed. The SDK signs the URL's hostname without the port
 * (`host:127.0.0.1`) while sending `Host: 127.0.0.1:PORT`; other clients sign the header as sent.
 * Against the cloud the two never differ (no port), so both are accepted here.
 */
function hostCandidates(header: string | string[] | undefined): string[] {
  const host = (Array.isArray(header) ? header[0] : header) ?? '';
  const withoutPort = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d+$/, '');
  return withoutPort === host ? [host] : [withoutPort, host];
}

function headerValue(headers: SignedRequest['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Checks a request's TC3 signature against the configured credentials.
 * @param nowMs the server clock, in epoch milliseconds.
 */
export function verifyTc3(request: SignedRequest, credentials: readonly LocalCredential[], nowMs: number, options: VerifyOptions = {}): Tc3Verdict {
  const fail = (code: Tc3ErrorCode, message: string): Tc3Verdict => ({ ok: false, code, message });
  const header = headerValue(request.headers, 'authorization');
  if (header === undefined || header.trim() === '') return fail(CloudApiErrorCode.INVALID_AUTHORIZATION, 'the request carries no Authorization header');
  const auth = parseTc3Authorization(header);
  if ('error' in auth) return fail(CloudApiErrorCode.INVALID_AUTHORIZATION, auth.error);

  const timestamp = headerValue(request.headers, 'x-tc-timestamp');
  if (timestamp === undefined || timestamp === '') return fail(CloudApiErrorCode.MISSING_PARAMETER, 'the request is missing the X-TC-Timestamp header');
  if (!/^\d{1,12}$/.test(timestamp))
    return fail(CloudApiErrorCode.INVALID_PARAMETER_VALUE, `X-TC-Timestamp must be a Unix time in seconds, got "${truncate(timestamp)}"`);
  const skew = options.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS;
  const offset = Number(timestamp) - Math.floor(nowMs / 1000);
  if (Math.abs(offset) > skew) {
    return fail(
      CloudApiErrorCode.SIGNATURE_EXPIRE,
      `X-TC-Timestamp ${timestamp} is ${Math.abs(offset)} s ${offset < 0 ? 'behind' : 'ahead of'} the server clock; at most ${skew} s are allowed`,
    );
  }
  if (auth.date !== utcDate(Number(timestamp))) {
    return fail(
      CloudApiErrorCode.SIGNATURE_FAILURE,
      `the Credential date ${auth.date} is not the UTC date of X-TC-Timestamp ${timestamp} (${utcDate(Number(timestamp))})`,
    );
  }

  const credential = credentials.find((candidate) => candidate.secretId === auth.secretId);
  if (!credential)
    return fail(CloudApiErrorCode.SECRET_ID_NOT_FOUND, `the SecretId ${auth.secretId} is not found; check that it is one this local Cloud API accepts`);

  const provided = Buffer.from(auth.signature, 'hex');
  let first: { canonical: string; toSign: string } | undefined;
  let matched = false;
  for (const host of hostCandidates(request.headers['host'])) {
    const canonical = canonicalRequest(request, auth.signedHeaders, host);
    const toSign = stringToSign(timestamp, auth, canonical);
    first ??= { canonical, toSign };
    const expected = Buffer.from(tc3Signature(credential.secretKey, auth, toSign), 'hex');
    if (timingSafeEqual(provided, expected)) {
      matched = true;
      break;
    }
  }
  if (!matched) {
    return {
      ok: false,
      code: CloudApiErrorCode.SIGNATURE_FAILURE,
      message: 'the signature does not match: check the SecretKey, and that the body and signed headers are sent as signed',
      canonicalRequest: first?.canonical,
      stringToSign: first?.toSign,
    };
  }

  const token = headerValue(request.headers, 'x-tc-token');
  if (credential.sessionToken !== undefined) {
    if (token === undefined || token === '')
      return fail(CloudApiErrorCode.TOKEN_FAILURE, `SecretId ${auth.secretId} is a temporary credential: the request needs its X-TC-Token`);
    if (!sameString(token, credential.sessionToken))
      return fail(CloudApiErrorCode.TOKEN_FAILURE, `the X-TC-Token does not belong to SecretId ${auth.secretId}`);
  } else if (token !== undefined && token !== '') {
    return fail(CloudApiErrorCode.TOKEN_FAILURE, `the request carries an X-TC-Token, but SecretId ${auth.secretId} is not a temporary credential`);
  }
  return { ok: true, credential, authorization: auth };
}

// Compared as digests so the comparison takes the same time whatever the lengths.
function sameString(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

function truncate(text: string): string {
  return text.length > 40 ? text.slice(0, 40) + '...' : text;
}
