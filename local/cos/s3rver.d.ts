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
  class FilesystemStore {
    /** Turns an on-disk path fragment back into the object key fragment it stores. */
    static decodeKeyPath(keyPath: string): string;
  }
  export = FilesystemStore;
}
