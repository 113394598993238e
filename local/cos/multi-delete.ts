/**
 * POST Bucket ?delete (DeleteMultipleObjects). Answered here rather than by s3rver, whose XML
 * parser turns keys like "007" into numbers and trims spaces, so it deletes the wrong keys.
 */
import { createHash } from 'node:crypto';
import { CosError } from './errors';
import { objectKeyProblem } from './paths';
import type { ObjectStore } from './store';
import { XML_DECLARATION, decodeXmlText, escapeXml } from './xml';

/** COS accepts at most this many keys per request. */
export const MAX_DELETE_KEYS = 1000;

export interface DeleteRequest {
  keys: string[];
  /** When true, the result lists only failures. */
  quiet: boolean;
}

export interface DeleteOutcome {
  deleted: string[];
  errors: Array<{ key: string; code: string; message: string }>;
}

/**
 * Checks the body against its Content-MD5 header, which COS requires for this request.
 * @throws CosError `MissingContentMD5`, `InvalidDigest` or `BadDigest` (400).
 */
export function checkContentMd5(body: Buffer, contentMd5: string | undefined): void {
  if (contentMd5 === undefined || contentMd5 === '') {
    throw new CosError('MissingContentMD5', 'Missing required header for this request: Content-MD5.', 400);
  }
  const provided = Buffer.from(contentMd5, 'base64');
  if (provided.length !== 16) {
    throw new CosError('InvalidDigest', 'The Content-MD5 you specified is not a base64-encoded 128-bit MD5.', 400);
  }
  const actual = createHash('md5').update(body).digest();
  if (!actual.equals(provided)) {
    throw new CosError('BadDigest', 'The Content-MD5 you specified did not match what we received.', 400);
  }
}

/**
 * Parses a `<Delete><Object><Key>…</Key></Object>…<Quiet>…</Quiet></Delete>` body.
 * @throws CosError `MalformedXML` (400).
 */
export function parseDeleteRequest(xml: string): DeleteRequest {
  const malformed = (why: string) => new CosError('MalformedXML', `The XML you provided was not well-formed or did not validate: ${why}`, 400);
  const root = /<Delete(?:\s[^>]*)?>([\s\S]*)<\/Delete>/.exec(xml);
  if (!root) throw malformed('no <Delete> element.');
  const body = root[1]!;
  const keys: string[] = [];
  for (const object of body.matchAll(/<Object>([\s\S]*?)<\/Object>/g)) {
    const key = /<Key>([\s\S]*?)<\/Key>/.exec(object[1]!);
    if (!key) throw malformed('an <Object> has no <Key>.');
    const decoded = decodeXmlText(key[1]!);
    if (decoded === undefined) throw malformed('a <Key> holds an invalid entity.');
    keys.push(decoded);
  }
  if (keys.length === 0) throw malformed('no <Object> to delete.');
  if (keys.length > MAX_DELETE_KEYS) throw malformed(`more than ${MAX_DELETE_KEYS} objects in one request.`);
  const quiet = /<Quiet>\s*true\s*<\/Quiet>/i.test(body);
  return { keys, quiet };
}

/** Deletes the keys one after the other; each delete is one journal record. */
export async function deleteObjects(store: ObjectStore, bucket: string, keys: readonly string[]): Promise<DeleteOutcome> {
  const outcome: DeleteOutcome = { deleted: [], errors: [] };
  for (const key of keys) {
    const problem = objectKeyProblem(key);
    if (problem) {
      outcome.errors.push({ key, ...problem });
      continue;
    }
    try {
      await store.deleteObject(bucket, key);
      outcome.deleted.push(key);
    } catch (err) {
      outcome.errors.push({ key, code: 'InternalError', message: err instanceof Error ? err.message : String(err) });
    }
  }
  return outcome;
}

/** Renders the `DeleteResult` document. */
export function renderDeleteResult(outcome: DeleteOutcome, quiet: boolean): string {
  return [
    XML_DECLARATION,
    '<DeleteResult>',
    ...(quiet ? [] : outcome.deleted.map((key) => `<Deleted><Key>${escapeXml(key)}</Key></Deleted>`)),
    ...outcome.errors.map(
      (error) => `<Error><Key>${escapeXml(error.key)}</Key><Code>${escapeXml(error.code)}</Code>` + `<Message>${escapeXml(error.message)}</Message></Error>`,
    ),
    '</DeleteResult>',
  ].join('\n');
}
