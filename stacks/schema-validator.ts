/**
 * Checks a synthesized CDK for Terraform document (`cdk.tf.json`, Terraform JSON syntax) against
 * the provider schema printed by `terraform providers schema -json`, so a stack test fails on what
 * `terraform plan` would reject: unknown types and names, missing required values, wrong types,
 * wrong block nesting, dangling references and a wrong provider source.
 *
 * Only what the document states is checked. A string holding a `${...}` template may stand for a
 * value of any type, since Terraform knows its value at apply time only.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** One problem: where it is (a path into the document), a stable code, and what is wrong. */
export interface ValidationIssue {
  /** E.g. `resource.tencentcloud_scf_function.register.mem_size`; `[i]` where the JSON has an array. */
  path: string;
  /** One of {@link IssueCode}. */
  code: string;
  message: string;
}

/** A cty type in its JSON form. An object type may list its optional attributes third. */
export type CtyType =
  | 'string'
  | 'number'
  | 'bool'
  | 'dynamic'
  | ['list' | 'set' | 'map', CtyType]
  | ['object', Record<string, CtyType>, string[]?]
  | ['tuple', CtyType[]];

export interface SchemaAttribute {
  type?: CtyType;
  required?: boolean;
  optional?: boolean;
  computed?: boolean;
  sensitive?: boolean;
  deprecated?: boolean;
}

export interface SchemaBlockType {
  nesting_mode: 'single' | 'group' | 'list' | 'set' | 'map';
  min_items?: number;
  max_items?: number;
  block: SchemaBlock;
}

export interface SchemaBlock {
  attributes?: Record<string, SchemaAttribute>;
  block_types?: Record<string, SchemaBlockType>;
  deprecated?: boolean;
}

export interface SchemaEntry {
  version?: number;
  block: SchemaBlock;
}

export interface ProviderSchema {
  provider: SchemaEntry;
  resource_schemas?: Record<string, SchemaEntry>;
  data_source_schemas?: Record<string, SchemaEntry>;
}

/** The output of `terraform providers schema -json`. */
export interface ProviderSchemaFile {
  format_version: string;
  /** By provider address, e.g. `registry.terraform.io/tencentcloudstack/tencentcloud`. */
  provider_schemas: Record<string, ProviderSchema>;
  /** By provider address, e.g. `1.82.97`. */
  provider_versions?: Record<string, string>;
}

/** Every `code` an issue may carry. */
export const IssueCode = {
  UNKNOWN_RESOURCE_TYPE: 'UNKNOWN_RESOURCE_TYPE',
  UNKNOWN_DATA_SOURCE: 'UNKNOWN_DATA_SOURCE',
  UNKNOWN_ATTRIBUTE: 'UNKNOWN_ATTRIBUTE',
  UNKNOWN_BLOCK: 'UNKNOWN_BLOCK',
  COMPUTED_ONLY: 'COMPUTED_ONLY',
  MISSING_REQUIRED: 'MISSING_REQUIRED',
  TOO_FEW_ITEMS: 'TOO_FEW_ITEMS',
  TOO_MANY_ITEMS: 'TOO_MANY_ITEMS',
  WRONG_TYPE: 'WRONG_TYPE',
  BAD_NESTING: 'BAD_NESTING',
  /** A value outside a fixed set, e.g. a provisioner's `when`. */
  INVALID_VALUE: 'INVALID_VALUE',
  /** An unterminated `${` or `%{`. */
  BAD_TEMPLATE: 'BAD_TEMPLATE',
  UNKNOWN_REFERENCE: 'UNKNOWN_REFERENCE',
  /** A reference where Terraform takes none of its kind, e.g. an attribute in `depends_on`. */
  BAD_REFERENCE: 'BAD_REFERENCE',
  /** A provider configuration that is not declared, or a provider the schema does not describe. */
  UNKNOWN_PROVIDER: 'UNKNOWN_PROVIDER',
  /** Resources of a provider that has no provider block. */
  MISSING_PROVIDER: 'MISSING_PROVIDER',
  WRONG_PROVIDER_SOURCE: 'WRONG_PROVIDER_SOURCE',
  /** The document pins a provider version other than the one the schema describes. */
  PROVIDER_VERSION_MISMATCH: 'PROVIDER_VERSION_MISMATCH',
  DUPLICATE_DECLARATION: 'DUPLICATE_DECLARATION',
  CONFLICTING_META_ARGUMENTS: 'CONFLICTING_META_ARGUMENTS',
} as const;

