/**
 * `npm run destroy -- --stage S --region R`: `cdktf destroy` of one stack, then its deploy state.
 */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { selectionFrom } from '../config/select';
import { deployStatePath } from '../stacks/deploy-state';
import { checkPrerequisites, selectOne } from './cloud/prerequisites';
import { generateBindings } from './gen-bindings';
import { outputsPath } from './post-deploy/run';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function main(): number {
  const target = selectOne(selectionFrom());
  const extraEnv = checkPrerequisites(target);
  generateBindings();
  console.log(`destroying ${target.name} (stage ${target.stage}, region ${target.region})`);
  const result = spawnSync(path.join(ROOT, 'node_modules', '.bin', 'cdktf'), ['destroy', target.name, '--auto-approve'], {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, ...extraEnv, CHECKPOINT_DISABLE: '1', STAGE: target.stage, REGION: target.region },
  });
  if (result.status !== 0) {
    console.error(`destroy of ${target.name} failed (exit ${result.status}); the deploy state is kept`);
    return result.status ?? 1;
  }
  for (const file of [deployStatePath(target.name), outputsPath(target.name), deployStatePath(target.name).replace(/\.json$/, '.cdktf-outputs.json')]) rmSync(file, { force: true });
  console.log(`${target.name} destroyed; its deploy state is removed`);
  return 0;
}

try {
  process.exit(main());
} catch (err) {
  console.error((err as Error).message);
  process.exit(1);
}
