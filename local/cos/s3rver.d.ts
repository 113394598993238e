// s3rver ships no type declarations; this covers the part of its API the local COS server uses.
declare module 's3rver' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  namespace S3rver {
    interface Options {
      directory?: string;
      silent?: boolean;
      vhostBuckets?: boolean;
      serviceEndpoint?: string;
      resetOnClose?: boolean;
      allowMismatchedSignatures?: boolean;
      configureBuckets?: Array<{ name: string; configs?: Array<string | Buffer> }>;
    }

    /** Object metadata as the filesystem store returns it. */
    interface StoredMetadata {
      /** The MD5 hex digest wrapped in double quotes. */
      etag: string;
      /** An RFC 7231 date. */
      'last-modified': string;
      'content-length': number;
      [header: string]: string | number;
    }

    interface FilesystemStore {
      readonly rootDirectory: string;
      getBucketPath(bucket: string): string;
      /** Path of one of an object's files: resource 'object', 'object.md5' or 'metadata.json'. */
      getResourcePath(bucket: string, key: string, resource: string): string;
      /** Writes the `.md5` file (when md5 is given) and the metadata file s3rver reads back. */
      putMetadata(bucket: string, key: string, metadata: Record<string, unknown>, md5?: string): Promise<void>;
      getBucket(bucket: string): Promise<{ name: string; creationDate: Date } | null>;
      putBucket(bucket: string): Promise<{ name: string; creationDate: Date } | null>;
      /** Rejects with an ENOENT error when the object does not exist. */
      getMetadata(bucket: string, key: string): Promise<StoredMetadata>;
      existsObject(bucket: string, key: string): Promise<boolean>;
      deleteObject(bucket: string, key: string): Promise<void>;
    }

    interface Logger {
      close(): void;
    }
  }

  class S3rver {
    constructor(options?: S3rver.Options);
    readonly store: S3rver.FilesystemStore;
    readonly logger: S3rver.Logger;
    /** The Koa request handler. */
    callback(): (req: IncomingMessage, res: ServerResponse) => Promise<void>;
    /** Koa's 'error' event: failures while handling a request. */
    on(event: 'error', listener: (err: Error) => void): this;
    configureBuckets(): Promise<void>;
  }

  export = S3rver;
}

declare module 's3rver/lib/stores/filesystem.js' {
  import type S3Object from 's3rver/lib/models/object.js';
  /** s3rver's store: one folder per bucket, three files per object. */
  class FilesystemStore implements S3rver.FilesystemStore {
    constructor(rootDirectory: string);
    readonly rootDirectory: string;
    /** Turns an on-disk path fragment back into the object key fragment it stores. */
    static decodeKeyPath(keyPath: string): string;
    getBucketPath(bucket: string): string;
    getResourcePath(bucket: string, key: string, resource: string): string;
    putMetadata(bucket: string, key: string, metadata: Record<string, unknown>, md5?: string): Promise<void>;
    getBucket(bucket: string): Promise<{ name: string; creationDate: Date } | null>;
    putBucket(bucket: string): Promise<{ name: string; creationDate: Date } | null>;
    deleteBucket(bucket: string): Promise<void>;
    getMetadata(bucket: string, key: string): Promise<S3rver.StoredMetadata>;
    existsObject(bucket: string, key: string): Promise<boolean>;
    getObject(bucket: string, key: string, options?: { start?: number; end?: number }): Promise<S3Object | null>;
    putObject(object: S3Object): Promise<{ md5: string; size: number }>;
    copyObject(...args: unknown[]): Promise<unknown>;
    listObjects(bucket: string, options?: Record<string, unknown>): Promise<{ objects: S3Object[]; commonPrefixes: string[]; isTruncated: boolean }>;
    deleteObject(bucket: string, key: string): Promise<void>;
    /** Stores a bucket's (key undefined) or an object's configuration, e.g. cors or tagging, as `<type>.xml`. */
    putSubresource(bucket: string, key: string | undefined, resource: { type: string; toXML(indent?: number): string }): Promise<void>;
    /** Starts a multipart upload: a folder per upload id holding the key and metadata. */
    initiateUpload(bucket: string, key: string, uploadId: string, metadata: Record<string, unknown>): Promise<void>;
    putPart(bucket: string, uploadId: string, partNumber: number, content: import('node:stream').Readable): Promise<{ md5: string; size: number }>;
  }
  export = FilesystemStore;
}

declare module 's3rver/lib/models/object.js' {
  /** s3rver's object model; the constructor keeps the stored subset of the given metadata. */
  class S3Object {
    constructor(bucket: string, key: string, content: unknown, metadata: Record<string, unknown>);
    readonly bucket: string;
    readonly key: string;
    readonly content: unknown;
    readonly metadata: Record<string, unknown>;
    /** Set for a ranged read. */
    range?: { start: number; end: number };
  }
  export = S3Object;
}
