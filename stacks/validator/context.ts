/** One validation run: what the document declares, the schema index, and the issues found so far. */
import type { NameKind } from './builtins';
import { COMMENT, bodiesOf, isBlockShaped, isObject, join, labelled, providerConfigs } from './json';
import { closestName } from './names';
import { IssueCode, type ValidationIssue } from './issues';
import type { SchemaIndex } from './schema';

export interface Context {
  readonly issues: ValidationIssue[];
  readonly index: SchemaIndex;
  /** Declared names by type. */
  readonly resources: Map<string, Set<string>>;
  readonly data: Map<string, Set<string>>;
  readonly modules: Set<string>;
  /** Provider configurations by address: `tencentcloud`, `tencentcloud.hk`. */
  readonly providers: Set<string>;
  /** `terraform.required_providers` entries by local name. */
  readonly requiredProviders: Map<string, { entry: unknown; path: string }>;
  /** Local names of the schema providers the document uses. */
  readonly usedProviders: Set<string>;
  /** Resources relying on a provider's default (alias-less) configuration, by provider local name. */
  readonly defaultUsers: Map<string, string[]>;
}

/** Collects what the document declares, so references can be resolved in any order. */
export function createContext(doc: Record<string, unknown>, index: SchemaIndex): Context {
  const ctx: Context = {
    issues: [],
    index,
    resources: new Map(),
    data: new Map(),
    modules: new Set(),
    providers: new Set(),
    requiredProviders: new Map(),
    usedProviders: new Set(),
    defaultUsers: new Map(),
  };
  for (const kind of ['resource', 'data'] as const) {
    const declared = kind === 'resource' ? ctx.resources : ctx.data;
    for (const [type, byName] of labelled(doc[kind]) ?? []) {
      const names = declared.get(type) ?? new Set<string>();
      declared.set(type, names);
      for (const [name] of labelled(byName) ?? []) names.add(name);
    }
  }
  for (const [name] of labelled(doc.module) ?? []) ctx.modules.add(name);
  for (const { config } of providerConfigs(doc.provider)) {
    if (config.address) ctx.providers.add(config.address);
  }
  for (const [body, p] of bodiesOf(doc.terraform, 'terraform')) {
    if (!isObject(body) || !isObject(body.required_providers)) continue;
    for (const [name, entry] of Object.entries(body.required_providers)) {
      if (name !== COMMENT) ctx.requiredProviders.set(name, { entry, path: join(join(p, 'required_providers'), name) });
    }
  }
  return ctx;
}

export function report(ctx: Context, p: string, code: string, message: string): void {
  ctx.issues.push({ path: p, code, message });
}

/** UNKNOWN_BLOCK or UNKNOWN_ATTRIBUTE: by what the closest known name is, else by the value's shape. */
export function reportUnknown(ctx: Context, key: string, value: unknown, known: Map<string, NameKind>, p: string): void {
  const closest = closestName(key, known.keys());
  const kind = closest ? known.get(closest)! : isBlockShaped(value) ? 'block' : 'attribute';
  const code = kind === 'block' ? IssueCode.UNKNOWN_BLOCK : IssueCode.UNKNOWN_ATTRIBUTE;
  report(ctx, p, code, `unknown ${kind} "${key}"${closest ? `; did you mean "${closest}"?` : ''}`);
}
