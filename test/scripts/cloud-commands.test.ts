import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkPrerequisites, PrerequisiteError, selectOne } from '../../scripts/cloud/prerequisites';
import { readInput } from '../../scripts/post-deploy/inputs';
import { startLocalApp } from '../harness';

const ROOT = path.resolve(__dirname, '..', '..');

function pathWithoutTerraform(): string {
  return (process.env.PATH ?? '')
    .split(path.delimiter)
    .filter((d) => d && !existsSync(path.join(d, 'terraform')))
    .join(path.delimiter);
}

function run(script: string, args: string[], env: Record<string, string | undefined>): Promise<{ code: number; out: string }> {
  const clean = { ...process.env, PATH: pathWithoutTerraform(), TENCENTCLOUD_SECRET_ID: undefined, TENCENTCLOUD_SECRET_KEY: undefined, ...env };
  return new Promise((resolve) =>
    execFile(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, script), ...args],
      { cwd: ROOT, env: clean as NodeJS.ProcessEnv, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
    ),
  );
}

describe('deploy prerequisites', () => {
  it('names everything missing: terraform, credentials, the admission secret', () => {
    const target = selectOne({ stage: 'prod', region: 'ap-shanghai' });
    let err: unknown;
    try {
      checkPrerequisites(target, { PATH: pathWithoutTerraform() });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PrerequisiteError);
    const problems = (err as PrerequisiteError).problems.join('\n');
    expect(problems).toMatch(/terraform is not on PATH/);
    expect(problems).toMatch(/TENCENTCLOUD_SECRET_ID is not set/);
    expect(problems).toMatch(/TENCENTCLOUD_SECRET_KEY is not set/);
    expect(problems).toMatch(/stage prod requires an admission secret: set CHAT_PROD_ADMISSION_SECRET/);
  });

  it('hands the admission secret to Terraform as TF_VAR_<name>', () => {
    const target = selectOne({ stage: 'prod', region: 'ap-shanghai' });
    const extra = checkPrerequisites(
      target,
      { TENCENTCLOUD_SECRET_ID: 'id', TENCENTCLOUD_SECRET_KEY: 'key', CHAT_PROD_ADMISSION_SECRET: 's3cret' },
      { needTerraform: false },
    );
    expect(extra).toEqual({ TF_VAR_CHAT_PROD_ADMISSION_SECRET: 's3cret' });
  });

  it('for a web-mode stack, checks the Redis password without printing it and hands it to Terraform', () => {
    const target = selectOne({ stage: 'dev', mode: 'web' });
    const keys = { TENCENTCLOUD_SECRET_ID: 'id', TENCENTCLOUD_SECRET_KEY: 'key' };
    const missing = (() => {
      try {
        checkPrerequisites(target, keys, { needTerraform: false });
      } catch (e) {
        return e as PrerequisiteError;
      }
    })();
    expect(missing).toBeInstanceOf(PrerequisiteError);
    expect(missing!.problems.join('\n')).toMatch(/CHAT_REDIS_PASSWORD/);
    const weak = 'aaaaaaaaaa';
    const refused = (() => {
      try {
        checkPrerequisites(target, { ...keys, CHAT_REDIS_PASSWORD: weak }, { needTerraform: false });
      } catch (e) {
        return e as PrerequisiteError;
      }
    })();
    expect(refused!.problems.join('\n')).toMatch(/at least two/);
    expect(refused!.message).not.toContain(weak);
    expect(checkPrerequisites(target, { ...keys, CHAT_REDIS_PASSWORD: 'Good_pass123' }, { needTerraform: false })).toEqual({
      TF_VAR_CHAT_REDIS_PASSWORD: 'Good_pass123',
    });
  });

  it('wants one stack when a stage has several regions', () => {
    expect(() => selectOne({ stage: 'prod' })).toThrow(/choose one stack .*chat-prod-gz.*chat-prod-sh/);
  });

  it('npm run deploy refuses before touching anything, saying what is missing', async () => {
    const { code, out } = await run('scripts/deploy.ts', ['--stage', 'dev'], {});
    expect(code).not.toBe(0);
    expect(out).toMatch(/cannot deploy yet:\n {2}- terraform is not on PATH/);
    expect(out).toMatch(/TENCENTCLOUD_SECRET_ID is not set/);
  });

  it('npm run test:deployed says to deploy first when there is no outputs file', async () => {
    const { code, out } = await run('scripts/test-deployed.ts', ['--stage', 'dev'], { CHAT_DEPLOY_STATE_DIR: '/nonexistent-state' });
    expect(code).toBe(1);
    expect(out).toMatch(/no outputs for chat-dev-gz .*deploy it first \(npm run deploy -- --app chat --stage dev --region ap-guangzhou\)/);
  });

  it('npm run test:deployed refuses an app without an integration suite, naming where it goes', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'test-deployed-'));
    try {
      const config = JSON.parse(await readFile(path.join(ROOT, 'config', 'app.json'), 'utf8'));
      config.apps.lonely = { entry: 'functions/shout/app.ts' };
      await writeFile(path.join(dir, 'app.json'), JSON.stringify(config));
      const { code, out } = await run('scripts/test-deployed.ts', ['--app', 'lonely', '--stage', 'dev'], {
        CHAT_CONFIG: path.join(dir, 'app.json'),
        CHAT_DEPLOY_STATE_DIR: dir,
      });
      expect(code).toBe(1);
      expect(out).toMatch(/app lonely has no integration suite: write test\/integration\/lonely\.test\.ts/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("npm run test:deployed runs the app's suite against the outputs file's URL, passing vitest its own options", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'test-deployed-'));
    // Stands in for the deployed stack: the suite sees only a URL.
    const local = await startLocalApp({ app: 'chat' });
    try {
      await writeFile(path.join(dir, 'chat-dev-gz.outputs.json'), JSON.stringify({ stack: 'chat-dev-gz', clientUrl: local.url }));
      const { code, out } = await run('scripts/test-deployed.ts', ['--app', 'chat', '--stage', 'dev', '-t', 'relays a binary frame', '--reporter=verbose'], {
        CHAT_DEPLOY_STATE_DIR: dir,
        WS_URL: undefined,
        APP: undefined,
        NO_COLOR: '1',
      });
      expect(out).toContain(`chat suite against ${local.url}`);
      // The verbose reporter names the suite, which is named after the URL it runs against.
      expect(out).toContain(`chat over ${local.url} > relays a binary frame`);
      expect(out).toMatch(/Tests +1 passed \| \d+ skipped/);
      // The chat's companion suite (its rooms) runs too.
      expect(out).toContain('chat-rooms.test.ts');
      expect(code).toBe(0);
    } finally {
      await local.stop();
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('post-deploy inputs', () => {
  it('reads the hook environment, with flags taking precedence', () => {
    const env = {
      CHAT_STACK: 'chat-dev-gz',
      CHAT_REGION: 'ap-guangzhou',
      CHAT_SERVICE_ID: 'service-1',
      CHAT_API_ID: 'api-1',
      CHAT_REGISTER_FUNCTION: 'r',
      CHAT_TRANSPORT_FUNCTION: 't',
      CHAT_CLEANUP_FUNCTION: 'c',
    };
    expect(readInput(['--api-id', 'api-2'], env)).toMatchObject({
      stack: 'chat-dev-gz',
      apiId: 'api-2',
      environment: 'release',
      namespace: 'default',
      qualifier: '$LATEST',
      functions: { register: 'r', transport: 't', cleanup: 'c' },
    });
  });

  it('names what is missing, by flag and variable', () => {
    expect(() => readInput([], {})).toThrow(/missing --stack \(CHAT_STACK\), --region \(CHAT_REGION\), --service-id \(CHAT_SERVICE_ID\)/);
    expect(() => readInput(['--colour', 'x'], {})).toThrow(/unknown flag --colour/);
  });

  it('the script exits non-zero naming missing credentials', async () => {
    const { code, out } = await run(
      'scripts/post-deploy.ts',
      [
        '--stack',
        's',
        '--region',
        'ap-guangzhou',
        '--service-id',
        'service-1',
        '--api-id',
        'api-1',
        '--register-function',
        'r',
        '--transport-function',
        't',
        '--cleanup-function',
        'c',
      ],
      {},
    );
    expect(code).toBe(1);
    expect(out).toMatch(/post-deploy: no Tencent Cloud credentials: set TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY/);
  });
});
