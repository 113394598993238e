/**
 * Reading a bounded request body, for the local services' HTTP endpoints.
 */
import type { IncomingMessage } from 'node:http';

/**
 * Reads a request body of at most `limit` bytes. A larger body resolves `undefined`, after being
 * drained rather than left unread, so the caller can still answer with its own error.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > limit ? undefined : Buffer.concat(chunks, size)));
    req.on('error', reject);
  });
}
