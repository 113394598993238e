/**
 * The provider schema as `terraform providers schema -json` prints it, the vendored copy's loader,
 * and the index the checks look types and providers up in (Terraform's built-in types included).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CodedError } from '../../lib/errors';
import { BUILTIN_DATA, BUILTIN_RESOURCES, type NameKind } from './builtins';
import { isObject } from './json';

/** A cty type in its JSON form. An object type may list its optional attributes third. */
export type CtyType =
  'string' | 'number' | 'bool' | 'dynamic' | ['list' | 'set' | 'map', CtyType] | ['object', Record<string, CtyType>, string[]?] | ['tuple', CtyType[]];

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

const DEFAULT_SCHEMA_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'provider', 'tencentcloud-1.82.97.schema.json');

/**
 * Loads the vendored schema (default path stacks/provider/tencentcloud-1.82.97.schema.json).
 * @throws CodedError `ERR_BAD_SCHEMA` for a file that is not such a schema.
 */
export function loadProviderSchema(file: string = DEFAULT_SCHEMA_FILE): ProviderSchemaFile {
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (!isObject(parsed) || !isObject(parsed.provider_schemas)) {
    throw new CodedError(
      'ERR_BAD_SCHEMA',
      `${file} is not a provider schema: it has no provider_schemas object (expected the output of terraform providers schema -json)`,
    );
  }
  return parsed as unknown as ProviderSchemaFile;
}

export const REGISTRY_HOST = 'registry.terraform.io/';

export interface TypeSchema {
  block: SchemaBlock;
  /** Local name of the provider that owns the type; none for Terraform's built-ins. */
  provider?: string;
}

export interface ProviderInfo {
  /** `namespace/name`, as `required_providers` spells it. */
  source: string;
  version?: string;
  block: SchemaBlock;
}

export interface SchemaIndex {
  resources: Map<string, TypeSchema>;
  data: Map<string, TypeSchema>;
  /** By local name, the last part of the address. */
  providers: Map<string, ProviderInfo>;
}

const indexCache = new WeakMap<ProviderSchemaFile, SchemaIndex>();

export function indexSchema(schema: ProviderSchemaFile): SchemaIndex {
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

export function namesOf(block: SchemaBlock): Map<string, NameKind> {
  const names = new Map<string, NameKind>();
  for (const name of Object.keys(block.attributes ?? {})) names.set(name, 'attribute');
  for (const name of Object.keys(block.block_types ?? {})) names.set(name, 'block');
  return names;
}

export function hasName(block: SchemaBlock, name: string): boolean {
  return Object.hasOwn(block.attributes ?? {}, name) || Object.hasOwn(block.block_types ?? {}, name);
}
