/**
 * Validates synthesized stacks against the vendored provider schema: every
 * `cdktf.out/stacks/<stack>/cdk.tf.json`, or the files given as arguments.
 *
 *   tsx scripts/validate-stacks.ts [path/to/cdk.tf.json ...]
 *
 * Prints one line per valid stack and every issue of the others. Exits 1 when any stack has an
 * issue, 2 when there is nothing to validate or the schema cannot be read.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CodedError, describeError } from '../lib/errors';
import { DOCUMENT_PATH, formatIssue, loadProviderSchema, validateTerraformJson, type ProviderSchemaFile, type ValidationIssue } from '../stacks/validator';

/** The outcome for one stack. */
export interface StackReport {
  /** The stack's folder name, e.g. `chat`. */
  stack: string;
  file: string;
  issues: ValidationIssue[];
  /** Resources declared, data sources not included. */
  resources: number;
}

/** Validates one `cdk.tf.json`; a file that is not JSON is reported as an `INVALID_JSON` issue. */
export function validateStackFile(file: string, schema: ProviderSchemaFile = loadProviderSchema()): StackReport {
  const stack = path.basename(path.dirname(path.resolve(file)));
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    return { stack, file, issues: [{ path: DOCUMENT_PATH, code: 'INVALID_JSON', message: err.message }], resources: 0 };
  }
  return { stack, file, issues: validateTerraformJson(doc, schema), resources: countResources(doc) };
}

/**
 * Validates the stacks `cdktf synth` wrote under `outDir`: the ones named in `stacks`, a missing one
 * being reported as a `MISSING_DOCUMENT` issue, or else every one found. Throws
 * `ERR_NO_SYNTH_OUTPUT` when there is none, so a forgotten synth cannot pass as "no issues".
 */
export function validateSynthOutput(outDir = 'cdktf.out', stacks?: readonly string[], schema: ProviderSchemaFile = loadProviderSchema()): StackReport[] {
  const stacksDir = path.join(outDir, 'stacks');
  const fileOf = (stack: string) => path.join(stacksDir, stack, 'cdk.tf.json');
  if (stacks) {
    return stacks.map((stack) =>
      existsSync(fileOf(stack))
        ? validateStackFile(fileOf(stack), schema)
        : {
            stack,
            file: fileOf(stack),
            issues: [{ path: DOCUMENT_PATH, code: 'MISSING_DOCUMENT', message: `${fileOf(stack)} was not synthesized` }],
            resources: 0,
          },
    );
  }
  const found = existsSync(stacksDir)
    ? readdirSync(stacksDir, { withFileTypes: true })
        .filter((entry) => entry.isDirectory() && existsSync(fileOf(entry.name)))
        .map((entry) => entry.name)
        .sort()
    : [];
  if (found.length === 0) {
    throw new CodedError('ERR_NO_SYNTH_OUTPUT', `no ${fileOf('*')} found: synthesize the stacks first (cdktf synth)`);
  }
  return found.map((stack) => validateStackFile(fileOf(stack), schema));
}

/** `ok  <stack>  (N resources)`, or a `FAIL` line followed by one line per issue. */
export function formatReport(report: StackReport): string[] {
  if (report.issues.length === 0) return [`ok  ${report.stack}  (${plural(report.resources, 'resource')})`];
  return [`FAIL  ${report.stack}  (${plural(report.issues.length, 'issue')} in ${report.file})`, ...report.issues.map((i) => `  ${formatIssue(i)}`)];
}

function countResources(doc: unknown): number {
  const resource = isObject(doc) ? doc.resource : undefined;
  if (!isObject(resource)) return 0;
  return Object.entries(resource)
    .filter(([type, byName]) => type !== '//' && isObject(byName))
    .reduce((n, [, byName]) => n + Object.keys(byName as object).filter((name) => name !== '//').length, 0);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  try {
    const schema = loadProviderSchema();
    const files = process.argv.slice(2);
    const reports = files.length ? files.map((file) => validateStackFile(file, schema)) : validateSynthOutput('cdktf.out', undefined, schema);
    for (const report of reports) for (const line of formatReport(report)) console.log(line);
    process.exitCode = reports.some((r) => r.issues.length > 0) ? 1 : 0;
  } catch (err) {
    console.error(describeError(err));
    process.exitCode = 2;
  }
}
