/** GET Bucket (list objects) and GET Bucket ?uploads, answered the way COS does. */
import { CosError } from './errors';
import { type ObjectInfo, type ObjectStore, compareKeys } from './store';
import { XML_DECLARATION, escapeXml, nonXmlCharacter } from './xml';

/** COS returns at most this many entries per listing page, whatever max-keys asks for. */
export const MAX_KEYS_LIMIT = 1000;

export interface ListObjectsQuery {
  prefix: string;
  marker: string;
  delimiter: string;
  /** Already capped at {@link MAX_KEYS_LIMIT}. */
  maxKeys: number;
  encodingType?: 'url';
}

export interface ListObjectsPage {
  objects: ObjectInfo[];
  commonPrefixes: string[];
  isTruncated: boolean;
  /** The marker for the next page; set whenever the page is truncated (COS sets it even without a delimiter). */
  nextMarker?: string;
}

/**
 * Reads listing parameters from a query string.
 * @throws CosError `InvalidArgument` for a max-keys that is not a non-negative integer or an unknown encoding-type.
 */
export function parseListQuery(query: ReadonlyArray<readonly [string, string]>): ListObjectsQuery {
  const get = (name: string) => query.find(([key]) => key === name)?.[1];
  const rawMaxKeys = get('max-keys');
  let maxKeys = MAX_KEYS_LIMIT;
  if (rawMaxKeys !== undefined && rawMaxKeys !== '') {
    if (!/^\d+$/.test(rawMaxKeys)) {
      throw new CosError('InvalidArgument', `max-keys must be a non-negative integer, got "${rawMaxKeys}".`, 400);
    }
    maxKeys = Math.min(MAX_KEYS_LIMIT, Number(rawMaxKeys));
  }
  const encodingType = get('encoding-type');
  if (encodingType !== undefined && encodingType !== '' && encodingType !== 'url') {
    throw new CosError('InvalidArgument', `encoding-type must be "url", got "${encodingType}".`, 400);
  }
  return {
    prefix: get('prefix') ?? '',
    marker: get('marker') ?? '',
    delimiter: get('delimiter') ?? '',
    maxKeys,
    ...(encodingType === 'url' ? { encodingType } : {}),
  };
}

/** Lists one page of a bucket's objects, in key order, after `marker`. */
export async function listObjectsPage(store: ObjectStore, bucket: string, query: ListObjectsQuery): Promise<ListObjectsPage> {
  const { prefix, marker, delimiter, maxKeys } = query;
  if (maxKeys === 0) return { objects: [], commonPrefixes: [], isTruncated: false };

  const keys: string[] = [];
  const commonPrefixes: string[] = [];
  let last: string | undefined;
  let isTruncated = false;
  // keys below a common prefix already returned are skipped
  let skipPrefix: string | undefined;
  for (const key of await store.keysAfter(bucket, marker, prefix)) {
    if (!key.startsWith(prefix)) {
      // keys are sorted, so past the prefix's range nothing more can match
      if (compareKeys(key, prefix) > 0) break;
      continue;
    }
    if (skipPrefix !== undefined && key.startsWith(skipPrefix)) continue;
    let commonPrefix: string | undefined;
    if (delimiter !== '') {
      const at = key.indexOf(delimiter, prefix.length);
      if (at !== -1) {
        commonPrefix = key.slice(0, at + delimiter.length);
        skipPrefix = commonPrefix;
        if (compareKeys(commonPrefix, marker) <= 0) continue;
      }
    }
    if (keys.length + commonPrefixes.length === maxKeys) {
      isTruncated = true;
      break;
    }
    if (commonPrefix !== undefined) commonPrefixes.push(commonPrefix);
    else keys.push(key);
    last = commonPrefix ?? key;
  }
  return {
    objects: await store.objectInfos(bucket, keys),
    commonPrefixes,
    isTruncated,
    ...(isTruncated && last !== undefined ? { nextMarker: last } : {}),
  };
}

/**
 * Renders a `ListBucketResult` document like COS's. With `encoding-type=url`, keys, prefixes and
 * markers are percent-encoded (UTF-8), as COS does.
 * @throws CosError `InvalidArgument` (400) when, without it, a key or parameter holds a character XML 1.0 cannot carry
 */
