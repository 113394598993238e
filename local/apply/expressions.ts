/**
 * Resolves the `${…}` references a synthesized stack uses: `type.name.attr`, `data.type.name.attr`
 * and `var.NAME`, alone or inside a string. Anything else (functions, operators, `%{…}` directives)
 * is refused by name, so a stack that outgrows the local cloud says so instead of running
 * half-resolved. Strings are split by the stack validator's template parser, so a sequence ends
 * where Terraform ends it (nesting and string literals inside it counted) and `$${` / `%%{` stay
 * literal text, as Terraform renders them.
 */
import { type TemplatePart, templateParts } from '../../stacks/validator/template';
import { CodedError } from '../coded-error';

const ONLY_REFERENCES = 'only resource, data source and variable references are supported';

/** Thrown for an expression the local apply cannot evaluate. */
export class UnsupportedExpressionError extends CodedError<'ERR_UNSUPPORTED_EXPRESSION'> {
  /**
   * @param expression the source inside `${…}`
   * @param shown how the message shows it; default `${expression}`
   * @param why what the local apply does support instead
   */
  constructor(
    readonly expression: string,
    where: string,
    shown = `\${${expression}}`,
    why = ONLY_REFERENCES,
  ) {
    super('ERR_UNSUPPORTED_EXPRESSION', `local apply cannot evaluate ${shown} in ${where}: ${why}`);
  }
}

/** A parsed reference: `resource` and `data` point at an attribute, `var` at a variable. */
export type Reference =
  | { kind: 'resource'; type: string; name: string; attribute: string }
  | { kind: 'data'; type: string; name: string; attribute: string }
  | { kind: 'var'; name: string };

/** `self.attr` (or `self.attr.key`), which only a provisioner may use: the resource's own attribute. */
export interface SelfReference {
  kind: 'self';
  path: string[];
}

/** Any reference the local apply evaluates. */
export type AnyReference = Reference | SelfReference;

const REFERENCE = /^(?:(data)\.)?([a-z][a-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_-]*)\.([a-z_][a-z0-9_]*)$/;
const VARIABLE = /^var\.([A-Za-z_][A-Za-z0-9_-]*)$/;
const SELF = /^self((?:\.[A-Za-z_][A-Za-z0-9_-]*)+)$/;

/** Parses the inside of `${…}`; throws {@link UnsupportedExpressionError} for anything but a reference. */
export function parseReference(expression: string, where: string): AnyReference {
  const text = expression.trim();
  const variable = VARIABLE.exec(text);
  if (variable) return { kind: 'var', name: variable[1] };
  const self = SELF.exec(text);
  if (self) return { kind: 'self', path: self[1].slice(1).split('.') };
  const match = REFERENCE.exec(text);
  if (!match) throw new UnsupportedExpressionError(text, where);
  const [, data, type, name, attribute] = match;
  return data ? { kind: 'data', type, name, attribute } : { kind: 'resource', type, name, attribute };
}

/** A string's pieces, its references parsed; throws for a directive or an unclosed sequence. */
function piecesOf(s: string, where: string): Array<{ text: string } | { ref: AnyReference }> {
  const { parts, unterminated } = templateParts(s);
  if (unterminated) {
    throw new UnsupportedExpressionError(s, where, JSON.stringify(s), 'a ${ or %{ in it is never closed (write $${ or %%{ for the characters themselves)');
  }
  return parts.map((part: TemplatePart) => {
    if (part.kind === 'literal') return { text: part.text };
    if (part.kind === 'directive')
      throw new UnsupportedExpressionError(
        part.expression.trim(),
        where,
        `%{${part.expression.trim()}}`,
        `template directives are not supported; ${ONLY_REFERENCES}`,
      );
    return { ref: parseReference(part.expression, where) };
  });
}

/** Every reference inside a value (strings, arrays, objects), for ordering resources. */
export function referencesIn(value: unknown, where: string): AnyReference[] {
  const found: AnyReference[] = [];
  const visit = (v: unknown) => {
    if (typeof v === 'string') {
      for (const piece of piecesOf(v, where)) if ('ref' in piece) found.push(piece.ref);
    } else if (Array.isArray(v)) v.forEach(visit);
    else if (v && typeof v === 'object') for (const [k, inner] of Object.entries(v)) if (k !== '//') visit(inner);
  };
  visit(value);
  return found;
}

/**
 * Replaces every `${…}` in a value; a string that is exactly one reference takes the referenced
 * value's type. `self` references are resolved by `self` (a provisioner's resource); elsewhere
 * they are refused.
 */
export function resolveValue(value: unknown, lookup: (ref: Reference) => unknown, where: string, self?: (path: string[]) => unknown): unknown {
  const get = (ref: AnyReference): unknown => {
    if (ref.kind !== 'self') return lookup(ref);
    if (!self) {
      throw new UnsupportedExpressionError(`self.${ref.path.join('.')}`, where, undefined, "self is only available in a resource's provisioners");
    }
    return self(ref.path);
  };
  if (typeof value === 'string') {
    const pieces = piecesOf(value, where);
    if (pieces.length === 1 && 'ref' in pieces[0]) return get(pieces[0].ref);
    return pieces.map((piece) => ('ref' in piece ? String(get(piece.ref)) : piece.text)).join('');
  }
  if (Array.isArray(value)) return value.map((v) => resolveValue(v, lookup, where, self));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([k]) => k !== '//')
        .map(([k, v]) => [k, resolveValue(v, lookup, where, self)]),
    );
  }
  return value;
}
