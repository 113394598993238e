import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdmissionSecretError, MIN_ADMISSION_SECRET_BYTES, admissionSecretProblem, checkAdmissionSecrets } from '../../config/admission';
import { loadConfig } from '../../config/load';
import { targetsFor } from '../../config/select';
import { LocalCloud } from '../../local/cloud';
import { synthesizeApps } from '../../stacks/app';

const ROOT = path.resolve(__dirname, '..', '..');
const STRONG = 'x'.repeat(MIN_ADMISSION_SECRET_BYTES);

/** The refusal's problems, or a failure naming what was expected. */
function refusal(run: () => unknown): string[] {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(AdmissionSecretError);
    expect(err).toMatchObject({ code: 'ERR_ADMISSION_SECRET' });
    return (err as AdmissionSecretError).problems;
  }
  throw new Error('expected the admission secret to be refused');
}

describe('admission secret check', () => {
  const config = loadConfig();
  const all = targetsFor(config);

  it('needs at least 16 bytes, counted in UTF-8', () => {
    expect(MIN_ADMISSION_SECRET_BYTES).toBe(16);
    expect(admissionSecretProblem('S', STRONG)).toBeUndefined();
    expect(admissionSecretProblem('S', 'x'.repeat(15))).toBe('S is 15 bytes, fewer than the 16 an admission secret needs');
    // Eight two-byte characters are 16 bytes.
    expect(admissionSecretProblem('S', 'é'.repeat(8))).toBeUndefined();
    expect(admissionSecretProblem('S', '')).toMatch(/^S is empty: an empty secret would let everyone in/);
    expect(admissionSecretProblem('S', ' \t ')).toMatch(/^S is empty/);
    expect(admissionSecretProblem('S', undefined)).toMatch(/^S is not set/);
    expect(admissionSecretProblem('S', undefined, { required: false })).toBeUndefined();
  });

  it('at synth: a secret not set passes (Terraform fills it at deploy), an empty or short one is refused, naming the variable', () => {
    expect(() => checkAdmissionSecrets(all, {}, { required: false })).not.toThrow();
    expect(() => checkAdmissionSecrets(all, { CHAT_PROD_ADMISSION_SECRET: STRONG }, { required: false })).not.toThrow();
    // prod has two regions: one problem, not one per stack.
    expect(refusal(() => checkAdmissionSecrets(all, { CHAT_PROD_ADMISSION_SECRET: '' }, { required: false }))).toEqual([
      expect.stringMatching(/^stage prod: CHAT_PROD_ADMISSION_SECRET is empty/),
    ]);
    expect(refusal(() => checkAdmissionSecrets(all, { TF_VAR_CHAT_PROD_ADMISSION_SECRET: 'hunter2' }, { required: false }))).toEqual([
      'stage prod: TF_VAR_CHAT_PROD_ADMISSION_SECRET is 7 bytes, fewer than the 16 an admission secret needs',
    ]);
  });

  it('at deploy and start: a missing secret is refused too; stages without admission need none', () => {
    const prod = targetsFor(config, { stage: 'prod', region: 'ap-guangzhou' });
    expect(refusal(() => checkAdmissionSecrets(prod, {}))).toEqual([expect.stringMatching(/^stage prod: CHAT_PROD_ADMISSION_SECRET is not set/)]);
    expect(() => checkAdmissionSecrets(prod, { CHAT_PROD_ADMISSION_SECRET: STRONG })).not.toThrow();
    expect(() => checkAdmissionSecrets(prod, { TF_VAR_CHAT_PROD_ADMISSION_SECRET: STRONG })).not.toThrow();
    // The variable Terraform would read wins, as in the deploy prerequisites.
    expect(refusal(() => checkAdmissionSecrets(prod, { CHAT_PROD_ADMISSION_SECRET: 'short', TF_VAR_CHAT_PROD_ADMISSION_SECRET: STRONG }))).toEqual([
      expect.stringMatching(/^stage prod: CHAT_PROD_ADMISSION_SECRET is 5 bytes/),
    ]);
    expect(() => checkAdmissionSecrets(targetsFor(config, { stage: 'dev' }), {})).not.toThrow();
  });
});