/** The path of issues about the document as a whole. */
export const DOCUMENT_PATH = '(document)';

const DEFAULT_SCHEMA_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'provider', 'tencentcloud-1.82.97.schema.json');

/** Loads the vendored schema (default path stacks/provider/tencentcloud-1.82.97.schema.json). */
export function loadProviderSchema(file: string = DEFAULT_SCHEMA_FILE): ProviderSchemaFile {
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (!isObject(parsed) || !isObject(parsed.provider_schemas)) {
    const err = new Error(`${file} is not a provider schema: it has no provider_schemas object (expected the output of terraform providers schema -json)`);
    throw Object.assign(err, { code: 'ERR_BAD_SCHEMA' });
  }
  return parsed as unknown as ProviderSchemaFile;
}

/** Every problem found, empty when the document is valid. */
export function validateTerraformJson(doc: unknown, schema: ProviderSchemaFile): ValidationIssue[] {
  if (!isObject(doc)) {
    return [{ path: DOCUMENT_PATH, code: IssueCode.BAD_NESTING, message: `a Terraform JSON document is an object, got ${describe(doc)}` }];
  }
  const ctx = createContext(doc, indexSchema(schema));
  for (const [key, value] of Object.entries(doc)) {
    switch (key) {
      case COMMENT:
        break;
      case 'terraform':
        for (const [body, p] of bodiesOf(value, 'terraform')) checkTerraformBlock(body, p, ctx);
        break;
      case 'provider':
        checkProviders(value, ctx);
        break;
      case 'resource':
      case 'data':
        checkResources(value, key, ctx);
        break;
      case 'output':
        checkOutputs(value, ctx);
        break;
      case 'locals':
        for (const [body, p] of bodiesOf(value, 'locals')) {
          if (isObject(body)) checkReferencesIn(body, p, ctx);
          else report(ctx, p, IssueCode.BAD_NESTING, `locals is an object of named values, got ${describe(body)}`);
        }
        break;
      case 'variable':
        checkLabelled(value, 'variable', ctx, (body, p) => checkBody(body, VARIABLE_BLOCK, p, ctx));
        break;
      case 'module':
        checkLabelled(value, 'module', ctx, (body, p) => checkModule(body, p, ctx));
        break;
      case 'moved':
      case 'import':
      case 'removed':
      case 'check':
        // Valid top-level blocks this validator does not model; their references are still checked.
        checkReferencesIn(value, key, ctx);
        break;
      default:
        reportUnknown(ctx, key, value, TOP_LEVEL_KINDS, key);
    }
  }
  checkProviderRequirements(ctx);
  return ctx.issues;
}

/** Thrown by {@link assertValidTerraformJson}; the message lists every issue, one per line. */
export class InvalidStackError extends Error {
  readonly code = 'ERR_INVALID_STACK';
  constructor(
    readonly label: string,
    readonly issues: ValidationIssue[],
  ) {
    super(`${label} has ${plural(issues.length, 'issue')}:\n${issues.map(formatIssue).join('\n')}`);
    this.name = 'InvalidStackError';
  }
}

/** Throws an Error with code 'ERR_INVALID_STACK' whose message lists every issue, one per line. */
export function assertValidTerraformJson(doc: unknown, schema: ProviderSchemaFile, label = 'the document'): void {
  const issues = validateTerraformJson(doc, schema);
  if (issues.length > 0) throw new InvalidStackError(label, issues);
}

