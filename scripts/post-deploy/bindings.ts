/**
 * The API's three WebSocket bindings: what the stack declares, what the live API has, and the
 * ModifyApi request that changes only them; and the fingerprint of the live definition that
 * tells whether it changed since the last release.
 */
import { createHash } from 'node:crypto';
import { CodedError } from '../../lib/errors';
import type { PostDeployInput } from './inputs';
import { MODIFY_API_MODELS } from './sdk-models';

const ROLES = ['Register', 'Transport', 'Cleanup'] as const;

/** The nine ServiceWebsocket* fields as the stack declares them. */
export function declaredBindings(input: PostDeployInput): Record<string, string> {
  const names = { Register: input.functions.register, Transport: input.functions.transport, Cleanup: input.functions.cleanup };
  const fields: Record<string, string> = {};
  for (const role of ROLES) {
    fields[`ServiceWebsocket${role}FunctionName`] = names[role];
    fields[`ServiceWebsocket${role}FunctionNamespace`] = input.namespace;
    fields[`ServiceWebsocket${role}FunctionQualifier`] = input.qualifier;
  }
  return fields;
}

/**
 * ModifyApi fields that DescribeApi does not return but the stack declares: without them ModifyApi
 * would leave them to the cloud's defaults.
 */
export function stackFields(input: PostDeployInput): Record<string, string> {
  return { ServiceScfFunctionType: input.scfFunctionType };
}

/** The fields whose live value differs from the declared one, as `field: live -> declared`. */
export function bindingDifferences(api: Record<string, unknown>, declared: Record<string, string>): string[] {
  return Object.entries(declared)
    .filter(([field, value]) => (api[field] ?? '') !== value)
    .map(([field, value]) => `${field}: ${JSON.stringify(api[field] ?? null)} -> ${JSON.stringify(value)}`);
}

/** Thrown when the live API cannot be put in ModifyApiRequest's shape; the API is then left alone. */
export class ApiShapeError extends CodedError<'ERR_API_SHAPE'> {
  constructor(message: string) {
    super('ERR_API_SHAPE', message);
  }
}

/**
 * A DescribeApi answer (`ApiInfo`) in `ModifyApiRequest`'s shape: only the request's own fields,
 * at every depth (a nested `ApiInfo` model keeps the fields its request counterpart declares), no
 * nulls at any depth, and no empty objects or arrays (what the cloud answers for "not set").
 * @throws ApiShapeError for a value of another type than the request declares, or a nested
 *   object that lacks a field the request requires.
 */
export function requestShape(api: Record<string, unknown>): Record<string, unknown> {
  return shapeObject(api, 'ModifyApiRequest', '') ?? {};
}

function parse(spec: string): { base: string; depth: number; optional: boolean } {
  const optional = spec.endsWith('?');
  const base = optional ? spec.slice(0, -1) : spec;
  const depth = (base.match(/(\[\])+$/)?.[0].length ?? 0) / 2;
  return { base: base.slice(0, base.length - depth * 2), depth, optional };
}

function shapeObject(value: Record<string, unknown>, model: string, path: string): Record<string, unknown> | undefined {
  const fields = MODIFY_API_MODELS[model];
  const shaped: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(fields)) {
    if (value[name] === undefined || value[name] === null) continue;
    const field = shapeValue(value[name], parse(spec), `${path}${name}`);
    if (field !== undefined) shaped[name] = field;
  }
  if (Object.keys(shaped).length === 0) return undefined;
  if (path !== '') {
    const lacking = Object.entries(fields)
      .filter(([name, spec]) => !spec.endsWith('?') && shaped[name] === undefined)
      .map(([name]) => `${path}${name}`);
    if (lacking.length)
      throw new ApiShapeError(
        `DescribeApi returned ${path.slice(0, -1)} without ${lacking.join(', ')}, which ModifyApi requires there; the API was not changed`,
      );
  }
  return shaped;
}

function shapeValue(value: unknown, type: { base: string; depth: number }, path: string): unknown {
  const refuse = () => new ApiShapeError(`DescribeApi returned ${path} as ${preview(value)}, where ModifyApi takes ${describe(type)}; the API was not changed`);
  if (type.depth > 0) {
    if (!Array.isArray(value)) throw refuse();
    const element = { base: type.base, depth: type.depth - 1 };
    const items = value
      .map((item, i) => (item === null || item === undefined ? undefined : shapeValue(item, element, `${path}[${i}]`)))
      .filter((item) => item !== undefined);
    return items.length ? items : undefined;
  }
  if (type.base === 'string' || type.base === 'number' || type.base === 'boolean') {
    if (typeof value !== type.base) throw refuse();
    return value;
  }
  if (typeof value !== 'object' || Array.isArray(value)) throw refuse();
  return shapeObject(value as Record<string, unknown>, type.base, `${path}.`);
}

function describe(type: { base: string; depth: number }): string {
  const base = ['string', 'number', 'boolean'].includes(type.base) ? type.base : `${type.base} object`;
  return `${'an array of '.repeat(type.depth)}${type.depth ? `${base}s` : `a ${base}`}`;
}

function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}

/** Needed besides ModifyApiRequest's required fields: a WebSocket API cannot do without them. */
const WEBSOCKET_REQUIRED = ['ServiceTimeout', 'Protocol'];

/**
 * The ModifyApi request: the live API as it is (ModifyApi replaces the definition, so every field
 * it takes that the live API has is sent back), with the declared bindings and the stack's own
 * fields that DescribeApi does not return.
 * @throws ApiShapeError as {@link requestShape}, or when a field ModifyApi requires is missing.
 */
export function modifyApiRequest(api: Record<string, unknown>, declared: Record<string, string>, stack: Record<string, string>): Record<string, unknown> {
  const request: Record<string, unknown> = { ...requestShape(api), ...declared, ...stack };
  const required = [
    ...Object.entries(MODIFY_API_MODELS.ModifyApiRequest)
      .filter(([, spec]) => !spec.endsWith('?'))
      .map(([name]) => name),
    ...WEBSOCKET_REQUIRED,
  ];
  const missing = required.filter((field) => request[field] === undefined);
  if (missing.length > 0) throw new ApiShapeError(`DescribeApi did not return ${missing.join(', ')}, which ModifyApi requires; the API was not changed`);
  return request;
}

/**
 * The live definition's fingerprint: SHA-256 of its ModifyApiRequest-shaped fields with keys in
 * order, so that answers differing only in fields ModifyApi cannot set (times, InternalDomain)
 * or in key order have the same one.
 */
export function apiFingerprint(api: Record<string, unknown>): string {
  return createHash('sha256')
    .update(canonicalJson(requestShape(api)))
    .digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}
