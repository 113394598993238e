/** Reading Terraform JSON syntax: its shapes (labelled sections, one-or-many bodies), and paths and values as issues word them. */

/** The key Terraform JSON syntax keeps for comments, at any level. */
export const COMMENT = '//';

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** An object, or a non-empty list of objects: the JSON shapes of a block. */
export function isBlockShaped(v: unknown): boolean {
  return isObject(v) || (Array.isArray(v) && v.length > 0 && v.every(isObject));
}

/**
 * The `label: value` pairs of a labelled section. JSON syntax also allows an array of such objects
 * (to repeat a label); undefined when the value has neither shape.
 */
export function labelled(value: unknown): Array<[string, unknown]> | undefined {
  if (value == null) return [];
  const objects = Array.isArray(value) ? value : [value];
  if (!objects.every(isObject)) return undefined;
  return objects.flatMap((o) => Object.entries(o).filter(([k]) => k !== COMMENT));
}

/** One body or a list of bodies, with their paths (`[i]` only where the JSON has an array). */
export function bodiesOf(value: unknown, p: string): Array<[unknown, string]> {
  if (value == null) return [];
  return Array.isArray(value) ? value.map((v, i) => [v, index(p, i)]) : [[value, p]];
}

export interface ProviderConfig {
  body: unknown;
  /** `name` or `name.alias`; undefined when the alias is not a plain string. */
  address?: string;
}

export function providerConfigs(value: unknown): Array<{ name: string; config: ProviderConfig; path: string }> {
  return (labelled(value) ?? []).flatMap(([name, configs]) =>
    bodiesOf(configs, join('provider', name)).map(([body, p]) => {
      const alias = isObject(body) ? body.alias : undefined;
      const address = alias == null ? name : typeof alias === 'string' ? `${name}.${alias}` : undefined;
      return { name, config: { body, address }, path: p };
    }),
  );
}

/** `a.b`, or `a["b.c"]` for names a dotted path could not show. */
export function join(base: string, key: string): string {
  return /^[A-Za-z_][\w-]*$/.test(key) ? `${base}.${key}` : `${base}[${JSON.stringify(key)}]`;
}

export function index(base: string, i: number): string {
  return `${base}[${i}]`;
}

export function lastName(p: string): string {
  return /([^.[\]"]+)(\[\d+\])?$/.exec(p)?.[1] ?? p;
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return `a list of ${v.length}`;
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v)}`;
  return `${typeof v} ${String(v)}`;
}

export function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
