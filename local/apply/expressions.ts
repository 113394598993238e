/**
 * Resolves the `${…}` references a synthesized stack uses: `type.name.attr`, `data.type.name.attr`
 * and `var.NAME`, alone or inside a string. Anything else (functions, operators) is refused by name,
 * so a stack that outgrows the local cloud says so instead of running half-resolved.
 */

/** Thrown for an expression the local apply cannot evaluate. */
export class UnsupportedExpressionError extends Error {
  readonly code = 'ERR_UNSUPPORTED_EXPRESSION';
  constructor(expression: string, where: string) {
    super(`local apply cannot evaluate \${${expression}} in ${where}: only resource, data source and variable references are supported`);
    this.name = 'UnsupportedExpressionError';
  }
}

/** A parsed reference: `resource` and `data` point at an attribute, `var` at a variable. */
export type Reference =
  | { kind: 'resource'; type: string; name: string; attribute: string }
  | { kind: 'data'; type: string; name: string; attribute: string }
  | { kind: 'var'; name: string };

const REFERENCE = /^(?:(data)\.)?([a-z][a-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_-]*)\.([a-z_][a-z0-9_]*)$/;
const VARIABLE = /^var\.([A-Za-z_][A-Za-z0-9_-]*)$/;

/** Parses the inside of `${…}`; throws {@link UnsupportedExpressionError} for anything but a reference. */
export function parseReference(expression: string, where: string): Reference {
  const text = expression.trim();
  const variable = VARIABLE.exec(text);
  if (variable) return { kind: 'var', name: variable[1] };
  const match = REFERENCE.exec(text);
  if (!match) throw new UnsupportedExpressionError(text, where);
  const [, data, type, name, attribute] = match;
  return data ? { kind: 'data', type, name, attribute } : { kind: 'resource', type, name, attribute };
}

/** Every reference inside a value (strings, arrays, objects), for ordering resources. */
export function referencesIn(value: unknown, where: string): Reference[] {
  const found: Reference[] = [];
  const visit = (v: unknown) => {
    if (typeof v === 'string') {
      for (const m of v.matchAll(/\$\{([^}]*)\}/g)) found.push(parseReference(m[1], where));
    } else if (Array.isArray(v)) v.forEach(visit);
    else if (v && typeof v === 'object') for (const [k, inner] of Object.entries(v)) if (k !== '//') visit(inner);
  };
  visit(value);
  return found;
}

/** Replaces every `${…}` in a value; a string that is exactly one reference takes the referenced value's type. */
export function resolveValue(value: unknown, lookup: (ref: Reference) => unknown, where: string): unknown {
  if (typeof value === 'string') {
    const whole = /^\$\{([^}]*)\}$/.exec(value);
    if (whole) return lookup(parseReference(whole[1], where));
    return value.replace(/\$\{([^}]*)\}/g, (_, expr: string) => String(lookup(parseReference(expr, where))));
  }
  if (Array.isArray(value)) return value.map((v) => resolveValue(v, lookup, where));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).filter(([k]) => k !== '//').map(([k, v]) => [k, resolveValue(v, lookup, where)]));
  }
  return value;
}
