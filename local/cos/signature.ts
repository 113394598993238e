/**
 * Verification of COS request signatures (the `q-sign-algorithm=sha1&q-ak=...` scheme),
 * computed exactly as cos-nodejs-sdk-v5's `getAuth` does. Pure: no I/O, the clock is a parameter.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { LocalCredential } from '../credentials';

/** A key pair the local server accepts; with a session token, requests must carry it in `x-cos-security-token`. */
export type { LocalCredential };

/** The parts of a request that the signature covers. */
export interface SignedRequestParts {
  method: string;
  /** '/' + the decoded object key ('/' for bucket-level requests); the bucket is not part of it. */
  pathname: string;
  /** Decoded query parameters. */
  query: ReadonlyArray<readonly [string, string]>;
  /** Request headers with lower-case names, as node's `IncomingMessage.headers`. */
  headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** Error codes a failed verification answers with (all HTTP 403). */
export type SignatureErrorCode = 'AccessDenied' | 'InvalidAccessKeyId' | 'SignatureDoesNotMatch' | 'RequestTimeTooSkewed';

export type VerifyResult =
  | { ok: true; credential: LocalCredential }
  | {
      ok: false;
      code: SignatureErrorCode;
      message: string;
      /** Set for SignatureDoesNotMatch, to compare with what the client signed. */
      formatString?: string;
      stringToSign?: string;
    };

export interface VerifyOptions {
  /** Seconds a sign-time window may be off from the server clock. Default {@link DEFAULT_CLOCK_SKEW_SECONDS}. */
  clockSkewSeconds?: number;
}

/**
 * Tolerance for the q-sign-time window. The SDK starts its window one second in the past and
 * ends it 900 s later; a minute of slack absorbs clock drift between containers or VMs
 * without keeping expired signatures usable for long.
 */
export const DEFAULT_CLOCK_SKEW_SECONDS = 60;

/** The message COS uses for an expired signature; the SDK matches on it to correct clock skew. */
export const EXPIRED_MESSAGE = 'Request has expired';

/** The fields of a COS Authorization value. */
export interface CosAuthorization {
  algorithm: string;
  secretId: string;
  signTime: { start: number; end: number; raw: string };
  keyTime: { start: number; end: number; raw: string };
  /** Lower-cased, URL-encoded header names. */
  headerList: string[];
  /** Lower-cased, URL-encoded query parameter names. */
  urlParamList: string[];
  /** Lower-case hex. */
  signature: string;
}

const AUTH_FIELDS = ['q-sign-algorithm', 'q-ak', 'q-sign-time', 'q-key-time', 'q-header-list', 'q-url-param-list', 'q-signature'] as const;

/**
 * Parses a COS Authorization value.
 * @returns the fields, or a message saying what is malformed.
 */
export function parseCosAuthorization(value: string): CosAuthorization | { error: string } {
  const fields = new Map<string, string>();
  for (const part of value.trim().split('&')) {
    const eq = part.indexOf('=');
    if (eq === -1) return { error: `Authorization is malformed: "${truncate(part)}" is not a name=value pair.` };
    const name = part.slice(0, eq);
    if (fields.has(name)) return { error: `Authorization is malformed: ${name} appears twice.` };
    fields.set(name, part.slice(eq + 1));
  }
  const missing = AUTH_FIELDS.filter((name) => !fields.has(name));
  if (missing.length > 0) {
    return {
      error:
        `Authorization is malformed: missing ${missing.join(', ')}. ` +
        'Expected q-sign-algorithm=sha1&q-ak=...&q-sign-time=...&q-key-time=...&q-header-list=...&q-url-param-list=...&q-signature=...',
    };
  }
  const algorithm = fields.get('q-sign-algorithm')!;
  if (algorithm !== 'sha1') {
    return { error: `Authorization is malformed: unsupported q-sign-algorithm "${truncate(algorithm)}" (only sha1).` };
  }
  const signTime = parseTimeRange(fields.get('q-sign-time')!);
  if (!signTime) return { error: 'Authorization is malformed: q-sign-time must be <start>;<end> in epoch seconds with start <= end.' };
  const keyTime = parseTimeRange(fields.get('q-key-time')!);
  if (!keyTime) return { error: 'Authorization is malformed: q-key-time must be <start>;<end> in epoch seconds with start <= end.' };
  const signature = fields.get('q-signature')!.toLowerCase();
  if (!/^[0-9a-f]{40}$/.test(signature)) {
    return { error: 'Authorization is malformed: q-signature must be 40 hex digits.' };
  }
  const secretId = fields.get('q-ak')!;
  if (secretId === '') return { error: 'Authorization is malformed: q-ak is empty.' };
  return {
    algorithm,
    secretId,
    signTime,
    keyTime,
    headerList: splitList(fields.get('q-header-list')!),
    urlParamList: splitList(fields.get('q-url-param-list')!),
    signature,
  };
}

function parseTimeRange(raw: string): { start: number; end: number; raw: string } | undefined {
  const match = /^(\d{1,12});(\d{1,12})$/.exec(raw);
  if (!match) return undefined;
  const start = Number(match[1]);
  const end = Number(match[2]);
  return start <= end ? { start, end, raw } : undefined;
}

function splitList(raw: string): string[] {
  return raw === '' ? [] : raw.split(';').map((name) => name.toLowerCase());
}

function truncate(text: string): string {
  return text.length > 40 ? text.slice(0, 40) + '...' : text;
}

/** encodeURIComponent plus `! ' ( ) *`, as COS signs names and values. */
export function camSafeUrlEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (ch) => '%' + ch.charCodeAt(0).toString(16).toUpperCase());
}

