/**
 * The SDK's models as tables (`sdk-models.ts`), and what the local Cloud API does with them:
 * refuse a request that strays from its model, and answer a model with every field present.
 */
import { CloudApiError, CloudApiErrorCode } from './errors';
import { missing } from './params';

/**
 * A field's type: `string`, `number`, `boolean`, `null` (a model the SDK declares empty) or the
 * name of another model of the same table; each `[]` after it one array level; a final `?` when
 * the field is optional.
 */
export type TypeSpec = string;

/** Models by name, each its fields by name, in the SDK's order. */
export type ModelTable = Readonly<Record<string, Readonly<Record<string, TypeSpec>>>>;

/** A {@link TypeSpec} taken apart. */
export interface FieldType {
  base: string;
  /** How many arrays deep the base sits. */
  depth: number;
  optional: boolean;
}

const SCALARS = new Set(['string', 'number', 'boolean', 'null']);

export function parseType(spec: TypeSpec): FieldType {
  const optional = spec.endsWith('?');
  let base = optional ? spec.slice(0, -1) : spec;
  let depth = 0;
  while (base.endsWith('[]')) {
    base = base.slice(0, -2);
    depth += 1;
  }
  return { base, depth, optional };
}

/** Whether a base type is another model rather than a JSON scalar. */
export function isModel(base: string): boolean {
  return !SCALARS.has(base);
}

/** The fields of a model. @throws Error for a model the table lacks (a bug here, not a bad request). */
export function modelFields(models: ModelTable, model: string): Readonly<Record<string, TypeSpec>> {
  const fields = models[model];
  if (!fields) throw new Error(`no SDK model ${model} in the table`);
  return fields;
}

/**
 * Refuses a request that does not keep to its SDK model, at any depth: a field the model does
 * not declare is `UnknownParameter`, a required one left out (or null) `MissingParameter`, a value
 * of the wrong type `InvalidParameter`; each message names the field's path
 * (`RequestConfig.Path`, `Environment.Variables[2].Key`). Null stands for "not given", as
 * {@link given} reads it; an array element may not be null.
 */
export function checkRequest(models: ModelTable, model: string, params: Record<string, unknown>, action: string): void {
  checkObject(models, model, params, '', action);
}

function checkObject(models: ModelTable, model: string, value: Record<string, unknown>, path: string, action: string): void {
  const fields = modelFields(models, model);
  const unknown = Object.keys(value).filter((name) => !Object.hasOwn(fields, name));
  if (unknown.length) {
    const names = unknown.map((name) => `\`${path}${name}\``).join(', ');
    throw new CloudApiError(CloudApiErrorCode.UNKNOWN_PARAMETER, `${action} does not take the parameter${unknown.length > 1 ? 's' : ''} ${names}`);
  }
  for (const [name, spec] of Object.entries(fields)) {
    const field = value[name];
    const type = parseType(spec);
    if (field === undefined || field === null) {
      if (!type.optional) throw missing(`${path}${name}`);
      continue;
    }
    checkValue(models, type, field, `${path}${name}`, action);
  }
}

function checkValue(models: ModelTable, type: FieldType, value: unknown, path: string, action: string): void {
  if (type.depth > 0) {
    if (!Array.isArray(value)) throw wrongType(path, type, value);
    const element: FieldType = { ...type, depth: type.depth - 1, optional: false };
    value.forEach((item, i) => {
      if (item === null || item === undefined) throw wrongType(`${path}[${i}]`, element, item);
      checkValue(models, element, item, `${path}[${i}]`, action);
    });
    return;
  }
  switch (type.base) {
    case 'string':
      if (typeof value !== 'string') throw wrongType(path, type, value);
      return;
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) throw wrongType(path, type, value);
      return;
    case 'boolean':
      if (typeof value !== 'boolean') throw wrongType(path, type, value);
      return;
    case 'null':
      throw wrongType(path, type, value);
    default:
      if (typeof value !== 'object' || Array.isArray(value)) throw wrongType(path, type, value);
      checkObject(models, type.base, value as Record<string, unknown>, `${path}.`, action);
  }
}

/** "a string", "an object (RequestConfig)", "an array of objects (Variable)", … */
export function describeType(type: Pick<FieldType, 'base' | 'depth'>): string {
  if (type.base === 'null') return type.depth === 0 ? 'null' : `${'an array of '.repeat(type.depth)}nulls`;
  const model = isModel(type.base);
  if (type.depth === 0) return model ? `an object (${type.base})` : `a ${type.base}`;
  return `${'an array of '.repeat(type.depth)}${model ? `objects (${type.base})` : `${type.base}s`}`;
}

function wrongType(path: string, type: FieldType, value: unknown): CloudApiError {
  return new CloudApiError(CloudApiErrorCode.INVALID_PARAMETER, `\`${path}\` must be ${describeType(type)}, got ${preview(value)}`);
}

function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}

/**
 * A model with every field present, as the cloud answers: the given values, and null for the
 * rest, except that a field whose type is a model (not an array of them) is that model with
 * every field null, one level deep.
 */
export function fullAnswer(models: ModelTable, model: string, values: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const answer: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(modelFields(models, model))) {
    if (values[name] !== undefined) {
      answer[name] = values[name];
      continue;
    }
    const type = parseType(spec);
    answer[name] = type.depth === 0 && isModel(type.base) ? nullModel(models, type.base) : null;
  }
  return answer;
}

function nullModel(models: ModelTable, model: string): Record<string, null> {
  return Object.fromEntries(Object.keys(modelFields(models, model)).map((name) => [name, null]));
}