describe('where the admission secret is checked', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'admission-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('synth refuses a short secret before building anything', async () => {
    const saved = process.env.CHAT_PROD_ADMISSION_SECRET;
    process.env.CHAT_PROD_ADMISSION_SECRET = 'short';
    try {
      // No bundles given: without the check, synth would refuse for want of them instead.
      const synth = () =>
        synthesizeApps({ config: loadConfig(), outdir: path.join(dir, 'synth'), bundles: {}, env: { CHAT_DEPLOY_STATE_DIR: path.join(dir, 'state') } });
      expect(synth).toThrow(AdmissionSecretError);
      expect(synth).toThrow(/stage prod: CHAT_PROD_ADMISSION_SECRET is 5 bytes/);
    } finally {
      if (saved === undefined) delete process.env.CHAT_PROD_ADMISSION_SECRET;
      else process.env.CHAT_PROD_ADMISSION_SECRET = saved;
    }
  });

  it('npm start refuses a missing, empty or short secret before starting anything', async () => {
    const config = loadConfig();
    config.stages.dev.admission = { secretEnv: 'CHAT_DEV_TEST_SECRET' };
    for (const [value, reason] of [
      [undefined, /CHAT_DEV_TEST_SECRET is not set/],
      ['', /CHAT_DEV_TEST_SECRET is empty/],
      ['fifteen-bytes!!', /CHAT_DEV_TEST_SECRET is 15 bytes/],
    ] as const) {
      const cloud = new LocalCloud({
        config,
        stage: 'dev',
        dataDir: path.join(dir, 'cloud'),
        buildDir: path.join(dir, 'dist'),
        ports: { page: 0, gateway: 0, cos: 0, cloudApi: 0 },
        env: value === undefined ? {} : { CHAT_DEV_TEST_SECRET: value },
        log: () => {},
      });
      const started = await cloud.start().then(
        () => undefined,
        (err: unknown) => err,
      );
      if (started === undefined) {
        await cloud.stop();
        throw new Error(`npm start accepted the admission secret ${JSON.stringify(value)}`);
      }
      expect(started).toBeInstanceOf(AdmissionSecretError);
      expect((started as Error).message).toMatch(reason);
    }
  });

  it('npm run deploy refuses a short secret, naming the variable, before cdktf runs', async () => {
    // A terraform that answers `version` only: the prerequisites pass, anything further fails.
    const bin = path.join(dir, 'bin');
    await mkdir(bin);
    await writeFile(
      path.join(bin, 'terraform'),
      '#!/bin/sh\n[ "$1" = version ] && { echo "Terraform v1.9.0"; exit 0; }\necho "terraform $* is not available in this test" >&2; exit 1\n',
    );
    await chmod(path.join(bin, 'terraform'), 0o755);
    const env = {
      ...process.env,
      PATH: `${bin}${path.delimiter}${process.env.PATH}`,
      TENCENTCLOUD_SECRET_ID: 'test-id',
      TENCENTCLOUD_SECRET_KEY: 'test-key',
      CHAT_PROD_ADMISSION_SECRET: 'short',
      TF_VAR_CHAT_PROD_ADMISSION_SECRET: undefined,
      CDKTF_OUTDIR: path.join(dir, 'cdktf.out'),
      CHAT_DEPLOY_STATE_DIR: path.join(dir, 'state'),
    };
    const { code, out } = await new Promise<{ code: number; out: string }>((resolve) =>
      execFile(
        process.execPath,
        ['--import', 'tsx', path.join(ROOT, 'scripts/deploy.ts'), '--stage', 'prod', '--region', 'ap-guangzhou'],
        { cwd: ROOT, env, timeout: 60_000 },
        (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
      ),
    );
    expect(out).toMatch(/admission secret refused:\n {2}- stage prod: CHAT_PROD_ADMISSION_SECRET is 5 bytes, fewer than the 16/);
    expect(out).not.toMatch(/deploying chat-prod-gz/);
    expect(code).toBe(1);
  });
});
