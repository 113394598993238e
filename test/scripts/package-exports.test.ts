/**
 * The package's public entries resolve by name, as a user's code would import them.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import pkg from '../../package.json';

const ROOT = path.resolve(__dirname, '..', '..');

/** What each entry must offer. */
const EXPECTED: Record<string, string[]> = {
  './toolkit': ['defineApp', 'AppError', 'createAdmissionToken', 'MAX_PUSH_BYTES', 'createServerClient', 'newMessageId', 'checkedRoom'],
  './toolkit/web': ['serveWeb', 'runWebFunction', 'RedisStore'],
  './stacks': ['AppStack', 'WebSocketApp', 'WebSocketApi', 'synthesizeApps', 'ROLES'],
  './local': ['LocalCloud', 'DEFAULT_PORTS'],
  './testing': ['startLocalApp', 'deployedApp', 'endpointFromEnv', 'TestClient'],
};

function importNames(specifier: string): Promise<string[]> {
  const script = `import(${JSON.stringify(specifier)}).then((m) => process.stdout.write(JSON.stringify(Object.keys(m))))`;
  return new Promise((resolve, reject) =>
    execFile(process.execPath, ['--import', 'tsx', '-e', script], { cwd: ROOT, timeout: 60_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout)),
    ),
  );
}

describe('package exports', () => {
  it('names an existing file for every entry', () => {
    for (const [entry, file] of Object.entries(pkg.exports)) expect([entry, existsSync(path.join(ROOT, file))]).toEqual([entry, true]);
  });

  it.each(Object.entries(EXPECTED).filter(([entry]) => existsSync(path.join(ROOT, (pkg.exports as Record<string, string>)[entry]!))))(
    'resolves %s by the package name',
    async (entry, names) => {
      const exported = await importNames(`${pkg.name}/${entry.slice(2)}`);
      expect(exported).toEqual(expect.arrayContaining(names));
      expect(exported.length).toBeGreaterThan(0);
    },
    60_000,
  );
});