export function renderListBucketResult(bucket: string, query: ListObjectsQuery, page: ListObjectsPage): string {
  const text = (value: string) => (query.encodingType === 'url' ? escapeXml(encodeURIComponent(value)) : xmlText(value));
  const appId = bucket.slice(bucket.lastIndexOf('-') + 1);
  const lines = [
    XML_DECLARATION,
    '<ListBucketResult>',
    `<Name>${escapeXml(bucket)}</Name>`,
    ...(query.encodingType ? [`<EncodingType>${query.encodingType}</EncodingType>`] : []),
    `<Prefix>${text(query.prefix)}</Prefix>`,
    `<Marker>${text(query.marker)}</Marker>`,
    `<MaxKeys>${query.maxKeys}</MaxKeys>`,
    ...(query.delimiter !== '' ? [`<Delimiter>${text(query.delimiter)}</Delimiter>`] : []),
    `<IsTruncated>${page.isTruncated}</IsTruncated>`,
    ...(page.nextMarker !== undefined ? [`<NextMarker>${text(page.nextMarker)}</NextMarker>`] : []),
    ...page.commonPrefixes.map((prefix) => `<CommonPrefixes><Prefix>${text(prefix)}</Prefix></CommonPrefixes>`),
    ...page.objects.map((object) =>
      [
        '<Contents>',
        `<Key>${text(object.key)}</Key>`,
        `<LastModified>${object.lastModified.toISOString()}</LastModified>`,
        `<ETag>${escapeXml(object.etag)}</ETag>`,
        `<Size>${object.size}</Size>`,
        `<Owner><ID>${escapeXml(appId)}</ID><DisplayName>${escapeXml(appId)}</DisplayName></Owner>`,
        '<StorageClass>STANDARD</StorageClass>',
        '</Contents>',
      ].join(''),
    ),
    '</ListBucketResult>',
  ];
  return lines.join('\n');
}

/**
 * `value` escaped for an element. A character XML 1.0 cannot hold, such as U+0001, which COS
 * accepts in keys, refuses the listing: raw it would make the document unreadable to XML parsers,
 * and as `&#x1;` the SDK would hand it over undecoded, a key that does not exist.
 */
function xmlText(value: string): string {
  const character = nonXmlCharacter(value);
  if (character !== undefined) {
    throw new CosError(
      'InvalidArgument',
      `The listing would hold ${JSON.stringify(value)}, whose ${character} XML cannot carry: list with encoding-type=url ` +
        "(the SDK's EncodingType: 'url') and decode keys, prefixes and markers with decodeURIComponent.",
      400,
    );
  }
  return escapeXml(value);
}

/**
 * Renders an empty `ListMultipartUploadsResult`. s3rver answers `GET ?uploads` with 501, and
 * the SDK's resumable uploads ask it first; with no resumable upload listed they start afresh.
 */
export function renderEmptyMultipartUploads(bucket: string, query: ReadonlyArray<readonly [string, string]>): string {
  const get = (name: string) => query.find(([key]) => key === name)?.[1] ?? '';
  const text = (value: string) => (get('encoding-type') === 'url' ? escapeXml(encodeURIComponent(value)) : xmlText(value));
  return [
    XML_DECLARATION,
    '<ListMultipartUploadsResult>',
    `<Bucket>${escapeXml(bucket)}</Bucket>`,
    `<Encoding-Type>${xmlText(get('encoding-type'))}</Encoding-Type>`,
    `<KeyMarker>${text(get('key-marker'))}</KeyMarker>`,
    `<UploadIdMarker>${xmlText(get('upload-id-marker'))}</UploadIdMarker>`,
    '<NextKeyMarker></NextKeyMarker>',
    '<NextUploadIdMarker></NextUploadIdMarker>',
    `<MaxUploads>${MAX_KEYS_LIMIT}</MaxUploads>`,
    '<IsTruncated>false</IsTruncated>',
    `<Prefix>${text(get('prefix'))}</Prefix>`,
    `<Delimiter>${text(get('delimiter'))}</Delimiter>`,
    '</ListMultipartUploadsResult>',
  ].join('\n');
}
