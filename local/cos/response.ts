/** Writing responses the way COS does, for both the local handlers and s3rver's answers. */
import type { ServerResponse } from 'node:http';
import { type CosError, codeForStatus, newTraceId, renderCosErrorXml } from './errors';
import { decodeXmlText } from './xml';

/** What every response of one request shares. */
export interface ResponseContext {
  requestId: string;
  /** What the request addressed, shown as `<Resource>` in errors. */
  resource: string;
}

const AMZ_META = 'x-amz-meta-';
const COS_META = 'x-cos-meta-';

/** Sets COS's common headers and renames s3rver's metadata headers to COS's. */
function applyCosHeaders(res: ServerResponse, context: ResponseContext): void {
  for (const name of res.getHeaderNames()) {
    if (name.startsWith(AMZ_META)) {
      const value = res.getHeader(name)!;
      res.removeHeader(name);
      res.setHeader(COS_META + name.slice(AMZ_META.length), value);
    }
  }
  res.setHeader('x-cos-request-id', context.requestId);
  res.setHeader('Server', 'tencent-cos');
}

/** Sends an XML document. */
export function sendXml(res: ServerResponse, context: ResponseContext, status: number, xml: string): void {
  const body = Buffer.from(xml, 'utf8');
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/xml');
  res.setHeader('Content-Length', body.length);
  applyCosHeaders(res, context);
  res.end(body);
}

/** Sends a status with no body. */
export function sendEmpty(res: ServerResponse, context: ResponseContext, status: number): void {
  res.statusCode = status;
  res.setHeader('Content-Length', 0);
  applyCosHeaders(res, context);
  res.end();
}

/** Sends a COS error document. */
export function sendError(res: ServerResponse, context: ResponseContext, error: CosError): void {
  if (res.headersSent) {
    res.destroy(error);
    return;
  }
  for (const name of res.getHeaderNames()) res.removeHeader(name);
  const xml = renderCosErrorXml({
    code: error.code,
    message: error.message,
    resource: context.resource,
    requestId: context.requestId,
    traceId: newTraceId(),
    details: error.details,
  });
  sendXml(res, context, error.status, xml);
}

/**
 * Makes the response s3rver writes look like COS's: common headers, `x-cos-meta-*` instead
 * of `x-amz-meta-*`, and error bodies rewritten to COS's error document.
 */
export function adaptS3rverResponse(res: ServerResponse, context: ResponseContext): void {
  const originalWriteHead = res.writeHead;
  const originalWrite = res.write;
  const originalEnd = res.end;

  // s3rver's error handler drops all headers but x-amz-*, so common headers go on at the last moment
  res.writeHead = function (this: ServerResponse, ...args: Parameters<ServerResponse['writeHead']>) {
    applyCosHeaders(this, context);
    return originalWriteHead.apply(this, args);
  } as ServerResponse['writeHead'];

  let mode: 'undecided' | 'pass' | 'buffer' = 'undecided';
  const chunks: Buffer[] = [];
  const decide = () => {
    if (mode !== 'undecided') return;
    mode = res.statusCode >= 400 && !res.headersSent ? 'buffer' : 'pass';
    if (mode === 'pass') {
      res.write = originalWrite;
      res.end = originalEnd;
    }
  };
  const collect = (chunk: unknown, encoding: unknown) => {
    if (chunk === undefined || chunk === null || typeof chunk === 'function') return;
    chunks.push(
      Buffer.isBuffer(chunk)
        ? chunk
        : typeof chunk === 'string'
          ? Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8')
          : Buffer.from(chunk as Uint8Array),
    );
  };

  res.write = function (this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
    decide();
    if (mode === 'pass') return (originalWrite as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
    collect(chunk, rest[0]);
    const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
    if (callback) process.nextTick(callback);
    return true;
  } as ServerResponse['write'];

  res.end = function (this: ServerResponse, ...args: unknown[]) {
    decide();
    if (mode === 'pass') return (originalEnd as (...a: unknown[]) => ServerResponse).apply(this, args);
    const [chunk, encoding] = args;
    collect(chunk, encoding);
    const status = this.statusCode;
    const { code, message } = readS3Error(Buffer.concat(chunks).toString('utf8'), status);
    for (const name of this.getHeaderNames()) this.removeHeader(name);
    const xml = Buffer.from(renderCosErrorXml({ code, message, resource: context.resource, requestId: context.requestId, traceId: newTraceId() }), 'utf8');
    this.setHeader('Content-Type', 'application/xml');
    this.setHeader('Content-Length', xml.length);
    this.write = originalWrite;
    this.end = originalEnd;
    const callback = args.find((arg) => typeof arg === 'function') as (() => void) | undefined;
    return (originalEnd as (chunk: Buffer, callback?: () => void) => ServerResponse).call(this, xml, callback);
  } as ServerResponse['end'];
}

/** Code and message of an s3rver error body, or ones derived from the status when the body has none. */
function readS3Error(body: string, status: number): { code: string; message: string } {
  const element = (name: string) => {
    const match = new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(body);
    return match ? (decodeXmlText(match[1]!) ?? match[1]) : undefined;
  };
  return {
    code: element('Code') || codeForStatus(status),
    message: element('Message') || body.trim() || `HTTP ${status}`,
  };
}
