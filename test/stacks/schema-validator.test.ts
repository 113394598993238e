import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { assertValidTerraformJson, closestName, loadProviderSchema, traversals, validateTerraformJson, type ValidationIssue } from '../../stacks/validator';
import { formatReport, validateStackFile, validateSynthOutput } from '../../scripts/validate-stacks';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const schema = loadProviderSchema();

type Doc = Record<string, any>;

/** A small stack using the real types, valid against the schema. */
const VALID: Doc = {
  '//': { metadata: { backend: 'local', stackName: 'test', version: '0.21.0' } },
  terraform: {
    backend: { local: { path: 'terraform.test.tfstate' } },
    required_providers: { tencentcloud: { source: 'tencentcloudstack/tencentcloud', version: '~> 1.82' } },
  },
  provider: { tencentcloud: [{ region: 'ap-guangzhou' }] },
  data: {
    tencentcloud_user_info: { account: { '//': { metadata: { path: 'test/account', uniqueId: 'account' } } } },
  },
  resource: {
    tencentcloud_cos_bucket: {
      registry: {
        '//': { metadata: { path: 'test/registry', uniqueId: 'registry' } },
        bucket: 'chat-test-${data.tencentcloud_user_info.account.app_id}',
        acl: 'private',
        force_clean: true,
        lifecycle_rules: [{ filter_prefix: 'connections/', expiration: { days: 1 } }],
        tags: { app: 'chat' },
      },
    },
    tencentcloud_cam_role: {
      role: {
        name: 'chat-test-scf',
        document: JSON.stringify({
          version: '2.0',
          statement: [{ action: 'name/sts:AssumeRole', effect: 'allow', principal: { service: ['scf.qcloud.com'] } }],
        }),
      },
    },
    tencentcloud_scf_function: {
      register: {
        name: 'chat-test-register',
        handler: 'index.main_handler',
        runtime: 'Nodejs18.15',
        mem_size: 128,
        timeout: 10,
        zip_file: 'dist/functions/register-0123456789abcdef.zip',
        role: '${tencentcloud_cam_role.role.name}',
        environment: { bucket: '${tencentcloud_cos_bucket.registry.bucket}', region: 'ap-guangzhou', PUSH_CONCURRENCY: '32' },
        depends_on: ['terraform_data.build'],
      },
    },
    tencentcloud_api_gateway_service: {
      ws: { service_name: 'chat_test', protocol: 'http&https', net_type: ['OUTER'] },
    },
    tencentcloud_api_gateway_api: {
      ws: {
        service_id: '${tencentcloud_api_gateway_service.ws.id}',
        api_name: 'chat_test_ws',
        protocol: 'WEBSOCKET',
        request_config_path: '/',
        request_config_method: 'GET',
        service_config_type: 'WEBSOCKET',
        service_config_timeout: 600,
        service_config_websocket_register_function_name: '${tencentcloud_scf_function.register.name}',
        service_config_websocket_register_function_namespace: 'default',
        service_config_websocket_register_function_qualifier: '$LATEST',
      },
    },
    terraform_data: {
      build: {
        triggers_replace: { register: '0123456789abcdef' },
        provisioner: [{ 'local-exec': { command: 'npm run build:functions', working_dir: '../..', environment: { NODE_ENV: 'production' } } }],
      },
    },
  },
  output: {
    client_url: { value: 'wss://${tencentcloud_api_gateway_service.ws.outer_sub_domain}/release/', description: 'WebSocket URL' },
    uin: { value: '${data.tencentcloud_user_info.account.uin}' },
    function_names: { value: { register: '${tencentcloud_scf_function.register.name}' } },
    build: { value: '${terraform_data.build.output}' },
  },
};

const BUCKET = 'resource.tencentcloud_cos_bucket.registry';
const FUNCTION = 'resource.tencentcloud_scf_function.register';
const BUILD = 'resource.terraform_data.build';
const LOCAL_EXEC = `${BUILD}.provisioner[0].local-exec`;

/** The issues of a deep copy of the valid document after `change`. */
function issuesAfter(change: (doc: Doc) => void): ValidationIssue[] {
  const doc = structuredClone(VALID);
  change(doc);
  return validateTerraformJson(doc, schema);
}

const where = (issues: ValidationIssue[]) => issues.map(({ code, path }) => ({ code, path }));

