import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/load';

const ROOT = path.resolve(__dirname, '..', '..');

/** PATH without any folder holding a terraform binary: synth must not need one. */
function pathWithoutTerraform(): string {
  return (process.env.PATH ?? '')
    .split(path.delimiter)
    .filter((dir) => dir && !existsSync(path.join(dir, 'terraform')))
    .join(path.delimiter);
}

function run(command: string, args: string[], env: Record<string, string>): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { cwd: ROOT, env: { ...process.env, PATH: pathWithoutTerraform(), CHECKPOINT_DISABLE: '1', ...env }, timeout: 120_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
    );
  });
}

/** Every app the configuration names: synth covers them all unless --app narrows it. */
const APPS = Object.keys(loadConfig().apps);

describe('synth commands, with no terraform on PATH', () => {
  it('npm run synth writes and validates the selected stacks, one per app', async () => {
    const out = await mkdtemp(path.join(os.tmpdir(), 'synth-cmd-'));
    try {
      const { code, out: log } = await run('npm', ['run', '--silent', 'synth', '--', '--stage', 'prod', '--region', 'ap-shanghai', '--output', out], {});
      expect(log).toMatch(/ok {2}chat-prod-sh {2}\(\d+ resources, valid against the provider schema\)/);
      expect(code).toBe(0);
      expect(readdirSync(path.join(out, 'stacks')).sort()).toEqual(APPS.map((app) => `${app}-prod-sh`).sort());
      const doc = JSON.parse(await readFile(path.join(out, 'stacks', 'chat-prod-sh', 'cdk.tf.json'), 'utf8'));
      expect(doc.provider.tencentcloud[0].region).toBe('ap-shanghai');
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });

  it('npx cdktf synth runs the app as cdktf.json says', async () => {
    const out = await mkdtemp(path.join(os.tmpdir(), 'cdktf-synth-'));
    try {
      const { code, out: log } = await run('npx', ['cdktf', 'synth', '--output', out], { STAGE: 'dev', APP: 'shout' });
      expect(code, log).toBe(0);
      expect(readdirSync(path.join(out, 'stacks'))).toEqual(['shout-dev-gz']);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });

  it('refuses a bad selection before synthesizing, naming it', async () => {
    const { code, out } = await run('npm', ['run', '--silent', 'synth', '--', '--stage', 'qa'], {});
    expect(code).not.toBe(0);
    expect(out).toMatch(/unknown stage "qa"; the configuration has: dev, prod/);
    const app = await run('npm', ['run', '--silent', 'synth', '--', '--app', 'nope'], {});
    expect(app.code).not.toBe(0);
    expect(app.out).toMatch(new RegExp(`unknown app "nope"; the configuration has: ${APPS.join(', ')}`));
  });
});
