/**
 * The document's sections: resources and data sources with their meta-arguments, providers and
 * their requirements, the `terraform` block, outputs and modules.
 */
import { checkBlock, checkBody, checkType } from './bodies';
import {
  BARE_REFERENCE_KEYS,
  CONNECTION,
  DATA_LIFECYCLE,
  DATA_META,
  OUTPUT_BLOCK,
  OUTPUT_META,
  PROVIDER_META,
  PROVISIONER_ENUMS,
  PROVISIONERS,
  RESOURCE_LIFECYCLE,
  RESOURCE_META,
  TERRAFORM_KINDS,
} from './builtins';
import { type Context, report, reportUnknown } from './context';
import { IssueCode } from './issues';
import { bodiesOf, COMMENT, describe, index, isObject, join, labelled, providerConfigs } from './json';
import { suggest } from './names';
import { checkDependsOn, checkDestroyTimeReferences, checkReferencesIn, checkTraversal, NO_SCOPE, PROVISIONER_SCOPE } from './references';
import { hasName, namesOf, REGISTRY_HOST, type TypeSchema } from './schema';
import { isTemplateString, traversals, unwrapTemplate } from './template';

export function checkResources(value: unknown, kind: 'resource' | 'data', ctx: Context): void {
  const types = kind === 'resource' ? ctx.index.resources : ctx.index.data;
  checkLabelled(value, kind, ctx, (byName, typePath, type) => {
    const known = types.get(type);
    if (!known) {
      const code = kind === 'resource' ? IssueCode.UNKNOWN_RESOURCE_TYPE : IssueCode.UNKNOWN_DATA_SOURCE;
      const what = kind === 'resource' ? 'resource type' : 'data source';
      report(ctx, typePath, code, `unknown ${what} "${type}"${suggest(type, types.keys()) ?? ''}`);
    }
    const bodies = labelled(byName);
    if (!bodies) {
      report(
        ctx,
        typePath,
        IssueCode.BAD_NESTING,
        `expected an object of named ${kind === 'resource' ? 'resources' : 'data sources'}, got ${describe(byName)}`,
      );
      return;
    }
    for (const [name, body] of bodies) {
      const p = join(typePath, name);
      if (!isObject(body)) {
        report(ctx, p, IssueCode.BAD_NESTING, `expected an object, got ${describe(body)}`);
        continue;
      }
      if (known) checkBody(body, known.block, p, ctx, kind === 'resource' ? RESOURCE_META : DATA_META);
      checkMetaArguments(body, known, kind, p, ctx);
      if (known?.provider) {
        ctx.usedProviders.add(known.provider);
        if (body.provider === undefined) {
          const users = ctx.defaultUsers.get(known.provider) ?? [];
          users.push(`${kind === 'data' ? 'data.' : ''}${type}.${name}`);
          ctx.defaultUsers.set(known.provider, users);
        }
      }
      checkReferencesIn(body, p, ctx, NO_SCOPE, kind === 'resource' ? RESOURCE_SELF_KEYS : BARE_REFERENCE_KEYS);
      if (kind === 'resource') {
        for (const key of ['provisioner', 'connection'] as const) {
          if (body[key] != null) checkReferencesIn(body[key], join(p, key), ctx, PROVISIONER_SCOPE);
        }
      }
    }
  });
}

/** Keys of a resource checked apart: bare references, and the blocks in which `self` is bound. */
const RESOURCE_SELF_KEYS: ReadonlySet<string> = new Set([...BARE_REFERENCE_KEYS, 'provisioner', 'connection']);

function checkMetaArguments(body: Record<string, unknown>, known: TypeSchema | undefined, kind: 'resource' | 'data', p: string, ctx: Context): void {
  if (body.depends_on !== undefined) checkDependsOn(body.depends_on, join(p, 'depends_on'), ctx);
  if (body.count != null) checkType(body.count, 'number', join(p, 'count'), ctx);
  if (body.for_each != null && !isObject(body.for_each) && !Array.isArray(body.for_each) && !isTemplateString(body.for_each)) {
    report(ctx, join(p, 'for_each'), IssueCode.WRONG_TYPE, `for_each takes a map or a set of strings, got ${describe(body.for_each)}`);
  }
  if (body.count != null && body.for_each != null) {
    report(ctx, join(p, 'for_each'), IssueCode.CONFLICTING_META_ARGUMENTS, 'count and for_each cannot both be set');
  }
  if (body.provider !== undefined) checkProviderReference(body.provider, join(p, 'provider'), ctx);
  if (body.lifecycle != null) checkLifecycle(body.lifecycle, known, kind, join(p, 'lifecycle'), ctx);
  if (kind === 'resource') {
    if (body.provisioner != null) checkProvisioners(body.provisioner, join(p, 'provisioner'), ctx);
    if (body.connection != null) checkBlock(body.connection, CONNECTION, join(p, 'connection'), ctx);
  }
}

