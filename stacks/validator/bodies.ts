/** Block bodies against their schema: attributes, nested and dynamic blocks, and values against cty types. */
import { type Context, report, reportUnknown } from './context';
import { IssueCode } from './issues';
import { bodiesOf, COMMENT, describe, index, isBlockShaped, isObject, join, labelled, lastName, plural } from './json';
import { suggest } from './names';
import { type CtyType, namesOf, type SchemaAttribute, type SchemaBlock, type SchemaBlockType } from './schema';
import { isTemplateString } from './template';

/** Checks the attributes and nested blocks of one block body; `meta` names are checked elsewhere. */
export function checkBody(body: unknown, block: SchemaBlock, p: string, ctx: Context, meta?: ReadonlySet<string>): void {
  if (!isObject(body)) {
    report(ctx, p, IssueCode.BAD_NESTING, `expected a block (a JSON object), got ${describe(body)}`);
    return;
  }
  const attributes = block.attributes ?? {};
  const blockTypes = block.block_types ?? {};
  let dynamicBlocks = new Set<string>();
  for (const [key, value] of Object.entries(body)) {
    if (key === COMMENT || meta?.has(key)) continue;
    const kp = join(p, key);
    if (Object.hasOwn(attributes, key)) checkAttribute(value, attributes[key], kp, ctx);
    else if (Object.hasOwn(blockTypes, key)) checkBlock(value, blockTypes[key], kp, ctx);
    else if (key === 'dynamic') dynamicBlocks = checkDynamic(value, block, kp, ctx);
    else reportUnknown(ctx, key, value, namesOf(block), kp);
  }
  for (const [name, attribute] of Object.entries(attributes)) {
    if (attribute.required && body[name] == null) {
      report(ctx, join(p, name), IssueCode.MISSING_REQUIRED, `required attribute "${name}" is not set`);
    }
  }
  for (const [name, blockType] of Object.entries(blockTypes)) {
    if (blockType.min_items && body[name] == null && !dynamicBlocks.has(name)) {
      report(ctx, join(p, name), IssueCode.TOO_FEW_ITEMS, `at least ${plural(blockType.min_items, `"${name}" block`)} required, got none`);
    }
  }
}

function checkAttribute(value: unknown, attribute: SchemaAttribute, p: string, ctx: Context): void {
  if (attribute.computed && !attribute.optional && !attribute.required) {
    report(ctx, p, IssueCode.COMPUTED_ONLY, `"${lastName(p)}" is computed by the provider and cannot be set`);
    return;
  }
  // Attributes without a type are nested attribute types (protocol 6), which the schema here has none of.
  const type = attribute.type ?? 'dynamic';
  if (typeof type === 'string' && type !== 'dynamic' && isBlockShaped(value)) {
    report(ctx, p, IssueCode.BAD_NESTING, `"${lastName(p)}" is an attribute of type ${type}, not a block; got ${describe(value)}`);
    return;
  }
  checkType(value, type, p, ctx);
}

export function checkBlock(value: unknown, blockType: SchemaBlockType, p: string, ctx: Context): void {
  if (value == null) return;
  if (typeof value !== 'object') {
    const why = isTemplateString(value)
      ? 'a block cannot be set from an expression (a dynamic block can)'
      : 'expected a block (a JSON object or a list of them)';
    report(ctx, p, IssueCode.BAD_NESTING, `${why}, got ${describe(value)}`);
    return;
  }
  if (blockType.nesting_mode === 'map') {
    if (!isObject(value)) {
      report(ctx, p, IssueCode.BAD_NESTING, `"${lastName(p)}" blocks are keyed by label: expected an object of blocks, got ${describe(value)}`);
      return;
    }
    for (const [label, body] of Object.entries(value)) {
      if (label !== COMMENT) checkBody(body, blockType.block, join(p, label), ctx);
    }
    return;
  }
  const items = bodiesOf(value, p);
  for (const [body, ip] of items) checkBody(body, blockType.block, ip, ctx);
  const single = blockType.nesting_mode === 'single' || blockType.nesting_mode === 'group';
  const max = single ? 1 : blockType.max_items;
  if (max !== undefined && max > 0 && items.length > max) {
    report(ctx, p, IssueCode.TOO_MANY_ITEMS, `at most ${plural(max, `"${lastName(p)}" block`)} allowed, got ${items.length}`);
  }
  if (blockType.min_items && items.length < blockType.min_items) {
    report(ctx, p, IssueCode.TOO_FEW_ITEMS, `at least ${plural(blockType.min_items, `"${lastName(p)}" block`)} required, got ${items.length}`);
  }
}