const bucket = (doc: Doc) => doc.resource.tencentcloud_cos_bucket.registry;
const fn = (doc: Doc) => doc.resource.tencentcloud_scf_function.register;
const localExec = (doc: Doc) => doc.resource.terraform_data.build.provisioner[0]['local-exec'];

describe('validateTerraformJson', () => {
  it('finds nothing wrong in a valid document', () => {
    expect(validateTerraformJson(VALID, schema)).toEqual([]);
  });

  it('finds nothing wrong in a document cdktf synthesized', () => {
    const doc = JSON.parse(readFileSync(path.join(ROOT, 'test/stacks/fixtures/probe.cdk.tf.json'), 'utf8'));
    expect(validateTerraformJson(doc, schema)).toEqual([]);
  });

  it('reports a document that is not an object', () => {
    expect(where(validateTerraformJson([], schema))).toEqual([{ code: 'BAD_NESTING', path: '(document)' }]);
  });

  // Each case breaks one thing in a copy of the valid document and expects exactly these issues.
  const broken: Array<[string, (doc: Doc) => void, Array<{ code: string; path: string }>]> = [
    [
      'an unknown resource type',
      (d) => (d.resource.tencentcloud_scf_functions = { x: { name: 'x' } }),
      [{ code: 'UNKNOWN_RESOURCE_TYPE', path: 'resource.tencentcloud_scf_functions' }],
    ],
    ['an unknown data source', (d) => (d.data.tencentcloud_user_infos = { me: {} }), [{ code: 'UNKNOWN_DATA_SOURCE', path: 'data.tencentcloud_user_infos' }]],
    ['an unknown attribute', (d) => (fn(d).memsize = 256), [{ code: 'UNKNOWN_ATTRIBUTE', path: `${FUNCTION}.memsize` }]],
    [
      'an unknown attribute in a nested block',
      (d) => (bucket(d).lifecycle_rules[0].expiration.dayz = 2),
      [{ code: 'UNKNOWN_ATTRIBUTE', path: `${BUCKET}.lifecycle_rules[0].expiration.dayz` }],
    ],
    ['an unknown block', (d) => (bucket(d).lifecycle_rule = [{ filter_prefix: 'x/' }]), [{ code: 'UNKNOWN_BLOCK', path: `${BUCKET}.lifecycle_rule` }]],
    [
      'an unknown nested block',
      (d) => (bucket(d).lifecycle_rules[0].expirations = { days: 1 }),
      [{ code: 'UNKNOWN_BLOCK', path: `${BUCKET}.lifecycle_rules[0].expirations` }],
    ],
    ['an unknown top-level key', (d) => (d.resources = {}), [{ code: 'UNKNOWN_BLOCK', path: 'resources' }]],
    ['a computed-only attribute', (d) => (bucket(d).cos_bucket_url = 'https://example.com'), [{ code: 'COMPUTED_ONLY', path: `${BUCKET}.cos_bucket_url` }]],
    [
      'a computed-only attribute of terraform_data',
      (d) => (d.resource.terraform_data.build.output = 'x'),
      [{ code: 'COMPUTED_ONLY', path: `${BUILD}.output` }],
    ],
    ['a missing required attribute', (d) => delete bucket(d).bucket, [{ code: 'MISSING_REQUIRED', path: `${BUCKET}.bucket` }]],
    ['a required attribute set to null', (d) => (fn(d).name = null), [{ code: 'MISSING_REQUIRED', path: `${FUNCTION}.name` }]],
    [
      'a missing required attribute in a nested block',
      (d) => (bucket(d).lifecycle_rules[0].transition = [{ days: 30 }]),
      [{ code: 'MISSING_REQUIRED', path: `${BUCKET}.lifecycle_rules[0].transition[0].storage_class` }],
    ],
    [
      'a block missing its min_items',
      (d) => (bucket(d).website = { routing_rules: {} }),
      [{ code: 'TOO_FEW_ITEMS', path: `${BUCKET}.website.routing_rules.rules` }],
    ],
    [
      'an empty list of a block with min_items',
      (d) => (bucket(d).website = { routing_rules: { rules: [] } }),
      [{ code: 'TOO_FEW_ITEMS', path: `${BUCKET}.website.routing_rules.rules` }],
    ],
    ['a word for a number', (d) => (fn(d).mem_size = 'lots'), [{ code: 'WRONG_TYPE', path: `${FUNCTION}.mem_size` }]],
    ['a word for a bool', (d) => (bucket(d).force_clean = 'yes'), [{ code: 'WRONG_TYPE', path: `${BUCKET}.force_clean` }]],
    ['a number for a bool', (d) => (bucket(d).force_clean = 1), [{ code: 'WRONG_TYPE', path: `${BUCKET}.force_clean` }]],
    ['a list inside a map of strings', (d) => (fn(d).environment.region = ['ap-guangzhou']), [{ code: 'WRONG_TYPE', path: `${FUNCTION}.environment.region` }]],
    ['an object inside a map of strings', (d) => (bucket(d).tags.app = { name: 'chat' }), [{ code: 'WRONG_TYPE', path: `${BUCKET}.tags.app` }]],
    [
      'a string for a set',
      (d) => (d.resource.tencentcloud_api_gateway_service.ws.net_type = 'OUTER'),
      [{ code: 'WRONG_TYPE', path: 'resource.tencentcloud_api_gateway_service.ws.net_type' }],
    ],
    ['a list for a map', (d) => (fn(d).environment = ['bucket=x']), [{ code: 'WRONG_TYPE', path: `${FUNCTION}.environment` }]],
    ['a scalar where a block is expected', (d) => (bucket(d).lifecycle_rules = 'connections/'), [{ code: 'BAD_NESTING', path: `${BUCKET}.lifecycle_rules` }]],
    [
      'an expression where a block is expected',
      (d) => (bucket(d).lifecycle_rules = '${var.rules}'),
      [{ code: 'BAD_NESTING', path: `${BUCKET}.lifecycle_rules` }],
    ],
    ['a scalar in a list of blocks', (d) => (bucket(d).lifecycle_rules = ['connections/']), [{ code: 'BAD_NESTING', path: `${BUCKET}.lifecycle_rules[0]` }]],
    [
      'a scalar for a nested block',
      (d) => (bucket(d).lifecycle_rules[0].expiration = 1),
      [{ code: 'BAD_NESTING', path: `${BUCKET}.lifecycle_rules[0].expiration` }],
    ],
    ['a block for a string attribute', (d) => (bucket(d).acl = { value: 'private' }), [{ code: 'BAD_NESTING', path: `${BUCKET}.acl` }]],
    [
      'two website blocks (max_items 1)',
      (d) => (bucket(d).website = [{ index_document: 'index.html' }, { index_document: 'home.html' }]),
      [{ code: 'TOO_MANY_ITEMS', path: `${BUCKET}.website` }],
    ],
    ['a dangling reference', (d) => (fn(d).role = '${tencentcloud_cam_role.missing.name}'), [{ code: 'UNKNOWN_REFERENCE', path: `${FUNCTION}.role` }]],
    [
      'a reference to an attribute that does not exist',
      (d) => (fn(d).role = '${tencentcloud_cam_role.role.nope}'),
      [{ code: 'UNKNOWN_REFERENCE', path: `${FUNCTION}.role` }],
    ],
    [
      'a reference to an undeclared type',
      (d) => (fn(d).role = '${tencentcloud_cam_roles.role.name}'),
      [{ code: 'UNKNOWN_REFERENCE', path: `${FUNCTION}.role` }],
    ],
    [
      'a reference to a missing data source',
      (d) => (d.output.uin.value = '${data.tencentcloud_user_info.nobody.uin}'),
      [{ code: 'UNKNOWN_REFERENCE', path: 'output.uin.value' }],
    ],
    [
      'a reference inside a function call',
      (d) => (fn(d).role = '${lower(tencentcloud_cam_role.missing.name)}'),
      [{ code: 'UNKNOWN_REFERENCE', path: `${FUNCTION}.role` }],
    ],
    [
      'a reference inside a nested template',
      (d) => (fn(d).role = '${"x-${tencentcloud_cam_role.missing.name}"}'),
      [{ code: 'UNKNOWN_REFERENCE', path: `${FUNCTION}.role` }],
    ],
    [
      'a reference inside a map',
      (d) => (localExec(d).environment.BUCKET = '${tencentcloud_cos_bucket.nope.bucket}'),
      [{ code: 'UNKNOWN_REFERENCE', path: `${LOCAL_EXEC}.environment.BUCKET` }],
    ],
    [
      'an unknown attribute of terraform_data',
      (d) => (d.output.build.value = '${terraform_data.build.result}'),
      [{ code: 'UNKNOWN_REFERENCE', path: 'output.build.value' }],
    ],
    [
      'depends_on to a missing resource',
      (d) => (fn(d).depends_on = ['terraform_data.missing']),
      [{ code: 'UNKNOWN_REFERENCE', path: `${FUNCTION}.depends_on[0]` }],
    ],
    [
      'depends_on to an attribute',
      (d) => (fn(d).depends_on = ['tencentcloud_cam_role.role.name']),
      [{ code: 'BAD_REFERENCE', path: `${FUNCTION}.depends_on[0]` }],
    ],
    ['an unterminated template', (d) => (fn(d).role = '${tencentcloud_cam_role.role.name'), [{ code: 'BAD_TEMPLATE', path: `${FUNCTION}.role` }]],
    ['an undeclared provider configuration', (d) => (fn(d).provider = 'tencentcloud.hongkong'), [{ code: 'UNKNOWN_PROVIDER', path: `${FUNCTION}.provider` }]],
    ['no provider block', (d) => delete d.provider, [{ code: 'MISSING_PROVIDER', path: 'provider.tencentcloud' }]],
    [
      'two provider configurations without alias',
      (d) => d.provider.tencentcloud.push({ region: 'ap-shanghai' }),
      [{ code: 'DUPLICATE_DECLARATION', path: 'provider.tencentcloud[1]' }],
    ],
    [
      'an unknown provider attribute',
      (d) => (d.provider.tencentcloud[0].regoin = 'ap-guangzhou'),
      [{ code: 'UNKNOWN_ATTRIBUTE', path: 'provider.tencentcloud[0].regoin' }],
    ],
    [
      'a provider block missing a required attribute',
      (d) => (d.provider.tencentcloud[0].assume_role = [{ role_arn: 'qcs::cam::uin/1:roleName/x' }]),
      [{ code: 'MISSING_REQUIRED', path: 'provider.tencentcloud[0].assume_role[0].session_name' }],
    ],
    [
      'a provider from the hashicorp namespace',
      (d) => (d.terraform.required_providers.tencentcloud.source = 'hashicorp/tencentcloud'),
      [{ code: 'WRONG_PROVIDER_SOURCE', path: 'terraform.required_providers.tencentcloud.source' }],
    ],
    [
      'no required_providers entry',
      (d) => delete d.terraform.required_providers,
      [{ code: 'WRONG_PROVIDER_SOURCE', path: 'terraform.required_providers.tencentcloud' }],
    ],
    [
      'a pin to another provider version',
      (d) => (d.terraform.required_providers.tencentcloud.version = '1.81.0'),
      [{ code: 'PROVIDER_VERSION_MISMATCH', path: 'terraform.required_providers.tencentcloud.version' }],
    ],
    ['an output without value', (d) => delete d.output.uin.value, [{ code: 'MISSING_REQUIRED', path: 'output.uin.value' }]],
    ['an unknown output attribute', (d) => (d.output.uin.sensitiv = true), [{ code: 'UNKNOWN_ATTRIBUTE', path: 'output.uin.sensitiv' }]],
    ['a local-exec without command', (d) => delete localExec(d).command, [{ code: 'MISSING_REQUIRED', path: `${LOCAL_EXEC}.command` }]],
    ['an unknown local-exec field', (d) => (localExec(d).workdir = '.'), [{ code: 'UNKNOWN_ATTRIBUTE', path: `${LOCAL_EXEC}.workdir` }]],
    [
      'an unknown provisioner type',
      (d) => d.resource.terraform_data.build.provisioner.push({ 'remote-exe': { inline: ['true'] } }),
      [{ code: 'UNKNOWN_BLOCK', path: `${BUILD}.provisioner[1].remote-exe` }],
    ],
    ['a bad provisioner when', (d) => (localExec(d).when = 'later'), [{ code: 'INVALID_VALUE', path: `${LOCAL_EXEC}.when` }]],
    ['a list for interpreter entries', (d) => (localExec(d).interpreter = ['bash', ['-c']]), [{ code: 'WRONG_TYPE', path: `${LOCAL_EXEC}.interpreter[1]` }]],
    [
      'both count and for_each',
      (d) => Object.assign(fn(d), { count: 2, for_each: '${var.names}' }),
      [{ code: 'CONFLICTING_META_ARGUMENTS', path: `${FUNCTION}.for_each` }],
    ],
    ['a word for count', (d) => (fn(d).count = 'two'), [{ code: 'WRONG_TYPE', path: `${FUNCTION}.count` }]],
    [
      'ignore_changes naming an unknown attribute',
      (d) => (bucket(d).lifecycle = { ignore_changes: ['tagz'] }),
      [{ code: 'UNKNOWN_ATTRIBUTE', path: `${BUCKET}.lifecycle.ignore_changes[0]` }],
    ],
    [
      'an unknown lifecycle field',
      (d) => (bucket(d).lifecycle = { prevent_destroi: true }),
      [{ code: 'UNKNOWN_ATTRIBUTE', path: `${BUCKET}.lifecycle.prevent_destroi` }],
    ],
    [
      'a template in replace_triggered_by',
      (d) => (bucket(d).lifecycle = { replace_triggered_by: ['${tencentcloud_scf_function.register}'] }),
      [{ code: 'BAD_REFERENCE', path: `${BUCKET}.lifecycle.replace_triggered_by[0]` }],
    ],
    [
      'a dangling replace_triggered_by',
      (d) => (bucket(d).lifecycle = { replace_triggered_by: ['tencentcloud_scf_function.nope'] }),
      [{ code: 'UNKNOWN_REFERENCE', path: `${BUCKET}.lifecycle.replace_triggered_by[0]` }],
    ],
    [
      'an unknown field in a dynamic block',
      (d) => (bucket(d).dynamic = { lifecycle_rules: { for_each: '${var.rules}', content: { prefix: 'x' } } }),
      [{ code: 'UNKNOWN_ATTRIBUTE', path: `${BUCKET}.dynamic.lifecycle_rules.content.prefix` }],
    ],
    ['a backend without a type', (d) => (d.terraform.backend = { path: 'x' }), [{ code: 'BAD_NESTING', path: 'terraform.backend' }]],
  ];

  it.each(broken)('reports %s', (_, change, expected) => {
    expect(where(issuesAfter(change))).toEqual(expected);
  });

  it('accepts what Terraform converts or knows only at apply time', () => {
    const issues = issuesAfter((d) => {
      fn(d).mem_size = '256'; // numeric strings convert to numbers
      fn(d).timeout = '${local.timeout}'; // a template stands for any type
      bucket(d).force_clean = 'true';
      bucket(d).acl = null; // null leaves an optional attribute unset
      fn(d).environment.PUSH_TIMEOUT_MS = 3000; // numbers convert to strings
      d.resource.tencentcloud_api_gateway_service.ws.net_type = '${var.net_types}';
      bucket(d).lifecycle_rules.push({ filter_prefix: 'b/', expiration: [{ days: 2 }] }); // a block as a list of one
      bucket(d).website = [{ index_document: 'index.html' }];
      fn(d).count = '${length(var.regions)}';
      fn(d).lifecycle = { ignore_changes: ['tags', 'environment'], create_before_destroy: true };
      bucket(d).lifecycle = { replace_triggered_by: ['tencentcloud_scf_function.register', 'tencentcloud_scf_function.register.name'] };
      d.resource.terraform_data.build.input = { anything: ['goes', 1, true] };
      d.provider.tencentcloud.push({ alias: 'hongkong', region: 'ap-hongkong' });
      d.resource.tencentcloud_cam_role.role.provider = 'tencentcloud.hongkong';
      d.terraform.required_providers.tencentcloud = { source: 'registry.terraform.io/tencentcloudstack/tencentcloud', version: '1.82.97' };
      bucket(d).dynamic = { lifecycle_rules: { for_each: '${var.rules}', content: { filter_prefix: '${lifecycle_rules.value.prefix}' } } };
    });
    expect(issues).toEqual([]);
  });

  it('ignores variables, locals, functions, literals and bound names in expressions', () => {
    const issues = issuesAfter((d) => {
      bucket(d).tags = {
        a: '${var.x}-${local.y}-${path.module}-${terraform.workspace}',
        b: '${each.key}-${count.index}-${each.value.name}',
        c: '${upper("tencentcloud_cam_role.missing.name")}',
        d: '${[for r in var.rules : r.name if r.enabled]}',
        e: '${{for k, v in var.m : k => v.id}}',
        f: '$${tencentcloud_cam_role.missing.name}',
        g: '${tencentcloud_cam_role.role[0].name}-${tencentcloud_cam_role.role["a"].id}',
        h: '${1.5 + 2 > 3 ? "yes" : "no"}',
        i: '${jsonencode({ name = tencentcloud_cam_role.role.name, arn = tencentcloud_cam_role.role.role_arn })}',
        j: '${provider::terraform::encode_tfvars({ a = 1 })}',
        k: '%{ for s in var.list }${s.name}%{ endfor }',
        l: '${element(var.list, 0).name}',
      };
    });
    expect(issues).toEqual([]);
  });

  it('suggests the name meant', () => {
    const [memsize] = issuesAfter((d) => (fn(d).memsize = 256));
    expect(memsize.message).toContain('did you mean "mem_size"?');
    const [type] = issuesAfter((d) => (d.resource.tencentcloud_scf_functions = { x: { name: 'x' } }));
    expect(type.message).toContain('did you mean "tencentcloud_scf_function"?');
    const [camel] = issuesAfter((d) => (fn(d).memSize = 256));
    expect(camel.message).toContain('did you mean "mem_size"?');
    const [reference] = issuesAfter((d) => (fn(d).role = '${tencentcloud_cam_role.role.nmae}'));
    expect(reference.message).toContain('did you mean "name"?');
  });

  it('names what is declared when a reference dangles', () => {
    const [issue] = issuesAfter((d) => (fn(d).role = '${tencentcloud_cam_role.missing.name}'));
    expect(issue.message).toBe('tencentcloud_cam_role.missing is not declared (declared tencentcloud_cam_role: role)');
  });

  it('reports every issue of a document broken in several places', () => {
    const issues = issuesAfter((d) => {
      delete bucket(d).bucket;
      fn(d).mem_size = 'lots';
      fn(d).role = '${tencentcloud_cam_role.missing.name}';
    });
    expect(where(issues)).toEqual(
      expect.arrayContaining([
        { code: 'MISSING_REQUIRED', path: `${BUCKET}.bucket` },
        { code: 'WRONG_TYPE', path: `${FUNCTION}.mem_size` },
        { code: 'UNKNOWN_REFERENCE', path: `${FUNCTION}.role` },
      ]),
    );
    expect(issues).toHaveLength(3);
  });
});