function checkLifecycle(value: unknown, known: TypeSchema | undefined, kind: 'resource' | 'data', p: string, ctx: Context): void {
  checkBlock(value, kind === 'resource' ? RESOURCE_LIFECYCLE : DATA_LIFECYCLE, p, ctx);
  const body = Array.isArray(value) ? value[0] : value;
  if (!isObject(body)) return;
  const ignore = body.ignore_changes;
  if (ignore != null && ignore !== 'all') {
    if (!Array.isArray(ignore)) {
      report(ctx, join(p, 'ignore_changes'), IssueCode.WRONG_TYPE, `ignore_changes takes "all" or a list of attribute names, got ${describe(ignore)}`);
    } else {
      ignore.forEach((entry, i) => {
        const ip = index(join(p, 'ignore_changes'), i);
        const name = typeof entry === 'string' ? /^[A-Za-z_][\w-]*/.exec(entry)?.[0] : undefined;
        if (!name) report(ctx, ip, IssueCode.WRONG_TYPE, `expected an attribute name, got ${describe(entry)}`);
        else if (known && !hasName(known.block, name)) {
          report(ctx, ip, IssueCode.UNKNOWN_ATTRIBUTE, `ignore_changes names unknown attribute "${name}"${suggest(name, namesOf(known.block).keys()) ?? ''}`);
        }
      });
    }
  }
  if (Array.isArray(body.replace_triggered_by)) {
    body.replace_triggered_by.forEach((entry, i) => {
      const ip = index(join(p, 'replace_triggered_by'), i);
      // Terraform reads these strings as bare traversals: "${…}" fails with "Invalid character"
      // (cdktf renders a resource given here that way).
      if (typeof entry === 'string' && isTemplateString(entry)) {
        report(
          ctx,
          ip,
          IssueCode.BAD_REFERENCE,
          `replace_triggered_by takes bare references such as "terraform_data.build", not a template: ${describe(entry)}`,
        );
      } else if (typeof entry === 'string') {
        for (const parts of traversals(entry)) checkTraversal(parts, ip, ctx, NO_SCOPE);
      }
    });
  }
}

function checkProvisioners(value: unknown, p: string, ctx: Context): void {
  for (const [item, ip] of bodiesOf(value, p)) {
    if (!isObject(item)) {
      report(ctx, ip, IssueCode.BAD_NESTING, `a provisioner is an object such as {"local-exec": {...}}, got ${describe(item)}`);
      continue;
    }
    for (const [type, body] of Object.entries(item)) {
      if (type === COMMENT) continue;
      const tp = join(ip, type);
      const schema = PROVISIONERS[type];
      if (!schema) {
        const hint = suggest(type, Object.keys(PROVISIONERS)) ?? `; Terraform has ${Object.keys(PROVISIONERS).join(', ')}`;
        report(ctx, tp, IssueCode.UNKNOWN_BLOCK, `unknown provisioner type "${type}"${hint}`);
        continue;
      }
      for (const [b, bp] of bodiesOf(body, tp)) {
        checkBody(b, schema, bp, ctx);
        if (!isObject(b)) continue;
        for (const [key, allowed] of Object.entries(PROVISIONER_ENUMS)) {
          const v = b[key];
          if (v != null && !(typeof v === 'string' && allowed.includes(v))) {
            report(ctx, join(bp, key), IssueCode.INVALID_VALUE, `${key} must be one of ${allowed.join(', ')}, got ${describe(v)}`);
          }
        }
        if (b.when === 'destroy') checkDestroyTimeReferences(b, bp, ctx);
      }
    }
  }
}

