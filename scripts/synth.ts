/**
 * `npm run synth [-- --stage S] [--region R] [--output DIR]`: makes sure the provider bindings exist, synthesizes the
 * selected stacks with `cdktf synth`, and checks every synthesized stack against the provider schema.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../config/load';
import { selectionFrom, targetsFor } from '../config/select';
import { generateBindings } from './gen-bindings';
import { validateSynthOutput } from './validate-stacks';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function outputDir(argv: string[]): string {
  const i = argv.findIndex((a) => a === '--output' || a.startsWith('--output='));
  if (i < 0) return path.join(ROOT, 'cdktf.out');
  return path.resolve(argv[i].includes('=') ? argv[i].slice('--output='.length) : argv[i + 1]);
}

function main(): number {
  const selection = selectionFrom();
  const outdir = outputDir(process.argv.slice(2));
  // A bad config or selection is refused here, before anything is synthesized.
  const targets = targetsFor(loadConfig(process.env.CHAT_CONFIG || undefined), selection);
  generateBindings();
  console.log(`synthesizing ${targets.map((t) => t.name).join(', ')}`);
  const result = spawnSync(path.join(ROOT, 'node_modules', '.bin', 'cdktf'), ['synth', '--output', outdir], {
    cwd: ROOT,
    stdio: 'inherit',
    env: {
      ...process.env,
      CHECKPOINT_DISABLE: '1',
      APP: selection.app ?? '',
      STAGE: selection.stage ?? '',
      REGION: selection.region ?? '',
      CHAT_MODE: selection.mode ?? '',
    },
  });
  if (result.status !== 0) return result.status ?? 1;
  let failed = false;
  for (const { stack, issues, resources } of validateSynthOutput(
    outdir,
    targets.map((t) => t.name),
  )) {
    if (issues.length === 0) {
      console.log(`ok  ${stack}  (${resources} resources, valid against the provider schema)`);
    } else {
      failed = true;
      console.error(`invalid  ${stack}:`);
      for (const issue of issues) console.error(`  ${issue.code}  ${issue.path}: ${issue.message}`);
    }
  }
  return failed ? 1 : 0;
}

try {
  process.exit(main());
} catch (err) {
  console.error((err as Error).message);
  process.exit(1);
}