/** `"dynamic": {"name": {"for_each": ..., "content": {...}}}`; returns the names of the blocks it makes. */
function checkDynamic(value: unknown, block: SchemaBlock, p: string, ctx: Context): Set<string> {
  const made = new Set<string>();
  const entries = labelled(value);
  if (!entries) {
    report(ctx, p, IssueCode.BAD_NESTING, `expected an object of dynamic blocks by block name, got ${describe(value)}`);
    return made;
  }
  const blockTypes = block.block_types ?? {};
  for (const [name, spec] of entries) {
    const np = join(p, name);
    if (!Object.hasOwn(blockTypes, name)) {
      report(ctx, np, IssueCode.UNKNOWN_BLOCK, `unknown block "${name}"${suggest(name, Object.keys(blockTypes)) ?? ''}`);
      continue;
    }
    made.add(name);
    if (!isObject(spec)) {
      report(ctx, np, IssueCode.BAD_NESTING, `expected {"for_each": ..., "content": {...}}, got ${describe(spec)}`);
      continue;
    }
    for (const key of Object.keys(spec)) {
      if (![COMMENT, 'for_each', 'iterator', 'labels', 'content'].includes(key)) {
        report(
          ctx,
          join(np, key),
          IssueCode.UNKNOWN_ATTRIBUTE,
          `unknown attribute "${key}" in a dynamic block${suggest(key, ['for_each', 'iterator', 'labels', 'content']) ?? ''}`,
        );
      }
    }
    if (spec.for_each == null) report(ctx, join(np, 'for_each'), IssueCode.MISSING_REQUIRED, 'a dynamic block needs for_each');
    if (spec.content == null) report(ctx, join(np, 'content'), IssueCode.MISSING_REQUIRED, 'a dynamic block needs content');
    else checkBody(spec.content, blockTypes[name].block, join(np, 'content'), ctx);
  }
  return made;
}

/** Checks a value against a cty type the way Terraform converts JSON values. */
export function checkType(value: unknown, type: CtyType, p: string, ctx: Context): void {
  // null means "not set"; whether that is allowed is the required check's business.
  if (value === null || value === undefined || type === 'dynamic' || isTemplateString(value)) return;
  const wrong = () => report(ctx, p, IssueCode.WRONG_TYPE, `expected ${typeName(type)}, got ${describe(value)}`);
  if (typeof type === 'string') {
    const ok =
      type === 'string'
        ? ['string', 'number', 'boolean'].includes(typeof value) // numbers and bools convert to strings
        : type === 'number'
          ? (typeof value === 'number' && Number.isFinite(value)) || (typeof value === 'string' && NUMERIC.test(value))
          : type === 'bool'
            ? typeof value === 'boolean' || value === 'true' || value === 'false'
            : true;
    if (!ok) wrong();
    return;
  }
  switch (type[0]) {
    case 'list':
    case 'set':
      if (!Array.isArray(value)) return wrong();
      value.forEach((item, i) => checkType(item, type[1], index(p, i), ctx));
      return;
    case 'map':
      if (!isObject(value)) return wrong();
      for (const [key, item] of Object.entries(value)) {
        if (key !== COMMENT) checkType(item, type[1], join(p, key), ctx);
      }
      return;
    case 'object': {
      if (!isObject(value)) return wrong();
      const [, attributes, optional = []] = type;
      for (const [key, item] of Object.entries(value)) {
        if (key === COMMENT) continue;
        if (!Object.hasOwn(attributes, key)) {
          report(ctx, join(p, key), IssueCode.UNKNOWN_ATTRIBUTE, `unknown attribute "${key}"${suggest(key, Object.keys(attributes)) ?? ''}`);
        } else checkType(item, attributes[key], join(p, key), ctx);
      }
      for (const key of Object.keys(attributes)) {
        if (value[key] === undefined && !optional.includes(key)) {
          report(ctx, join(p, key), IssueCode.MISSING_REQUIRED, `attribute "${key}" of ${typeName(type)} is not set`);
        }
      }
      return;
    }
    case 'tuple':
      if (!Array.isArray(value) || value.length !== type[1].length) return wrong();
      value.forEach((item, i) => checkType(item, type[1][i], index(p, i), ctx));
      return;
  }
}

// What cty accepts when converting a string to a number.
const NUMERIC = /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/;

function typeName(type: CtyType): string {
  if (typeof type === 'string') return type;
  switch (type[0]) {
    case 'object':
      return `object({${Object.keys(type[1]).join(', ')}})`;
    case 'tuple':
      return `tuple([${type[1].map(typeName).join(', ')}])`;
    default:
      return `${type[0]}(${typeName(type[1])})`;
  }
}