export function checkProviders(value: unknown, ctx: Context): void {
  if (labelled(value) === undefined) {
    report(ctx, 'provider', IssueCode.BAD_NESTING, `expected an object of provider configurations by name, got ${describe(value)}`);
    return;
  }
  const seen = new Set<string>();
  const unknown = new Set<string>();
  for (const { name, config, path: p } of providerConfigs(value)) {
    const info = ctx.index.providers.get(name);
    if (!info && !unknown.has(name)) {
      unknown.add(name);
      const known = [...ctx.index.providers.keys()].join(', ');
      report(
        ctx,
        join('provider', name),
        IssueCode.UNKNOWN_PROVIDER,
        `the schema has no provider "${name}" (it has ${known})${suggest(name, ctx.index.providers.keys()) ?? ''}`,
      );
    }
    if (info) ctx.usedProviders.add(name);
    if (!isObject(config.body)) {
      report(ctx, p, IssueCode.BAD_NESTING, `a provider configuration is an object, got ${describe(config.body)}`);
      continue;
    }
    if (info) checkBody(config.body, info.block, p, ctx, PROVIDER_META);
    const alias = config.body.alias;
    if (alias != null && (typeof alias !== 'string' || !/^[A-Za-z][\w-]*$/.test(alias))) {
      report(ctx, join(p, 'alias'), IssueCode.WRONG_TYPE, `alias is a name such as "hongkong", got ${describe(alias)}`);
    } else if (config.address) {
      if (seen.has(config.address)) {
        report(ctx, p, IssueCode.DUPLICATE_DECLARATION, `provider configuration ${config.address} is declared more than once; give each an alias`);
      }
      seen.add(config.address);
    }
    checkReferencesIn(config.body, p, ctx);
  }
}

function checkProviderReference(value: unknown, p: string, ctx: Context): void {
  const address = typeof value === 'string' ? unwrapTemplate(value).trim() : undefined;
  if (!address || !/^[A-Za-z][\w-]*(\.[A-Za-z][\w-]*)?$/.test(address)) {
    report(ctx, p, IssueCode.BAD_REFERENCE, `expected a provider configuration such as "tencentcloud" or "tencentcloud.hk", got ${describe(value)}`);
  } else if (!ctx.providers.has(address)) {
    const declared = ctx.providers.size ? [...ctx.providers].join(', ') : 'none';
    report(ctx, p, IssueCode.UNKNOWN_PROVIDER, `provider configuration ${address} is not declared (declared: ${declared})`);
  }
}

/** Provider blocks for what the document uses, and the source every schema provider comes from. */
export function checkProviderRequirements(ctx: Context): void {
  const names = new Set([...ctx.usedProviders, ...[...ctx.requiredProviders.keys()].filter((n) => ctx.index.providers.has(n))]);
  for (const name of names) {
    const info = ctx.index.providers.get(name)!;
    const required = ctx.requiredProviders.get(name);
    const p = required?.path ?? `terraform.required_providers.${name}`;
    if (!required || typeof required.entry === 'string') {
      // Without a source Terraform assumes the hashicorp namespace, where this provider does not exist.
      const why = required ? 'a bare version constraint implies' : 'no required_providers entry: Terraform would install';
      report(ctx, p, IssueCode.WRONG_PROVIDER_SOURCE, `${why} hashicorp/${name}; set {"source": "${info.source}"}`);
      continue;
    }
    if (!isObject(required.entry)) {
      report(ctx, p, IssueCode.BAD_NESTING, `expected {"source": "${info.source}", "version": "..."}, got ${describe(required.entry)}`);
      continue;
    }
    for (const key of Object.keys(required.entry)) {
      if (key !== COMMENT && key !== 'source' && key !== 'version' && key !== 'configuration_aliases') {
        report(
          ctx,
          join(p, key),
          IssueCode.UNKNOWN_ATTRIBUTE,
          `unknown attribute "${key}"${suggest(key, ['source', 'version', 'configuration_aliases']) ?? ''}`,
        );
      }
    }
    const source = required.entry.source;
    if (typeof source !== 'string' || source.toLowerCase().replace(REGISTRY_HOST, '') !== info.source) {
      report(ctx, join(p, 'source'), IssueCode.WRONG_PROVIDER_SOURCE, `source must be "${info.source}", got ${describe(source)}`);
    }
    // Only an exact pin is compared: a range may well include the schema's version.
    const pinned = typeof required.entry.version === 'string' ? /^\s*=?\s*v?(\d+\.\d+\.\d+)\s*$/.exec(required.entry.version)?.[1] : undefined;
    if (pinned && info.version && pinned !== info.version) {
      report(ctx, join(p, 'version'), IssueCode.PROVIDER_VERSION_MISMATCH, `the stack pins ${name} ${pinned} but the schema describes ${info.version}`);
    }
  }
  for (const [name, users] of ctx.defaultUsers) {
    if (ctx.providers.has(name)) continue;
    const more = users.length > 1 ? ` and ${users.length - 1} more` : '';
    report(
      ctx,
      join('provider', name),
      IssueCode.MISSING_PROVIDER,
      `${users[0]}${more} ${users.length > 1 ? 'use' : 'uses'} provider ${name}, which has no provider block`,
    );
  }
}