/** One issue on one line: `CODE  path  message`. */
export function formatIssue(issue: ValidationIssue): string {
  return `${issue.code}  ${issue.path}  ${issue.message}`;
}

// ---------------------------------------------------------------------------------------------
// Schema index and built-in schemas

const COMMENT = '//';
const REGISTRY_HOST = 'registry.terraform.io/';

interface TypeSchema {
  block: SchemaBlock;
  /** Local name of the provider that owns the type; none for Terraform's built-ins. */
  provider?: string;
}

interface ProviderInfo {
  /** `namespace/name`, as `required_providers` spells it. */
  source: string;
  version?: string;
  block: SchemaBlock;
}

interface SchemaIndex {
  resources: Map<string, TypeSchema>;
  data: Map<string, TypeSchema>;
  /** By local name, the last part of the address. */
  providers: Map<string, ProviderInfo>;
}

const opt = (type: CtyType): SchemaAttribute => ({ type, optional: true });
const req = (type: CtyType): SchemaAttribute => ({ type, required: true });
const computed = (type: CtyType): SchemaAttribute => ({ type, computed: true });

// Terraform's own resource and data source: they come with Terraform, not with a provider schema.
const BUILTIN_RESOURCES: Record<string, SchemaBlock> = {
  terraform_data: {
    attributes: { id: computed('string'), input: opt('dynamic'), output: computed('dynamic'), triggers_replace: opt('dynamic') },
  },
};
const BUILTIN_DATA: Record<string, SchemaBlock> = {
  terraform_remote_state: {
    attributes: { backend: req('string'), config: opt('dynamic'), defaults: opt('dynamic'), workspace: opt('string'), outputs: computed('dynamic') },
  },
};

const CONNECTION: SchemaBlockType = {
  nesting_mode: 'single',
  block: {
    attributes: {
      type: opt('string'), host: req('string'), port: opt('number'), user: opt('string'), password: opt('string'),
      timeout: opt('string'), script_path: opt('string'), private_key: opt('string'), certificate: opt('string'),
      agent: opt('bool'), agent_identity: opt('string'), host_key: opt('string'), target_platform: opt('string'),
      https: opt('bool'), insecure: opt('bool'), use_ntlm: opt('bool'), cacert: opt('string'),
      bastion_host: opt('string'), bastion_host_key: opt('string'), bastion_port: opt('number'), bastion_user: opt('string'),
      bastion_password: opt('string'), bastion_private_key: opt('string'), bastion_certificate: opt('string'),
      proxy_scheme: opt('string'), proxy_host: opt('string'), proxy_port: opt('number'), proxy_user_name: opt('string'),
      proxy_user_password: opt('string'),
    },
  },
};

const PROVISIONER_COMMON: Record<string, SchemaAttribute> = { when: opt('string'), on_failure: opt('string') };
const PROVISIONERS: Record<string, SchemaBlock> = {
  'local-exec': {
    attributes: {
      command: req('string'), working_dir: opt('string'), interpreter: opt(['list', 'string']),
      environment: opt(['map', 'string']), quiet: opt('bool'), ...PROVISIONER_COMMON,
    },
    block_types: { connection: CONNECTION },
  },
  'remote-exec': {
    attributes: { inline: opt(['list', 'string']), script: opt('string'), scripts: opt(['list', 'string']), ...PROVISIONER_COMMON },
    block_types: { connection: CONNECTION },
  },
  file: {
    attributes: { source: opt('string'), content: opt('string'), destination: req('string'), ...PROVISIONER_COMMON },
    block_types: { connection: CONNECTION },
  },
};
// In HCL these are keywords, so no expression can stand in for them.
const PROVISIONER_ENUMS: Record<string, readonly string[]> = { when: ['create', 'destroy'], on_failure: ['continue', 'fail'] };

