/**
 * Writes the SDK model tables from the installed tencentcloud-sdk-nodejs's `.d.ts` files:
 * - `local/cloud-api/sdk-models.ts`, what the local Cloud API checks requests against and answers in;
 * - `scripts/post-deploy/sdk-models.ts`, `ModifyApiRequest` and the models it uses, which the
 *   post-deploy step builds its request to.
 *
 *   npx tsx local/cloud-api/gen-sdk-models.ts
 *
 * Run it after upgrading the SDK; test/local/sdk-models.test.ts fails until then.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { SDK_MODEL_FILES, SDK_MODEL_ROOTS, installedSdkVersion, readInstalledSdkModels, readSdkModels } from './sdk-dts';
import type { ModelTable } from './shapes';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const EMULATOR_MODELS_FILE = path.join(ROOT, 'local/cloud-api/sdk-models.ts');
export const STEP_MODELS_FILE = path.join(ROOT, 'scripts/post-deploy/sdk-models.ts');

/** The roots of the post-deploy step's table. */
export const STEP_MODEL_ROOTS = ['ModifyApiRequest'] as const;

/** `ModifyApiRequest` and what it reaches, from the installed SDK. */
export function readStepModels(): ModelTable {
  return readSdkModels(createRequire(import.meta.url).resolve(SDK_MODEL_FILES.apigateway), STEP_MODEL_ROOTS);
}

function renderTable(name: string, table: ModelTable, doc: string, type: string): string {
  const models = Object.entries(table).map(([model, fields]) => {
    const lines: string[] = [];
    let line = '   ';
    for (const [field, spec] of Object.entries(fields)) {
      const item = ` ${field}: '${spec}',`;
      if (line.length + item.length > 130) {
        lines.push(line);
        line = '   ';
      }
      line += item;
    }
    lines.push(line);
    return `  ${model}: {\n${lines.join('\n')}\n  },`;
  });
  return `/** ${doc} */\nexport const ${name}: ${type} = {\n${models.join('\n')}\n};\n`;
}

function header(what: string, version: string): string {
  return `/**
 * ${what}
 * Each field's type: \`string\`, \`number\`, \`boolean\` or a model of this table, \`[]\` per
 * array level, \`?\` when optional.
 *
 * Generated from tencentcloud-sdk-nodejs ${version} by \`npx tsx local/cloud-api/gen-sdk-models.ts\`;
 * do not edit. test/local/sdk-models.test.ts compares it with the installed SDK.
 */
`;
}

/** The text of `local/cloud-api/sdk-models.ts`. */
export function renderEmulatorModels(tables: Record<keyof typeof SDK_MODEL_FILES, ModelTable>, version: string): string {
  return [
    header("The SDK's models that the local Cloud API checks requests against and answers in.", version),
    `import type { ModelTable } from './shapes';\n`,
    renderTable(
      'APIGATEWAY_MODELS',
      tables.apigateway,
      `apigateway v20180808 (apigateway_models.d.ts): ${SDK_MODEL_ROOTS.apigateway.join(', ')} and what they use.`,
      'ModelTable',
    ),
    renderTable('SCF_MODELS', tables.scf, `scf v20180416 (scf_models.d.ts): ${SDK_MODEL_ROOTS.scf.join(', ')} and what they use.`, 'ModelTable'),
  ].join('\n');
}

/** The text of `scripts/post-deploy/sdk-models.ts`. */
export function renderStepModels(table: ModelTable, version: string): string {
  return [
    header("apigateway v20180808's `ModifyApiRequest` and the models it uses: what the post-deploy step's ModifyApi may carry.", version),
    renderTable('MODIFY_API_MODELS', table, 'Models by name, each its fields by name.', 'Readonly<Record<string, Readonly<Record<string, string>>>>'),
  ].join('\n');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const version = installedSdkVersion();
  writeFileSync(EMULATOR_MODELS_FILE, renderEmulatorModels(readInstalledSdkModels(), version));
  writeFileSync(STEP_MODELS_FILE, renderStepModels(readStepModels(), version));
  console.log(`wrote ${path.relative(ROOT, EMULATOR_MODELS_FILE)} and ${path.relative(ROOT, STEP_MODELS_FILE)} from tencentcloud-sdk-nodejs ${version}`);
}