export function checkTerraformBlock(body: unknown, p: string, ctx: Context): void {
  if (!isObject(body)) {
    report(ctx, p, IssueCode.BAD_NESTING, `expected an object, got ${describe(body)}`);
    return;
  }
  for (const [key, value] of Object.entries(body)) {
    const kp = join(p, key);
    switch (key) {
      case COMMENT:
        break;
      case 'required_version':
        checkType(value, 'string', kp, ctx);
        break;
      case 'experiments':
        checkType(value, ['list', 'string'], kp, ctx);
        break;
      case 'required_providers':
      case 'cloud':
      case 'provider_meta':
        // required_providers entries are checked with the providers the document uses.
        if (!isObject(value)) report(ctx, kp, IssueCode.BAD_NESTING, `expected an object, got ${describe(value)}`);
        break;
      case 'backend': {
        const entries = isObject(value) ? Object.entries(value).filter(([k]) => k !== COMMENT) : [];
        if (entries.length !== 1 || !isObject(entries[0][1])) {
          report(ctx, kp, IssueCode.BAD_NESTING, `backend is an object with one backend type, such as {"local": {"path": "..."}}, got ${describe(value)}`);
        }
        break;
      }
      default:
        reportUnknown(ctx, key, value, TERRAFORM_KINDS, kp);
    }
  }
}

export function checkOutputs(value: unknown, ctx: Context): void {
  checkLabelled(value, 'output', ctx, (body, p) => {
    checkBody(body, OUTPUT_BLOCK, p, ctx, OUTPUT_META);
    if (!isObject(body)) return;
    if (body.depends_on !== undefined) checkDependsOn(body.depends_on, join(p, 'depends_on'), ctx);
    checkReferencesIn(body, p, ctx, NO_SCOPE, OUTPUT_META);
  });
}

export function checkModule(body: unknown, p: string, ctx: Context): void {
  if (!isObject(body)) {
    report(ctx, p, IssueCode.BAD_NESTING, `expected an object, got ${describe(body)}`);
    return;
  }
  // A module's inputs are its own variables, unknown here: only their references are checked.
  if (body.source == null) report(ctx, join(p, 'source'), IssueCode.MISSING_REQUIRED, 'a module needs a source');
  if (body.depends_on !== undefined) checkDependsOn(body.depends_on, join(p, 'depends_on'), ctx);
  if (isObject(body.providers)) {
    for (const [name, ref] of Object.entries(body.providers)) {
      if (name !== COMMENT) checkProviderReference(ref, join(join(p, 'providers'), name), ctx);
    }
  }
  checkReferencesIn(body, p, ctx, NO_SCOPE, BARE_REFERENCE_KEYS);
}

/** Runs `check` on each `name: body` of a labelled section such as `output` or `resource`. */
export function checkLabelled(value: unknown, p: string, ctx: Context, check: (body: unknown, path: string, name: string) => void): void {
  const entries = labelled(value);
  if (!entries) {
    report(ctx, p, IssueCode.BAD_NESTING, `expected an object of named blocks, got ${describe(value)}`);
    return;
  }
  for (const [name, body] of entries) check(body, join(p, name), name);
}

// ---------------------------------------------------------------------------------------------
