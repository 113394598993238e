/**
 * Walking a COS listing: pages of at most 1000 keys, in key order, until the prefix is exhausted
 * or enough keys were read.
 */
import type COS from 'cos-nodejs-sdk-v5';

/** COS answers at most this many keys per listing page. */
export const PAGE_SIZE = 1000;
/** COS deletes at most this many keys per delete-multiple request. */
export const DELETE_BATCH = 1000;

/** One listed object. */
export interface ListedObject {
  key: string;
  /** ms since the epoch; NaN when the listing had no valid time. */
  lastModified: number;
  size: number;
}

/** The keys under `prefix`, in key order, after `marker` (exclusive), at most `limit`. Rejects with what COS said. */
export async function listObjects(
  cos: COS,
  where: { bucket: string; region: string },
  prefix: string,
  options: { marker?: string; limit?: number } = {},
): Promise<ListedObject[]> {
  const limit = options.limit ?? Infinity;
  const listed: ListedObject[] = [];
  let marker = options.marker;
  while (listed.length < limit) {
    const page = await cos.getBucket({
      Bucket: where.bucket,
      Region: where.region,
      Prefix: prefix,
      Marker: marker,
      MaxKeys: Math.min(PAGE_SIZE, limit - listed.length),
    });
    const contents = page.Contents ?? [];
    for (const item of contents) {
      if (listed.length >= limit) break;
      listed.push({ key: item.Key, lastModified: Date.parse(item.LastModified), size: Number(item.Size) });
    }
    if (String(page.IsTruncated) !== 'true' || contents.length === 0) break;
    // COS sets NextMarker on truncated pages; fall back to the last key when it is missing.
    marker = page.NextMarker || contents[contents.length - 1]!.Key;
  }
  return listed;
}

/** Deletes keys in batches of 1000; returns how many COS reported deleted. */
export async function deleteObjects(cos: COS, where: { bucket: string; region: string }, keys: readonly string[]): Promise<number> {
  let deleted = 0;
  for (let i = 0; i < keys.length; i += DELETE_BATCH) {
    const batch = keys.slice(i, i + DELETE_BATCH);
    const result = await cos.deleteMultipleObject({ Bucket: where.bucket, Region: where.region, Objects: batch.map((Key) => ({ Key })), Quiet: true });
    deleted += batch.length - (result.Error?.length ?? 0);
  }
  return deleted;
}

/** Runs `task` over `items`, at most `concurrency` at a time, keeping the order of the results. */
export async function mapLimit<T, R>(items: readonly T[], concurrency: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}