describe('assertValidTerraformJson', () => {
  it('passes a valid document', () => {
    expect(() => assertValidTerraformJson(VALID, schema, 'test')).not.toThrow();
  });

  it('throws ERR_INVALID_STACK listing every issue, one per line', () => {
    const doc = structuredClone(VALID);
    delete bucket(doc).bucket;
    fn(doc).memsize = 1;
    let error: any;
    try {
      assertValidTerraformJson(doc, schema, 'stack test');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe('ERR_INVALID_STACK');
    const lines = error.message.split('\n');
    expect(lines[0]).toBe('stack test has 2 issues:');
    expect(lines.slice(1)).toEqual([
      expect.stringMatching(/^MISSING_REQUIRED {2}resource\.tencentcloud_cos_bucket\.registry\.bucket {2}/),
      expect.stringMatching(/^UNKNOWN_ATTRIBUTE {2}resource\.tencentcloud_scf_function\.register\.memsize {2}/),
    ]);
  });
});

describe('loadProviderSchema', () => {
  it('loads the vendored schema', () => {
    expect(schema.provider_versions).toEqual({ 'registry.terraform.io/tencentcloudstack/tencentcloud': '1.82.97' });
    const provider = schema.provider_schemas['registry.terraform.io/tencentcloudstack/tencentcloud'];
    expect(provider.resource_schemas?.tencentcloud_scf_function.block.attributes?.mem_size).toEqual({ optional: true, type: 'number' });
  });

  it('refuses a file that is not a provider schema', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'schema-'));
    try {
      writeFileSync(path.join(dir, 'x.json'), '{"format_version": "1.0"}');
      expect(() => loadProviderSchema(path.join(dir, 'x.json'))).toThrow(expect.objectContaining({ code: 'ERR_BAD_SCHEMA' }));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('expression scanning', () => {
  it('finds traversals, dropping indexes, splats, calls, keywords and literals', () => {
    expect(traversals('a.b[0].c')).toEqual([['a', 'b', 'c']]);
    expect(traversals('f(x.y, "p.q", 3.5) ? true : z.w.*.v')).toEqual([
      ['x', 'y'],
      ['z', 'w', 'v'],
    ]);
    expect(traversals('m[k.v].n')).toEqual([
      ['k', 'v'],
      ['m', 'n'],
    ]);
    expect(traversals('"a${b.c}d"')).toEqual([['b', 'c']]);
    expect(traversals('f().g')).toEqual([]);
  });

  it('suggests only obvious misspellings', () => {
    expect(closestName('memsize', ['mem_size', 'timeout'])).toBe('mem_size');
    expect(closestName('lifecycle_rule', ['lifecycle_rules', 'website'])).toBe('lifecycle_rules');
    expect(closestName('foo', ['mem_size', 'timeout'])).toBeUndefined();
    expect(closestName('ab', ['ac', 'ad'])).toBeUndefined();
  });
});

describe('validate-stacks', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'validate-stacks-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function writeStack(outDir: string, stack: string, doc: unknown): string {
    mkdirSync(path.join(outDir, 'stacks', stack), { recursive: true });
    const file = path.join(outDir, 'stacks', stack, 'cdk.tf.json');
    writeFileSync(file, typeof doc === 'string' ? doc : JSON.stringify(doc, null, 2));
    return file;
  }

  const outDir = path.join(dir, 'cdktf.out');
  const broken = structuredClone(VALID);
  fn(broken).mem_size = 'lots';
  const goodFile = writeStack(outDir, 'good', VALID);
  const badFile = writeStack(outDir, 'bad', broken);
  writeStack(outDir, 'garbled', '{"resource": ');

  it('validates every synthesized stack', () => {
    const reports = validateSynthOutput(outDir, undefined, schema);
    expect(reports.map((r) => [r.stack, r.issues.map((i) => i.code), r.resources])).toEqual([
      ['bad', ['WRONG_TYPE'], 6],
      ['garbled', ['INVALID_JSON'], 0],
      ['good', [], 6],
    ]);
    expect(formatReport(reports[2])).toEqual(['ok  good  (6 resources)']);
    expect(formatReport(reports[0])[1]).toMatch(/^ {2}WRONG_TYPE {2}resource\.tencentcloud_scf_function\.register\.mem_size {2}expected number/);
  });

  it('validates the stacks named, reporting one not synthesized', () => {
    const reports = validateSynthOutput(outDir, ['good', 'absent'], schema);
    expect(reports.map((r) => [r.stack, r.issues.map((i) => i.code)])).toEqual([
      ['good', []],
      ['absent', ['MISSING_DOCUMENT']],
    ]);
  });

  it('refuses an output folder without stacks', () => {
    expect(() => validateSynthOutput(path.join(dir, 'nothing'), undefined, schema)).toThrow(expect.objectContaining({ code: 'ERR_NO_SYNTH_OUTPUT' }));
  });

  it('validates one file', () => {
    expect(validateStackFile(goodFile, schema)).toMatchObject({ stack: 'good', issues: [], resources: 6 });
  });

  it('prints one line per stack and exits non-zero on any issue', async () => {
    const run = (files: string[]) =>
      new Promise<{ code: number; stdout: string }>((resolve) => {
        execFile(
          process.execPath,
          ['--import', 'tsx', path.join(ROOT, 'scripts/validate-stacks.ts'), ...files],
          { cwd: ROOT, timeout: 30_000 },
          (err, stdout) => resolve({ code: err ? Number(err.code) : 0, stdout }),
        );
      });
    expect(await run([goodFile])).toEqual({ code: 0, stdout: 'ok  good  (6 resources)\n' });
    const failed = await run([goodFile, badFile]);
    expect(failed.code).toBe(1);
    expect(failed.stdout.split('\n')).toEqual([
      'ok  good  (6 resources)',
      `FAIL  bad  (1 issue in ${badFile})`,
      expect.stringMatching(/^ {2}WRONG_TYPE {2}resource\.tencentcloud_scf_function\.register\.mem_size/),
      '',
    ]);
  });
});