/** Orders names the way the SDK's getObjectKeys does: by the lower-cased raw name. */
function compareNames(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  return x === y ? 0 : x > y ? 1 : -1;
}

/** `key=value&...` over the pairs whose encoded, lower-cased name is listed, as the SDK's obj2str. */
function signedPairsString(pairs: ReadonlyArray<readonly [string, string]>, listed: readonly string[]): string {
  const wanted = new Set(listed);
  return pairs
    .filter(([name]) => wanted.has(camSafeUrlEncode(name).toLowerCase()))
    .sort(([a], [b]) => compareNames(a, b))
    .map(([name, value]) => camSafeUrlEncode(name).toLowerCase() + '=' + camSafeUrlEncode(value))
    .join('&');
}

function headerPairs(headers: SignedRequestParts['headers'], listed: readonly string[]): Array<[string, string]> {
  // a listed header the request lacks counts as empty, so the signature simply fails to match
  return listed.map((encodedName) => {
    const name = safeDecode(encodedName);
    const value = headers[name];
    return [name, Array.isArray(value) ? value.join(', ') : (value ?? '')];
  });
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The FormatString and StringToSign for a request, as the client computes them. */
export function cosStringToSign(
  request: SignedRequestParts,
  auth: Pick<CosAuthorization, 'signTime' | 'headerList' | 'urlParamList'>,
): { formatString: string; stringToSign: string } {
  const formatString = [
    request.method.toLowerCase(),
    request.pathname,
    signedPairsString(request.query, auth.urlParamList),
    signedPairsString(headerPairs(request.headers, auth.headerList), auth.headerList),
    '',
  ].join('\n');
  const digest = createHash('sha1').update(formatString, 'utf8').digest('hex');
  return { formatString, stringToSign: ['sha1', auth.signTime.raw, digest, ''].join('\n') };
}

/** Finds the Authorization: the header, or for pre-signed URLs the q-* query parameters. */
function findAuthorization(request: SignedRequestParts): { value?: string; token?: string } {
  const header = request.headers['authorization'];
  const headerToken = request.headers['x-cos-security-token'];
  if (typeof header === 'string' && header !== '') {
    return { value: header, token: typeof headerToken === 'string' ? headerToken : undefined };
  }
  const fromQuery = request.query.filter(([name]) => name.startsWith('q-'));
  if (fromQuery.length === 0) return {};
  const queryToken = request.query.find(([name]) => name === 'x-cos-security-token')?.[1];
  return {
    value: fromQuery.map(([name, value]) => `${name}=${value}`).join('&'),
    token: typeof headerToken === 'string' ? headerToken : queryToken,
  };
}

/**
 * Checks a request's COS signature against the configured credentials.
 * @param nowMs the server clock, in epoch milliseconds.
 */
export function verifyCosSignature(
  request: SignedRequestParts,
  credentials: readonly LocalCredential[],
  nowMs: number,
  options: VerifyOptions = {},
): VerifyResult {
  const { value, token } = findAuthorization(request);
  if (value === undefined) {
    return { ok: false, code: 'AccessDenied', message: 'Access Denied: the request carries no Authorization.' };
  }
  if (!value.includes('q-sign-algorithm=')) {
    return {
      ok: false,
      code: 'AccessDenied',
      message: 'Authorization uses an unsupported scheme: expected the COS q-sign-algorithm=sha1&... format.',
    };
  }
  const auth = parseCosAuthorization(value);
  if ('error' in auth) return { ok: false, code: 'AccessDenied', message: auth.error };

  const credential = credentials.find((candidate) => candidate.secretId === auth.secretId);
  if (!credential) {
    return { ok: false, code: 'InvalidAccessKeyId', message: 'The SecretId (q-ak) you provided does not exist.' };
  }

  const skew = options.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS;
  const now = Math.floor(nowMs / 1000);
  for (const window of [auth.signTime, auth.keyTime]) {
    if (now > window.end + skew) return { ok: false, code: 'AccessDenied', message: EXPIRED_MESSAGE };
    if (now < window.start - skew) {
      return {
        ok: false,
        code: 'RequestTimeTooSkewed',
        message: "The difference between the request time and the server's time is too large.",
      };
    }
  }

  const signKey = createHmac('sha1', credential.secretKey).update(auth.keyTime.raw).digest('hex');
  const { formatString, stringToSign } = cosStringToSign(request, auth);
  const expected = createHmac('sha1', signKey).update(stringToSign).digest();
  const provided = Buffer.from(auth.signature, 'hex');
  if (provided.length !== expected.length || !timingSafeEqual(provided, expected)) {
    return {
      ok: false,
      code: 'SignatureDoesNotMatch',
      message: 'The Signature you specified is invalid.',
      formatString,
      stringToSign,
    };
  }

  if (credential.sessionToken !== undefined) {
    if (token === undefined || token === '') {
      return {
        ok: false,
        code: 'InvalidAccessKeyId',
        message: 'This SecretId is a temporary credential: the request needs its x-cos-security-token.',
      };
    }
    if (!sameString(token, credential.sessionToken)) {
      return { ok: false, code: 'AccessDenied', message: 'The x-cos-security-token does not belong to this SecretId.' };
    }
  } else if (token !== undefined && token !== '') {
    return {
      ok: false,
      code: 'AccessDenied',
      message: 'The request carries an x-cos-security-token, but this SecretId is not a temporary credential.',
    };
  }
  return { ok: true, credential };
}

function sameString(a: string, b: string): boolean {
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y);
}