const CONDITION: SchemaBlockType = { nesting_mode: 'list', block: { attributes: { condition: req('dynamic'), error_message: req('string') } } };
const RESOURCE_LIFECYCLE: SchemaBlockType = {
  nesting_mode: 'single',
  block: {
    attributes: {
      create_before_destroy: opt('bool'), prevent_destroy: opt('bool'),
      ignore_changes: opt('dynamic'), replace_triggered_by: opt(['list', 'string']),
    },
    block_types: { precondition: CONDITION, postcondition: CONDITION },
  },
};
const DATA_LIFECYCLE: SchemaBlockType = { nesting_mode: 'single', block: { block_types: { precondition: CONDITION, postcondition: CONDITION } } };

const OUTPUT_BLOCK: SchemaBlock = {
  attributes: { value: req('dynamic'), description: opt('string'), sensitive: opt('bool'), ephemeral: opt('bool') },
  block_types: { precondition: CONDITION },
};
const VARIABLE_BLOCK: SchemaBlock = {
  attributes: { type: opt('string'), default: opt('dynamic'), description: opt('string'), sensitive: opt('bool'), nullable: opt('bool'), ephemeral: opt('bool') },
  block_types: { validation: CONDITION },
};

const RESOURCE_META = new Set(['depends_on', 'count', 'for_each', 'provider', 'lifecycle', 'provisioner', 'connection']);
const DATA_META = new Set(['depends_on', 'count', 'for_each', 'provider', 'lifecycle']);
const PROVIDER_META = new Set(['alias', 'version']);
const OUTPUT_META = new Set(['depends_on']);
/** Meta-arguments whose bare strings are references, checked apart from `${...}` templates. */
const BARE_REFERENCE_KEYS = new Set(['depends_on', 'provider', 'providers']);

type NameKind = 'attribute' | 'block';
const TOP_LEVEL_KINDS = new Map<string, NameKind>(
  ['terraform', 'provider', 'resource', 'data', 'output', 'locals', 'variable', 'module', 'moved', 'import', 'removed', 'check'].map((k) => [k, 'block']),
);
const TERRAFORM_KINDS = new Map<string, NameKind>([
  ['required_version', 'attribute'], ['experiments', 'attribute'], ['required_providers', 'block'],
  ['backend', 'block'], ['cloud', 'block'], ['provider_meta', 'block'],
]);

const indexCache = new WeakMap<ProviderSchemaFile, SchemaIndex>();

function indexSchema(schema: ProviderSchemaFile): SchemaIndex {
  const cached = indexCache.get(schema);
  if (cached) return cached;
  const index: SchemaIndex = { resources: new Map(), data: new Map(), providers: new Map() };
  for (const [type, block] of Object.entries(BUILTIN_RESOURCES)) index.resources.set(type, { block });
  for (const [type, block] of Object.entries(BUILTIN_DATA)) index.data.set(type, { block });
  for (const [address, provider] of Object.entries(schema.provider_schemas ?? {})) {
    const source = address.toLowerCase().replace(REGISTRY_HOST, '');
    const local = source.slice(source.lastIndexOf('/') + 1);
    index.providers.set(local, { source, version: schema.provider_versions?.[address], block: provider.provider?.block ?? {} });
    for (const [type, entry] of Object.entries(provider.resource_schemas ?? {})) index.resources.set(type, { block: entry.block, provider: local });
    for (const [type, entry] of Object.entries(provider.data_source_schemas ?? {})) index.data.set(type, { block: entry.block, provider: local });
  }
  indexCache.set(schema, index);
  return index;
}

// ---------------------------------------------------------------------------------------------
// Declarations

interface Context {
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
function createContext(doc: Record<string, unknown>, index: SchemaIndex): Context {
  const ctx: Context = {
    issues: [], index, resources: new Map(), data: new Map(), modules: new Set(), providers: new Set(),
    requiredProviders: new Map(), usedProviders: new Set(), defaultUsers: new Map(),
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

// ---------------------------------------------------------------------------------------------
// Top-level sections

function checkResources(value: unknown, kind: 'resource' | 'data', ctx: Context): void {
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
      report(ctx, typePath, IssueCode.BAD_NESTING, `expected an object of named ${kind === 'resource' ? 'resources' : 'data sources'}, got ${describe(byName)}`);
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
      checkReferencesIn(body, p, ctx, NO_SCOPE, BARE_REFERENCE_KEYS);
    }
  });
}

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
        report(ctx, ip, IssueCode.BAD_REFERENCE, `replace_triggered_by takes bare references such as "terraform_data.build", not a template: ${describe(entry)}`);
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
      }
    }
  }
}

