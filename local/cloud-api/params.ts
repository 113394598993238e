/**
 * Reading an action's JSON parameters the way the Cloud API checks them, once `checkRequest`
 * (shapes.ts) has refused unknown fields (`UnknownParameter`) and wrong types (`InvalidParameter`):
 * a missing required one is `MissingParameter`, a refused value `InvalidParameterValue`; every
 * message names the parameter.
 */
import { CloudApiError, CloudApiErrorCode } from './errors';

/** An action's parameters: the request body's top-level object. */
export type Params = Record<string, unknown>;

/** Parses a request body into parameters. @throws CloudApiError `InvalidParameter` unless it is a JSON object. */
export function parseParams(body: Buffer): Params {
  const text = body.toString('utf8');
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new CloudApiError(CloudApiErrorCode.INVALID_PARAMETER, `the request body is not JSON: ${(err as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new CloudApiError(CloudApiErrorCode.INVALID_PARAMETER, 'the request body must be a JSON object of parameters');
  }
  return value as Params;
}

/**
 * Whether a parameter was given: JSON null counts as absent. The SDK never sends one in an object
 * (its `deepRemoveNull` drops them at every depth); other clients' nulls are read the same way.
 */
export function given(params: Params, name: string): boolean {
  return params[name] !== undefined && params[name] !== null;
}

export function missing(name: string): CloudApiError {
  return new CloudApiError(CloudApiErrorCode.MISSING_PARAMETER, `the request is missing the required parameter \`${name}\``);
}

export function invalid(name: string, message: string, code: string = CloudApiErrorCode.INVALID_PARAMETER_VALUE): CloudApiError {
  return new CloudApiError(code, `\`${name}\` ${message}`);
}

/** A required non-empty string. */
export function requiredString(params: Params, name: string): string {
  if (!given(params, name)) throw missing(name);
  return nonEmptyString(params[name], name);
}

/** An optional non-empty string. */
export function optionalString(params: Params, name: string): string | undefined {
  return given(params, name) ? nonEmptyString(params[name], name) : undefined;
}

/** A required number. */
export function requiredNumber(params: Params, name: string): number {
  if (!given(params, name)) throw missing(name);
  return finiteNumber(params[name], name);
}

/** An optional number. */
export function optionalNumber(params: Params, name: string): number | undefined {
  return given(params, name) ? finiteNumber(params[name], name) : undefined;
}

function nonEmptyString(value: unknown, name: string): string {
  if (typeof value !== 'string' || value === '') throw invalid(name, `must be a non-empty string, got ${JSON.stringify(value)}`);
  return value;
}

function finiteNumber(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(name, `must be a number, got ${JSON.stringify(value)}`);
  return value;
}
