import { CosError } from './errors.js';

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
/**
 * s3rver keeps each '/'-separated key segment in a file name followed by a suffix of up to
 * 22 bytes (`._S3rver_metadata.json`), and file names are limited to 255 bytes.
 */
export const MAX_KEY_SEGMENT_BYTES = 233;
/** Marks s3rver's own files; a key segment holding it could collide with them. */
export const STORE_RESERVED_MARKER = '._S3rver_';

/**
 * Why `key` cannot be stored, or undefined when it can. The local store maps keys onto
 * directories, so keys that would alias another path on disk are refused.
 */
export function objectKeyProblem(key: string): string | undefined {
  if (key === '') return 'The object key is empty.';
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) {
    return `The object key is longer than ${MAX_KEY_BYTES} bytes.`;
  }
  if (key.includes('\0')) return 'The object key contains a NUL character.';
  const segments = key.split('/');
  // a trailing '/' names a "folder" object, which the store supports
  if (segments.at(-1) === '' && segments.length > 1) segments.pop();
  for (const segment of segments) {
    if (segment === '') {
      return "The object key contains an empty path segment ('//' or a leading '/'), which this local store cannot hold.";
    }
    if (segment === '.' || segment === '..') {
      return `The object key contains a "${segment}" path segment, which this local store cannot hold.`;
    }
    if (Buffer.byteLength(segment) > MAX_KEY_SEGMENT_BYTES) {
      return `A '/'-separated segment of the object key is longer than ${MAX_KEY_SEGMENT_BYTES} bytes, which this local store cannot hold.`;
    }
    if (segment.includes(STORE_RESERVED_MARKER)) {
      return `The object key contains "${STORE_RESERVED_MARKER}", which this local store reserves for its own files.`;
    }
  }
  return undefined;
}