function checkProviders(value: unknown, ctx: Context): void {
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
      report(ctx, join('provider', name), IssueCode.UNKNOWN_PROVIDER, `the schema has no provider "${name}" (it has ${known})${suggest(name, ctx.index.providers.keys()) ?? ''}`);
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
function checkProviderRequirements(ctx: Context): void {
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
        report(ctx, join(p, key), IssueCode.UNKNOWN_ATTRIBUTE, `unknown attribute "${key}"${suggest(key, ['source', 'version', 'configuration_aliases']) ?? ''}`);
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
    report(ctx, join('provider', name), IssueCode.MISSING_PROVIDER, `${users[0]}${more} ${users.length > 1 ? 'use' : 'uses'} provider ${name}, which has no provider block`);
  }
}

function checkTerraformBlock(body: unknown, p: string, ctx: Context): void {
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

function checkOutputs(value: unknown, ctx: Context): void {
  checkLabelled(value, 'output', ctx, (body, p) => {
    checkBody(body, OUTPUT_BLOCK, p, ctx, OUTPUT_META);
    if (!isObject(body)) return;
    if (body.depends_on !== undefined) checkDependsOn(body.depends_on, join(p, 'depends_on'), ctx);
    checkReferencesIn(body, p, ctx, NO_SCOPE, OUTPUT_META);
  });
}

function checkModule(body: unknown, p: string, ctx: Context): void {
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
function checkLabelled(value: unknown, p: string, ctx: Context, check: (body: unknown, path: string, name: string) => void): void {
  const entries = labelled(value);
  if (!entries) {
    report(ctx, p, IssueCode.BAD_NESTING, `expected an object of named blocks, got ${describe(value)}`);
    return;
  }
  for (const [name, body] of entries) check(body, join(p, name), name);
}

// ---------------------------------------------------------------------------------------------
// Bodies, attributes, blocks and types

/** Checks the attributes and nested blocks of one block body; `meta` names are checked elsewhere. */
function checkBody(body: unknown, block: SchemaBlock, p: string, ctx: Context, meta?: ReadonlySet<string>): void {
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

function checkBlock(value: unknown, blockType: SchemaBlockType, p: string, ctx: Context): void {
  if (value == null) return;
  if (typeof value !== 'object') {
    const why = isTemplateString(value) ? 'a block cannot be set from an expression (a dynamic block can)' : 'expected a block (a JSON object or a list of them)';
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
        report(ctx, join(np, key), IssueCode.UNKNOWN_ATTRIBUTE, `unknown attribute "${key}" in a dynamic block${suggest(key, ['for_each', 'iterator', 'labels', 'content']) ?? ''}`);
      }
    }
    if (spec.for_each == null) report(ctx, join(np, 'for_each'), IssueCode.MISSING_REQUIRED, 'a dynamic block needs for_each');
    if (spec.content == null) report(ctx, join(np, 'content'), IssueCode.MISSING_REQUIRED, 'a dynamic block needs content');
    else checkBody(spec.content, blockTypes[name].block, join(np, 'content'), ctx);
  }
  return made;
}

/** Checks a value against a cty type the way Terraform converts JSON values. */
function checkType(value: unknown, type: CtyType, p: string, ctx: Context): void {
  // null means "not set"; whether that is allowed is the required check's business.
  if (value === null || value === undefined || type === 'dynamic' || isTemplateString(value)) return;
  const wrong = () => report(ctx, p, IssueCode.WRONG_TYPE, `expected ${typeName(type)}, got ${describe(value)}`);
  if (typeof type === 'string') {
    const ok =
      type === 'string' ? ['string', 'number', 'boolean'].includes(typeof value) // numbers and bools convert to strings
      : type === 'number' ? (typeof value === 'number' && Number.isFinite(value)) || (typeof value === 'string' && NUMERIC.test(value))
      : type === 'bool' ? typeof value === 'boolean' || value === 'true' || value === 'false'
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

// ---------------------------------------------------------------------------------------------
// References

/** Roots that are not resources, or are bound by the expression's surroundings. */
const IGNORED_ROOTS = new Set(['var', 'local', 'path', 'each', 'count', 'self', 'terraform']);
const NO_SCOPE: ReadonlySet<string> = new Set();

/**
 * Checks the references in every `${...}` of every string under `value`; `skip` names keys of
 * `value` itself that are checked apart (bare references such as `depends_on`).
 */
function checkReferencesIn(value: unknown, p: string, ctx: Context, scope: ReadonlySet<string> = NO_SCOPE, skip?: ReadonlySet<string>): void {
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
function checkTraversal(parts: string[], p: string, ctx: Context, scope: ReadonlySet<string>, wholeObject = false): void {
  const [root] = parts;
  if (scope.has(root)) return;
  if (IGNORED_ROOTS.has(root)) {
    if (wholeObject) report(ctx, p, IssueCode.BAD_REFERENCE, `depends_on takes resources, data sources and modules, not ${parts.join('.')}`);
    return;
  }
  if (root === 'module') {
    const name = parts[1];
    if (name && !ctx.modules.has(name)) report(ctx, p, IssueCode.UNKNOWN_REFERENCE, `module.${name} is not declared`);
    else if (name && wholeObject && parts.length > 2) report(ctx, p, IssueCode.BAD_REFERENCE, `depends_on takes whole modules: drop ".${parts.slice(2).join('.')}"`);
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
    const detail = declared?.size
      ? `declared ${type}: ${[...declared].join(', ')}${suggest(name, declared) ?? ''}`
      : `there is no ${what} of type ${type}`;
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
  report(ctx, p, IssueCode.UNKNOWN_REFERENCE, `${type} has no attribute "${attribute}" (in ${address}.${attribute})${suggest(attribute, namesOf(known.block).keys()) ?? ''}`);
}

function checkDependsOn(value: unknown, p: string, ctx: Context): void {
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

export interface Template {
  /** The source of each `${...}` and `%{...}`, without delimiters and strip markers. */
  expressions: string[];
  unterminated: boolean;
}

/** Splits a Terraform template string into its expressions; `$${` and `%%{` are escapes. */
export function parseTemplate(s: string): Template {
  const expressions: string[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c !== '$' && c !== '%') continue;
    if (s[i + 1] === c && s[i + 2] === '{') {
      i += 2;
      continue;
    }
    if (s[i + 1] !== '{') continue;
    const end = braceEnd(s, i + 2);
    if (end < 0) return { expressions, unterminated: true };
    expressions.push(s.slice(i + 2, end).replace(/^~/, '').replace(/~$/, ''));
    i = end;
  }
  return { expressions, unterminated: false };
}

function isTemplateString(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  const template = parseTemplate(value);
  return template.expressions.length > 0 || template.unterminated;
}

/** `"${x.y}"` → `x.y`; anything else unchanged. */
function unwrapTemplate(s: string): string {
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
function stringEnd(s: string, start: number): number {
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
function forBindings(expr: string): string[] {
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

// ---------------------------------------------------------------------------------------------
// Helpers

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** An object, or a non-empty list of objects: the JSON shapes of a block. */
function isBlockShaped(v: unknown): boolean {
  return isObject(v) || (Array.isArray(v) && v.length > 0 && v.every(isObject));
}

/**
 * The `label: value` pairs of a labelled section. JSON syntax also allows an array of such objects
 * (to repeat a label); undefined when the value has neither shape.
 */
function labelled(value: unknown): Array<[string, unknown]> | undefined {
  if (value == null) return [];
  const objects = Array.isArray(value) ? value : [value];
  if (!objects.every(isObject)) return undefined;
  return objects.flatMap((o) => Object.entries(o).filter(([k]) => k !== COMMENT));
}

/** One body or a list of bodies, with their paths (`[i]` only where the JSON has an array). */
function bodiesOf(value: unknown, p: string): Array<[unknown, string]> {
  if (value == null) return [];
  return Array.isArray(value) ? value.map((v, i) => [v, index(p, i)]) : [[value, p]];
}

interface ProviderConfig {
  body: unknown;
  /** `name` or `name.alias`; undefined when the alias is not a plain string. */
  address?: string;
}

function providerConfigs(value: unknown): Array<{ name: string; config: ProviderConfig; path: string }> {
  return (labelled(value) ?? []).flatMap(([name, configs]) =>
    bodiesOf(configs, join('provider', name)).map(([body, p]) => {
      const alias = isObject(body) ? body.alias : undefined;
      const address = alias == null ? name : typeof alias === 'string' ? `${name}.${alias}` : undefined;
      return { name, config: { body, address }, path: p };
    }),
  );
}

function namesOf(block: SchemaBlock): Map<string, NameKind> {
  const names = new Map<string, NameKind>();
  for (const name of Object.keys(block.attributes ?? {})) names.set(name, 'attribute');
  for (const name of Object.keys(block.block_types ?? {})) names.set(name, 'block');
  return names;
}

function hasName(block: SchemaBlock, name: string): boolean {
  return Object.hasOwn(block.attributes ?? {}, name) || Object.hasOwn(block.block_types ?? {}, name);
}

/** UNKNOWN_BLOCK or UNKNOWN_ATTRIBUTE: by what the closest known name is, else by the value's shape. */
function reportUnknown(ctx: Context, key: string, value: unknown, known: Map<string, NameKind>, p: string): void {
  const closest = closestName(key, known.keys());
  const kind = closest ? known.get(closest)! : isBlockShaped(value) ? 'block' : 'attribute';
  const code = kind === 'block' ? IssueCode.UNKNOWN_BLOCK : IssueCode.UNKNOWN_ATTRIBUTE;
  report(ctx, p, code, `unknown ${kind} "${key}"${closest ? `; did you mean "${closest}"?` : ''}`);
}

function suggest(name: string, candidates: Iterable<string>): string | undefined {
  const closest = closestName(name, candidates);
  return closest ? `; did you mean "${closest}"?` : undefined;
}

/** The one candidate close enough to be an obvious misspelling of `name`, if any. */
export function closestName(name: string, candidates: Iterable<string>): string | undefined {
  const normal = (s: string) => s.toLowerCase().replace(/[-_]/g, '');
  const list = [...candidates];
  // Case and separators only (`memSize`, `mem-size` for `mem_size`).
  const same = list.find((c) => normal(c) === normal(name));
  if (same) return same;
  const limit = name.length <= 4 ? 1 : name.length <= 10 ? 2 : 3;
  let best: string | undefined;
  let bestDistance = Infinity;
  let tie = false;
  for (const candidate of list) {
    const d = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance, tie] = [candidate, d, false];
    else if (d === bestDistance) tie = true;
  }
  return best !== undefined && bestDistance <= limit && !tie ? best : undefined;
}

/** Edits from `a` to `b`, a swap of neighbours counting as one (`nmae` → `name`). */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

function report(ctx: Context, p: string, code: string, message: string): void {
  ctx.issues.push({ path: p, code, message });
}

/** `a.b`, or `a["b.c"]` for names a dotted path could not show. */
function join(base: string, key: string): string {
  return /^[A-Za-z_][\w-]*$/.test(key) ? `${base}.${key}` : `${base}[${JSON.stringify(key)}]`;
}

function index(base: string, i: number): string {
  return `${base}[${i}]`;
}

function lastName(p: string): string {
  return /([^.[\]"]+)(\[\d+\])?$/.exec(p)?.[1] ?? p;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return `a list of ${v.length}`;
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v)}`;
  return `${typeof v} ${String(v)}`;
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
