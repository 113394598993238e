/**
 * The SDK model tables the local Cloud API and the post-deploy step are built on are the
 * installed tencentcloud-sdk-nodejs's own: read out of its `.d.ts` files and compared, so that an
 * SDK upgrade cannot leave them behind (`npx tsx local/cloud-api/gen-sdk-models.ts` rewrites them).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EMULATOR_MODELS_FILE, STEP_MODELS_FILE, readStepModels, renderEmulatorModels, renderStepModels } from '../../local/cloud-api/gen-sdk-models';
import { SDK_MODEL_FILES, installedSdkVersion, readInstalledSdkModels, readSdkModels } from '../../local/cloud-api/sdk-dts';
import { APIGATEWAY_MODELS, SCF_MODELS } from '../../local/cloud-api/sdk-models';
import { MODIFY_API_MODELS } from '../../scripts/post-deploy/sdk-models';

const require = createRequire(import.meta.url);
const modelsFile = (product: keyof typeof SDK_MODEL_FILES) => require.resolve(SDK_MODEL_FILES[product]);

/** An interface's field names and `?`, read with a plain pattern: a check on the parser. */
async function fieldsByPattern(file: string, name: string): Promise<string[]> {
  const text = await readFile(file, 'utf8');
  const start = text.indexOf(`export interface ${name} {`);
  expect(start, `${name} in ${file}`).toBeGreaterThanOrEqual(0);
  const body = text.slice(start, text.indexOf('\n}', start));
  return [...body.matchAll(/^ {4}(\w+)(\??):/gm)].map(([, field, optional]) => field + optional);
}

describe('SDK model tables', () => {
  it('equal the installed SDK for every request the local Cloud API serves, and ApiInfo', () => {
    const installed = readInstalledSdkModels();
    expect(APIGATEWAY_MODELS).toEqual(installed.apigateway);
    expect(SCF_MODELS).toEqual(installed.scf);
    for (const model of ['DescribeApiRequest', 'ModifyApiRequest', 'ReleaseServiceRequest', 'ApiInfo', 'RequestConfig', 'ServiceConfig', 'OauthConfig']) {
      expect(APIGATEWAY_MODELS, model).toHaveProperty(model);
    }
    for (const model of ['GetFunctionRequest', 'UpdateFunctionConfigurationRequest', 'Environment', 'Variable'])
      expect(SCF_MODELS, model).toHaveProperty(model);
  });

  it("equal the installed SDK for the post-deploy step's ModifyApiRequest", () => {
    expect(MODIFY_API_MODELS).toEqual(readStepModels());
    expect(MODIFY_API_MODELS.ModifyApiRequest).toEqual(APIGATEWAY_MODELS.ModifyApiRequest);
  });

  it('are the files the generator writes', async () => {
    const version = installedSdkVersion();
    expect(await readFile(EMULATOR_MODELS_FILE, 'utf8')).toBe(renderEmulatorModels(readInstalledSdkModels(), version));
    expect(await readFile(STEP_MODELS_FILE, 'utf8')).toBe(renderStepModels(readStepModels(), version));
  });

  it('read the field names and optional marks a plain pattern finds', async () => {
    const checks = [
      ['apigateway', 'ModifyApiRequest', APIGATEWAY_MODELS],
      ['apigateway', 'ApiInfo', APIGATEWAY_MODELS],
      ['apigateway', 'ServiceConfig', APIGATEWAY_MODELS],
      ['scf', 'UpdateFunctionConfigurationRequest', SCF_MODELS],
    ] as const;
    for (const [product, model, table] of checks) {
      const fields = Object.entries(table[model]).map(([field, spec]) => field + (spec.endsWith('?') ? '?' : ''));
      expect(fields, model).toEqual(await fieldsByPattern(modelsFile(product), model));
    }
    // types as declared
    expect(APIGATEWAY_MODELS.ModifyApiRequest).toMatchObject({
      ServiceId: 'string',
      RequestConfig: 'RequestConfig',
      ServiceTimeout: 'number?',
      EnableCORS: 'boolean?',
      ConstantParameters: 'ConstantParameter[]?',
      TagSpecifications: 'Tag?',
      ServiceScfFunctionType: 'string?',
    });
    expect(APIGATEWAY_MODELS.ApiInfo).toMatchObject({ InternalDomain: 'string?', MicroServicesInfo: 'number[]?', Tags: 'Tag[]?' });
    expect(SCF_MODELS.Environment).toEqual({ Variables: 'Variable[]?' });
  });

  it('refuse a type the table cannot express, naming the field', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sdk-dts-'));
    try {
      const file = join(dir, 'models.d.ts');
      await writeFile(file, 'export interface A {\n    B: string;\n    C?: Array<Array<D>>;\n}\nexport interface D {\n    E: Record<string, string>;\n}\n');
      expect(() => readSdkModels(file, ['A'])).toThrow(/D\.E: a type the table cannot express: Record<string, string>/);
      await writeFile(file, 'export interface A {\n    B: Missing;\n}\n');
      expect(() => readSdkModels(file, ['A'])).toThrow(/A\.B: type Missing is declared nowhere/);
      await writeFile(file, 'export type Empty = null;\nexport interface A {\n    B?: Empty;\n    C: Array<number | bigint>;\n}\n');
      expect(readSdkModels(file, ['A'])).toEqual({ A: { B: 'null?', C: 'number[]' } });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
