/**
 * References: every `${...}` of every string resolved against what the document declares, and the
 * bare references of `depends_on`.
 */
import { type Context, report } from './context';
import { IssueCode } from './issues';
import { COMMENT, describe, index, isObject, join, labelled } from './json';
import { suggest } from './names';
import { hasName, namesOf } from './schema';
import { forBindings, parseTemplate, traversals, unwrapTemplate } from './template';

/** Roots that are not resources, or are bound by the expression's surroundings. */
export const IGNORED_ROOTS = new Set(['var', 'local', 'path', 'each', 'count', 'terraform']);
export const NO_SCOPE: ReadonlySet<string> = new Set();
/** Inside a provisioner or connection block, `self` is the resource itself. */
export const PROVISIONER_SCOPE: ReadonlySet<string> = new Set(['self']);
/** What a destroy-time provisioner may refer to (Terraform: "only ... self, count.index, or each.key"). */
const DESTROY_TIME_ROOTS = new Set(['self', 'count', 'each']);

/**
 * Checks the references in every `${...}` of every string under `value`; `skip` names keys of
 * `value` itself that are checked apart (bare references such as `depends_on`).
 */
export function checkReferencesIn(value: unknown, p: string, ctx: Context, scope: ReadonlySet<string> = NO_SCOPE, skip?: ReadonlySet<string>): void {
  if (typeof value === 'string') {
    const template = parseTemplate(value);
    if (template.unterminated) report(ctx, p, IssueCode.BAD_TEMPLATE, `unterminated template sequence in ${describe(value)}`);
    if (template.expressions.length === 0) return;
    const bound = new Set(scope);
    for (const expr of template.expressions) for (const name of forBindings(expr)) bound.add(name);
    for (const expr of template.expressions) for (const parts of traversals(expr)) checkTraversal(parts, p, ctx, bound);
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => checkReferencesIn(item, index(p, i), ctx, scope));
  } else if (isObject(value)) {
    for (const [key, item] of Object.entries(value)) {
      if (key !== COMMENT && !skip?.has(key)) checkReferencesIn(item, join(p, key), ctx, key === 'dynamic' ? withIterators(item, scope) : scope);
    }
  }
}

/** A dynamic block binds its iterator, by default named after the block, inside its content. */
function withIterators(value: unknown, scope: ReadonlySet<string>): ReadonlySet<string> {
  const bound = new Set(scope);
  for (const [name, spec] of labelled(value) ?? []) bound.add(isObject(spec) && typeof spec.iterator === 'string' ? spec.iterator : name);
  return bound;
}

/**
 * Resolves one traversal (`root.attr...`, indexes dropped). `wholeObject` is for `depends_on`,
 * which takes resources, data sources and modules but none of their attributes.
 */
export function checkTraversal(parts: string[], p: string, ctx: Context, scope: ReadonlySet<string>, wholeObject = false): void {
  const [root] = parts;
  if (scope.has(root)) return;
  if (root === 'self') {
    report(ctx, p, IssueCode.BAD_REFERENCE, `${parts.join('.')}: self is only available in a resource's provisioner and connection blocks`);
    return;
  }
  if (IGNORED_ROOTS.has(root)) {
    if (wholeObject) report(ctx, p, IssueCode.BAD_REFERENCE, `depends_on takes resources, data sources and modules, not ${parts.join('.')}`);
    return;
  }
  if (root === 'module') {
    const name = parts[1];
    if (name && !ctx.modules.has(name)) report(ctx, p, IssueCode.UNKNOWN_REFERENCE, `module.${name} is not declared`);
    else if (name && wholeObject && parts.length > 2)
      report(ctx, p, IssueCode.BAD_REFERENCE, `depends_on takes whole modules: drop ".${parts.slice(2).join('.')}"`);
    return;
  }
  const isData = root === 'data';
  const [type, name, attribute] = isData ? parts.slice(1) : parts;
  // A lone identifier is an object key or a for-expression symbol, not a reference.
  if (!isData && name === undefined) return;
  if (type === undefined || name === undefined) {
    report(ctx, p, IssueCode.UNKNOWN_REFERENCE, `incomplete reference ${parts.join('.')}: expected data.<type>.<name>`);
    return;
  }
  const address = `${isData ? 'data.' : ''}${type}.${name}`;
  const declared = (isData ? ctx.data : ctx.resources).get(type);
  if (!declared?.has(name)) {
    const what = isData ? 'data source' : 'resource';
    const detail = declared?.size ? `declared ${type}: ${[...declared].join(', ')}${suggest(name, declared) ?? ''}` : `there is no ${what} of type ${type}`;
    report(ctx, p, IssueCode.UNKNOWN_REFERENCE, `${address} is not declared (${detail})`);
    return;
  }
  if (attribute === undefined) return;
  if (wholeObject) {
    report(ctx, p, IssueCode.BAD_REFERENCE, `depends_on takes whole resources: drop ".${parts.slice(isData ? 3 : 2).join('.')}"`);
    return;
  }
  const known = (isData ? ctx.index.data : ctx.index.resources).get(type);
  // An unknown type has been reported where it is declared.
  if (!known || attribute === 'id' || hasName(known.block, attribute)) return;
  report(
    ctx,
    p,
    IssueCode.UNKNOWN_REFERENCE,
    `${type} has no attribute "${attribute}" (in ${address}.${attribute})${suggest(attribute, namesOf(known.block).keys()) ?? ''}`,
  );
}

export function checkDependsOn(value: unknown, p: string, ctx: Context): void {
  if (value === null) return;
  if (!Array.isArray(value)) {
    report(ctx, p, IssueCode.WRONG_TYPE, `depends_on takes a list of references such as "terraform_data.build", got ${describe(value)}`);
    return;
  }
  value.forEach((entry, i) => {
    const ip = index(p, i);
    const refs = typeof entry === 'string' ? traversals(unwrapTemplate(entry)) : [];
    if (refs.length !== 1 || refs[0].length < 2) {
      report(ctx, ip, IssueCode.BAD_REFERENCE, `expected one reference such as "terraform_data.build", got ${describe(entry)}`);
      return;
    }
    checkTraversal(refs[0], ip, ctx, NO_SCOPE, true);
  });
}

/**
 * A destroy-time provisioner runs when only the resource's own state is left: Terraform refuses any
 * reference in it (and its connection) but `self`, `count.index` and `each.key`.
 */
export function checkDestroyTimeReferences(value: unknown, p: string, ctx: Context): void {
  if (typeof value === 'string') {
    const template = parseTemplate(value);
    const bound = new Set<string>();
    for (const expr of template.expressions) for (const name of forBindings(expr)) bound.add(name);
    for (const expr of template.expressions) {
      for (const parts of traversals(expr)) {
        const [root] = parts;
        if (DESTROY_TIME_ROOTS.has(root) || bound.has(root) || (parts.length === 1 && root !== 'var')) continue;
        report(
          ctx,
          p,
          IssueCode.BAD_REFERENCE,
          `a destroy-time provisioner may refer only to self, count.index and each.key, not ${parts.join('.')}: keep what it needs in the resource (e.g. triggers_replace) and read it through self`,
        );
      }
    }
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => checkDestroyTimeReferences(item, index(p, i), ctx));
  } else if (isObject(value)) {
    for (const [key, item] of Object.entries(value)) if (key !== COMMENT) checkDestroyTimeReferences(item, join(p, key), ctx);
  }
}
