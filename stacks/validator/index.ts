/**
 * Checks a synthesized CDK for Terraform document (`cdk.tf.json`, Terraform JSON syntax) against
 * the provider schema printed by `terraform providers schema -json`, so a stack test fails on what
 * `terraform plan` would reject: unknown types and names, missing required values, wrong types,
 * wrong block nesting, dangling references and a wrong provider source.
 *
 * Only what the document states is checked. A string holding a `${...}` template may stand for a
 * value of any type, since Terraform knows its value at apply time only.
 */
import { CodedError } from '../../lib/errors';
import { TOP_LEVEL_KINDS, VARIABLE_BLOCK } from './builtins';
import { checkBody } from './bodies';
import { createContext, report, reportUnknown } from './context';
import { checkLabelled, checkModule, checkOutputs, checkProviderRequirements, checkProviders, checkResources, checkTerraformBlock } from './document';
import { DOCUMENT_PATH, IssueCode, formatIssue, type ValidationIssue } from './issues';
import { COMMENT, bodiesOf, describe, isObject, plural } from './json';
import { checkReferencesIn } from './references';
import { type ProviderSchemaFile, indexSchema } from './schema';

export { DOCUMENT_PATH, IssueCode, formatIssue, type ValidationIssue } from './issues';
export { closestName } from './names';
export {
  type CtyType,
  type ProviderSchema,
  type ProviderSchemaFile,
  type SchemaAttribute,
  type SchemaBlock,
  type SchemaBlockType,
  type SchemaEntry,
  loadProviderSchema,
} from './schema';
export { type Template, type TemplatePart, parseTemplate, templateParts, traversals } from './template';

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
export class InvalidStackError extends CodedError<'ERR_INVALID_STACK'> {
  constructor(
    readonly label: string,
    readonly issues: ValidationIssue[],
  ) {
    super('ERR_INVALID_STACK', `${label} has ${plural(issues.length, 'issue')}:\n${issues.map(formatIssue).join('\n')}`);
  }
}

/** Throws {@link InvalidStackError} (code 'ERR_INVALID_STACK'), whose message lists every issue, one per line. */
export function assertValidTerraformJson(doc: unknown, schema: ProviderSchemaFile, label = 'the document'): void {
  const issues = validateTerraformJson(doc, schema);
  if (issues.length > 0) throw new InvalidStackError(label, issues);
}
