import { randomBytes } from 'node:crypto';
import { CodedError } from '../coded-error';
import { XML_DECLARATION, escapeXml } from './xml';

/** A failure answered to the client as a COS XML error document. */
export class CosError extends CodedError {
  /** HTTP status to answer with. */
  readonly status: number;
  /** Extra elements appended to the error document (diagnostics such as StringToSign). */
  readonly details: Readonly<Record<string, string>>;

  /** @param code COS error code, e.g. `NoSuchBucket` */
  constructor(code: string, message: string, status: number, details: Record<string, string> = {}) {
    super(code, message);
    this.status = status;
    this.details = details;
  }
}

/**
 * Thrown by `CosServer` (and `CosServerThread`, for the server's errors in its thread) for misuse,
 * with a `code` to branch on. Here rather than in server.ts so the thread's owner can throw it
 * without loading the server.
 */
export class CosServerError extends CodedError {}

/** Fields of a COS error document. */
export interface CosErrorDocument {
  code: string;
  message: string;
  /** What the request addressed, e.g. `127.0.0.1:4568/bucket-1250000000/key`. */
  resource: string;
  requestId: string;
  traceId: string;
  details?: Readonly<Record<string, string>>;
}

/** Renders an error the way COS does: `<Error><Code/><Message/><Resource/><RequestId/><TraceId/></Error>`. */
export function renderCosErrorXml(doc: CosErrorDocument): string {
  const element = (name: string, value: string) => `<${name}>${escapeXml(value)}</${name}>`;
  const details = Object.entries(doc.details ?? {}).map(([name, value]) => element(name, value));
  return [
    XML_DECLARATION,
    '<Error>',
    element('Code', doc.code),
    element('Message', doc.message),
    element('Resource', doc.resource),
    element('RequestId', doc.requestId),
    element('TraceId', doc.traceId),
    ...details,
    '</Error>',
  ].join('\n');
}

/** A fresh identifier for the `x-cos-request-id` header and `<RequestId>`. */
export function newRequestId(): string {
  return randomBytes(24).toString('base64url');
}

/** A fresh identifier for `<TraceId>`. */
export function newTraceId(): string {
  return randomBytes(48).toString('base64url');
}

/** The error code COS-style clients expect for a bare HTTP status without an error body. */
export function codeForStatus(status: number): string {
  switch (status) {
    case 400:
      return 'InvalidRequest';
    case 403:
      return 'AccessDenied';
    case 404:
      return 'NoSuchResource';
    case 405:
      return 'MethodNotAllowed';
    case 501:
      return 'NotImplemented';
    default:
      return status >= 500 ? 'InternalError' : 'InvalidRequest';
  }
}
