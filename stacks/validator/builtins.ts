/**
 * What Terraform itself defines, beside the provider schema: its own resource and data source,
 * provisioners and connection blocks, lifecycle, output and variable blocks, the meta-arguments
 * of each kind of block, and the names allowed at the top level and in the `terraform` block.
 */
import type { CtyType, SchemaAttribute, SchemaBlock, SchemaBlockType } from './schema';

/** What a known name stands for, to word an "unknown name" issue. */
export type NameKind = 'attribute' | 'block';

const opt = (type: CtyType): SchemaAttribute => ({ type, optional: true });
const req = (type: CtyType): SchemaAttribute => ({ type, required: true });
const computed = (type: CtyType): SchemaAttribute => ({ type, computed: true });

// Terraform's own resource and data source: they come with Terraform, not with a provider schema.
export const BUILTIN_RESOURCES: Record<string, SchemaBlock> = {
  terraform_data: {
    attributes: { id: computed('string'), input: opt('dynamic'), output: computed('dynamic'), triggers_replace: opt('dynamic') },
  },
};
export const BUILTIN_DATA: Record<string, SchemaBlock> = {
  terraform_remote_state: {
    attributes: { backend: req('string'), config: opt('dynamic'), defaults: opt('dynamic'), workspace: opt('string'), outputs: computed('dynamic') },
  },
};

export const CONNECTION: SchemaBlockType = {
  nesting_mode: 'single',
  block: {
    attributes: {
      type: opt('string'),
      host: req('string'),
      port: opt('number'),
      user: opt('string'),
      password: opt('string'),
      timeout: opt('string'),
      script_path: opt('string'),
      private_key: opt('string'),
      certificate: opt('string'),
      agent: opt('bool'),
      agent_identity: opt('string'),
      host_key: opt('string'),
      target_platform: opt('string'),
      https: opt('bool'),
      insecure: opt('bool'),
      use_ntlm: opt('bool'),
      cacert: opt('string'),
      bastion_host: opt('string'),
      bastion_host_key: opt('string'),
      bastion_port: opt('number'),
      bastion_user: opt('string'),
      bastion_password: opt('string'),
      bastion_private_key: opt('string'),
      bastion_certificate: opt('string'),
      proxy_scheme: opt('string'),
      proxy_host: opt('string'),
      proxy_port: opt('number'),
      proxy_user_name: opt('string'),
      proxy_user_password: opt('string'),
    },
  },
};

const PROVISIONER_COMMON: Record<string, SchemaAttribute> = { when: opt('string'), on_failure: opt('string') };
export const PROVISIONERS: Record<string, SchemaBlock> = {
  'local-exec': {
    attributes: {
      command: req('string'),
      working_dir: opt('string'),
      interpreter: opt(['list', 'string']),
      environment: opt(['map', 'string']),
      quiet: opt('bool'),
      ...PROVISIONER_COMMON,
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
export const PROVISIONER_ENUMS: Record<string, readonly string[]> = { when: ['create', 'destroy'], on_failure: ['continue', 'fail'] };

const CONDITION: SchemaBlockType = { nesting_mode: 'list', block: { attributes: { condition: req('dynamic'), error_message: req('string') } } };
export const RESOURCE_LIFECYCLE: SchemaBlockType = {
  nesting_mode: 'single',
  block: {
    attributes: {
      create_before_destroy: opt('bool'),
      prevent_destroy: opt('bool'),
      ignore_changes: opt('dynamic'),
      replace_triggered_by: opt(['list', 'string']),
    },
    block_types: { precondition: CONDITION, postcondition: CONDITION },
  },
};
export const DATA_LIFECYCLE: SchemaBlockType = { nesting_mode: 'single', block: { block_types: { precondition: CONDITION, postcondition: CONDITION } } };

export const OUTPUT_BLOCK: SchemaBlock = {
  attributes: { value: req('dynamic'), description: opt('string'), sensitive: opt('bool'), ephemeral: opt('bool') },
  block_types: { precondition: CONDITION },
};
export const VARIABLE_BLOCK: SchemaBlock = {
  attributes: {
    type: opt('string'),
    default: opt('dynamic'),
    description: opt('string'),
    sensitive: opt('bool'),
    nullable: opt('bool'),
    ephemeral: opt('bool'),
  },
  block_types: { validation: CONDITION },
};

export const RESOURCE_META = new Set(['depends_on', 'count', 'for_each', 'provider', 'lifecycle', 'provisioner', 'connection']);
export const DATA_META = new Set(['depends_on', 'count', 'for_each', 'provider', 'lifecycle']);
export const PROVIDER_META = new Set(['alias', 'version']);
export const OUTPUT_META = new Set(['depends_on']);
/** Meta-arguments whose bare strings are references, checked apart from `${...}` templates. */
export const BARE_REFERENCE_KEYS = new Set(['depends_on', 'provider', 'providers']);

export const TOP_LEVEL_KINDS = new Map<string, NameKind>(
  ['terraform', 'provider', 'resource', 'data', 'output', 'locals', 'variable', 'module', 'moved', 'import', 'removed', 'check'].map((k) => [k, 'block']),
);
export const TERRAFORM_KINDS = new Map<string, NameKind>([
  ['required_version', 'attribute'],
  ['experiments', 'attribute'],
  ['required_providers', 'block'],
  ['backend', 'block'],
  ['cloud', 'block'],
  ['provider_meta', 'block'],
]);
