import { CosError } from './errors';

/** What a path-style request URL (`/<bucket>/<key>?<query>`) addresses. */
export interface RequestTarget {
  /** Bucket name; '' for requests to the service root `/`. */
  bucket: string;
  /** Decoded object key; '' for bucket-level requests. */
  key: string;
  /** The path the client signs: '/' + key (COS signs the key, not the bucket). */
  signedPath: string;
  /** Decoded query parameters in request order; a parameter without '=' has value ''. */
  query: Array<[string, string]>;
  /** The raw path, for error documents. */
  rawPath: string;
}

/**
 * Splits a request URL into bucket, key and query.
 * @throws CosError `InvalidURI` when the URL is not a path or holds broken percent-encoding.
 */
export function parseRequestTarget(rawUrl: string): RequestTarget {
  const queryStart = rawUrl.indexOf('?');
  const rawPath = queryStart === -1 ? rawUrl : rawUrl.slice(0, queryStart);
  const rawQuery = queryStart === -1 ? '' : rawUrl.slice(queryStart + 1);
  if (!rawPath.startsWith('/')) {
    throw new CosError('InvalidURI', "Couldn't parse the specified URI.", 400);
  }
  const slash = rawPath.indexOf('/', 1);
  const rawBucket = slash === -1 ? rawPath.slice(1) : rawPath.slice(1, slash);
  const rawKey = slash === -1 ? '' : rawPath.slice(slash + 1);
  const bucket = decode(rawBucket);
  const key = decode(rawKey);
  const query: Array<[string, string]> = [];
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    // '+' stays a plus: COS clients percent-encode spaces, and the signature covers the decoded value
    query.push(eq === -1 ? [decode(part), ''] : [decode(part.slice(0, eq)), decode(part.slice(eq + 1))]);
  }
  return { bucket, key, signedPath: '/' + key, query, rawPath };
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new CosError('InvalidURI', "Couldn't parse the specified URI: bad percent-encoding.", 400);
  }
}

/** COS bucket names: `<name>-<appid>`, lower-case letters, digits and '-'. */
const BUCKET_NAME = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?-[0-9]+$/;
const MAX_BUCKET_NAME_LENGTH = 60;

/** Why `name` is not a usable bucket name, or undefined when it is. */
export function bucketNameProblem(name: string): string | undefined {
  if (name.length > MAX_BUCKET_NAME_LENGTH || !BUCKET_NAME.test(name)) {
    return (
      `Bucket name "${name}" is invalid: use <name>-<appid> with lower-case letters, digits and '-' ` +
      `(e.g. examplebucket-1250000000), at most ${MAX_BUCKET_NAME_LENGTH} characters.`
    );
  }
  return undefined;
}

/** COS's limit on object key length, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 850;
/** Marks the store's own files and folders; a key segment holding it could collide with them. */
export const STORE_RESERVED_MARKER = '._S3rver_';
/** Characters COS does not support in keys: CAN, EM, SUB and ESC (U+0018-U+001B). */
const COS_UNSUPPORTED_CHARACTERS = /[\u0018-\u001b]/;

/** Why a key cannot be stored: the COS error code (400) and its message. */
export interface KeyProblem {
  code: 'KeyTooLong' | 'InvalidObjectName';
  message: string;
}

/**
 * Why `key` cannot be stored, or undefined when it can. Keys are what COS accepts, up to
 * {@link MAX_KEY_BYTES} bytes with segments of any length (the journal holds keys, not file
 * names), less a few shapes the store refuses: see the README.
 */
export function objectKeyProblem(key: string): KeyProblem | undefined {
  const invalid = (message: string): KeyProblem => ({ code: 'InvalidObjectName', message });
  if (key === '') return invalid('The object key is empty.');
  const bytes = Buffer.byteLength(key);
  if (bytes > MAX_KEY_BYTES) {
    return { code: 'KeyTooLong', message: `Your key is too long: ${bytes} bytes in UTF-8, and COS allows at most ${MAX_KEY_BYTES}.` };
  }
  if (key.includes('\0')) return invalid('The object key contains a NUL character.');
  const unsupported = COS_UNSUPPORTED_CHARACTERS.exec(key);
  if (unsupported) {
    const code = unsupported[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    return invalid(`The object key contains U+${code}; COS does not support CAN, EM, SUB or ESC (U+0018-U+001B) in keys.`);
  }
  const segments = key.split('/');
  // a trailing '/' names a "folder" object, which the store supports
  if (segments.at(-1) === '' && segments.length > 1) segments.pop();
  for (const segment of segments) {
    if (segment === '') {
      return invalid("The object key contains an empty path segment ('//' or a leading '/'), which this local store refuses.");
    }
    if (segment === '.' || segment === '..') {
      return invalid(`The object key contains a "${segment}" path segment, which this local store refuses.`);
    }
    if (segment.includes(STORE_RESERVED_MARKER)) {
      return invalid(`The object key contains "${STORE_RESERVED_MARKER}", which this local store reserves for its own files.`);
    }
  }
  return undefined;
}
