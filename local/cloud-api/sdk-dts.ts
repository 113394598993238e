/**
 * Reads request and response models out of the installed tencentcloud-sdk-nodejs's `.d.ts` files
 * with the TypeScript compiler's parser: the source of `sdk-models.ts` (see `gen-sdk-models.ts`)
 * and of the test that keeps it equal to the installed SDK. Not used at run time.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import ts from 'typescript';
import type { ModelTable, TypeSpec } from './shapes';

/** The SDK products the local Cloud API serves, and the models file of each. */
export const SDK_MODEL_FILES = {
  apigateway: 'tencentcloud-sdk-nodejs/tencentcloud/services/apigateway/v20180808/apigateway_models.d.ts',
  scf: 'tencentcloud-sdk-nodejs/tencentcloud/services/scf/v20180416/scf_models.d.ts',
} as const;

export type SdkProduct = keyof typeof SDK_MODEL_FILES;

/** The models the local Cloud API checks requests against or answers in, by product. */
export const SDK_MODEL_ROOTS: Readonly<Record<SdkProduct, readonly string[]>> = {
  apigateway: ['DescribeApiRequest', 'ModifyApiRequest', 'ReleaseServiceRequest', 'ApiInfo'],
  scf: ['GetFunctionRequest', 'UpdateFunctionConfigurationRequest', 'CreateFunctionRequest', 'UpdateFunctionCodeRequest', 'DeleteFunctionRequest'],
};

/** The installed SDK's version, as its package.json says. */
export function installedSdkVersion(): string {
  const require = createRequire(import.meta.url);
  return (require('tencentcloud-sdk-nodejs/package.json') as { version: string }).version;
}

/**
 * The models `roots` name and every interface they reach, from one `.d.ts` file, as
 * {@link ModelTable} entries: `number | bigint` is a JSON number, `Array<T>` is `T[]`, a type alias
 * of `null` (the SDK's placeholder for an empty model) is `null`.
 * @throws Error for a type the table cannot express, naming the interface and field.
 */
export function readSdkModels(file: string, roots: readonly string[]): ModelTable {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS);
  const interfaces = new Map<string, ts.InterfaceDeclaration>();
  const nullAliases = new Set<string>();
  for (const statement of source.statements) {
    if (ts.isInterfaceDeclaration(statement)) interfaces.set(statement.name.text, statement);
    else if (ts.isTypeAliasDeclaration(statement) && isNullType(statement.type)) nullAliases.add(statement.name.text);
  }

  const table: Record<string, Record<string, TypeSpec>> = {};
  const pending = [...roots];
  while (pending.length) {
    const name = pending.shift()!;
    if (Object.hasOwn(table, name)) continue;
    const declaration = interfaces.get(name);
    if (!declaration) throw new Error(`${file} declares no interface ${name}`);
    const fields: Record<string, TypeSpec> = {};
    for (const member of declaration.members) {
      if (!ts.isPropertySignature(member) || !member.type || !ts.isIdentifier(member.name)) {
        throw new Error(`${name}: a member the table cannot express: ${member.getText(source)}`);
      }
      const where = `${name}.${member.name.text}`;
      const { base, depth } = baseType(member.type, where, source);
      let spec: string = base;
      if (base !== 'string' && base !== 'number' && base !== 'boolean') {
        if (nullAliases.has(base)) spec = 'null';
        else if (interfaces.has(base)) pending.push(base);
        else throw new Error(`${where}: type ${base} is declared nowhere in ${file}`);
      }
      fields[member.name.text] = `${spec}${'[]'.repeat(depth)}${member.questionToken ? '?' : ''}` as TypeSpec;
    }
    table[name] = fields;
  }
  return table;
}

function isNullType(node: ts.TypeNode): boolean {
  return ts.isLiteralTypeNode(node) && node.literal.kind === ts.SyntaxKind.NullKeyword;
}

/** A field's type as a base name and how many arrays deep it sits. */
function baseType(node: ts.TypeNode, where: string, source: ts.SourceFile): { base: string; depth: number } {
  if (node.kind === ts.SyntaxKind.StringKeyword) return { base: 'string', depth: 0 };
  if (node.kind === ts.SyntaxKind.NumberKeyword || node.kind === ts.SyntaxKind.BigIntKeyword) return { base: 'number', depth: 0 };
  if (node.kind === ts.SyntaxKind.BooleanKeyword) return { base: 'boolean', depth: 0 };
  if (ts.isArrayTypeNode(node)) {
    const inner = baseType(node.elementType, where, source);
    return { base: inner.base, depth: inner.depth + 1 };
  }
  if (ts.isUnionTypeNode(node)) {
    // `number | bigint`: both are JSON numbers
    const members = node.types.map((t) => baseType(t, where, source));
    if (members.every((m) => m.base === members[0].base && m.depth === members[0].depth)) return members[0];
  }
  if (ts.isTypeReferenceNode(node) && ts.isIdentifier(node.typeName)) {
    if (node.typeName.text === 'Array' && node.typeArguments?.length === 1) {
      const inner = baseType(node.typeArguments[0], where, source);
      return { base: inner.base, depth: inner.depth + 1 };
    }
    if (!node.typeArguments) return { base: node.typeName.text, depth: 0 };
  }
  throw new Error(`${where}: a type the table cannot express: ${node.getText(source)}`);
}

/** {@link readSdkModels} for every product's roots, from the installed SDK. */
export function readInstalledSdkModels(): Record<SdkProduct, ModelTable> {
  const require = createRequire(import.meta.url);
  const read = (product: SdkProduct) => readSdkModels(require.resolve(SDK_MODEL_FILES[product]), SDK_MODEL_ROOTS[product]);
  return { apigateway: read('apigateway'), scf: read('scf') };
}
