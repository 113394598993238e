/**
 * Terraform's template strings and expressions, as far as the validator and the local apply read
 * them: the `${...}` and `%{...}` sequences of a string (with nesting, string literals inside them,
 * and the `$${` / `%%{` escapes), and the references (traversals) an expression makes.
 */

export interface Template {
  /** The source of each `${...}` and `%{...}`, without delimiters and strip markers. */
  expressions: string[];
  unterminated: boolean;
}

/**
 * One piece of a template string: literal text, with the `$${` and `%%{` escapes undone, or one
 * `${...}` interpolation or `%{...}` directive, its source without delimiters and strip markers.
 */
export type TemplatePart = { kind: 'literal'; text: string } | { kind: 'interpolation' | 'directive'; expression: string };

/**
 * A Terraform template string in pieces, in order. A sequence's end is found with nesting and
 * string literals inside it in mind (`${f("}")}` is one sequence). When a `${` or `%{` is never
 * closed, `unterminated` is set and the pieces stop before it.
 */
export function templateParts(s: string): { parts: TemplatePart[]; unterminated: boolean } {
  const parts: TemplatePart[] = [];
  let text = '';
  const flush = () => {
    if (text) parts.push({ kind: 'literal', text });
    text = '';
  };
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if ((c === '$' || c === '%') && s[i + 1] === c && s[i + 2] === '{') {
      text += `${c}{`;
      i += 2;
    } else if ((c === '$' || c === '%') && s[i + 1] === '{') {
      const end = braceEnd(s, i + 2);
      flush();
      if (end < 0) return { parts, unterminated: true };
      parts.push({
        kind: c === '$' ? 'interpolation' : 'directive',
        expression: s
          .slice(i + 2, end)
          .replace(/^~/, '')
          .replace(/~$/, ''),
      });
      i = end;
    } else {
      text += c;
    }
  }
  flush();
  return { parts, unterminated: false };
}

/** Splits a Terraform template string into its expressions; `$${` and `%%{` are escapes. */
export function parseTemplate(s: string): Template {
  const { parts, unterminated } = templateParts(s);
  return { expressions: parts.flatMap((part) => (part.kind === 'literal' ? [] : [part.expression])), unterminated };
}

export function isTemplateString(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  const template = parseTemplate(value);
  return template.expressions.length > 0 || template.unterminated;
}

/** `"${x.y}"` → `x.y`; anything else unchanged. */
export function unwrapTemplate(s: string): string {
  const template = parseTemplate(s);
  return template.expressions.length === 1 && s.trim().startsWith('${') && s.trim().endsWith('}') ? template.expressions[0] : s;
}

/** Index of the `}` closing a sequence whose body starts at `start`, or -1. */
function braceEnd(s: string, start: number): number {
  let depth = 1;
  for (let j = start; j < s.length; j++) {
    if (s[j] === '"') j = stringEnd(s, j) - 1;
    else if (s[j] === '{') depth++;
    else if (s[j] === '}' && --depth === 0) return j;
  }
  return -1;
}

/** Index just past the string literal opening at `start`, or `s.length` if unterminated. */
export function stringEnd(s: string, start: number): number {
  for (let j = start + 1; j < s.length; j++) {
    const c = s[j];
    if (c === '\\') j++;
    else if (c === '"') return j + 1;
    else if ((c === '$' || c === '%') && s[j + 1] === c && s[j + 2] === '{') j += 2;
    else if ((c === '$' || c === '%') && s[j + 1] === '{') {
      const end = braceEnd(s, j + 2);
      if (end < 0) return s.length;
      j = end;
    }
  }
  return s.length;
}

const IDENT_START = /[A-Za-z_]/;
const IDENT_PART = /[\w-]/;
const KEYWORDS = new Set(['true', 'false', 'null', 'for', 'in', 'if', 'else', 'endif', 'endfor']);

/** Symbols bound by for-expressions and `%{ for }` directives: `for k, v in ...`. */
export function forBindings(expr: string): string[] {
  return [...expr.matchAll(/\bfor\s+([A-Za-z_][\w-]*)(?:\s*,\s*([A-Za-z_][\w-]*))?\s+in\b/g)].flatMap((m) => (m[2] ? [m[1], m[2]] : [m[1]]));
}

/**
 * The traversals of an expression as name lists (`aws_x.y[0].id` → `aws_x, y, id`): not function
 * names, keywords, numbers, literal text, nor attributes of other expressions (`f(x).a`).
 */
export function traversals(expr: string): string[][] {
  const found: string[][] = [];
  let afterDot = false;
  let i = 0;
  while (i < expr.length) {
    const c = expr[i];
    if (c === '"') {
      const end = stringEnd(expr, i);
      for (const inner of parseTemplate(expr.slice(i + 1, end)).expressions) found.push(...traversals(inner));
      i = end;
      afterDot = false;
    } else if (/\d/.test(c)) {
      i = skipNumber(expr, i);
      afterDot = false;
    } else if (IDENT_START.test(c)) {
      let j = readIdent(expr, i);
      const root = expr.slice(i, j);
      let namespaced = false;
      while (expr.startsWith('::', j) && IDENT_START.test(expr[j + 2] ?? '')) {
        j = readIdent(expr, j + 2);
        namespaced = true;
      }
      const isCall = expr[skipSpaces(expr, j)] === '(';
      const parts = [root];
      while (j < expr.length) {
        if (expr[j] === '.' && IDENT_START.test(expr[j + 1] ?? '')) {
          const end = readIdent(expr, j + 1);
          parts.push(expr.slice(j + 1, end));
          j = end;
        } else if (expr[j] === '.' && /[\d*]/.test(expr[j + 1] ?? '')) {
          j += 2; // legacy index `.0` and splat `.*`
          while (/\d/.test(expr[j] ?? '')) j++;
        } else if (expr[j] === '[' && !isCall) {
          const end = bracketEnd(expr, j);
          found.push(...traversals(expr.slice(j + 1, end - 1)));
          j = end;
        } else break;
      }
      if (!isCall && !namespaced && !afterDot && !KEYWORDS.has(root)) found.push(parts);
      i = j;
      afterDot = false;
    } else {
      if (!/\s/.test(c)) afterDot = c === '.';
      i++;
    }
  }
  return found;
}

function readIdent(s: string, start: number): number {
  let j = start + 1;
  while (j < s.length && IDENT_PART.test(s[j])) j++;
  return j;
}

function skipSpaces(s: string, start: number): number {
  let j = start;
  while (j < s.length && /\s/.test(s[j])) j++;
  return j;
}

function skipNumber(s: string, start: number): number {
  const m = /^\d+(\.\d+)?([eE][-+]?\d+)?/.exec(s.slice(start));
  return start + (m ? m[0].length : 1);
}

/** Index just past the `]` matching the `[` at `start`. */
function bracketEnd(s: string, start: number): number {
  let depth = 0;
  for (let j = start; j < s.length; j++) {
    if (s[j] === '"') j = stringEnd(s, j) - 1;
    else if (s[j] === '[') depth++;
    else if (s[j] === ']' && --depth === 0) return j + 1;
  }
  return s.length;
}
