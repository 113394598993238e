/**
 * `npm run deploy -- --stage S --region R`: one `cdktf deploy` of one stack. The stack's post-deploy
 * hook fixes the WebSocket bindings and injects the push address within the same deploy.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { selectionFrom } from '../config/select';
import { deployStatePath } from '../stacks/deploy-state';
import { checkPrerequisites, selectOne } from './cloud/prerequisites';
import { generateBindings } from './gen-bindings';
import { outputsPath } from './post-deploy/run';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function main(): number {
  const selection = selectionFrom();
  const target = selectOne(selection);
  const extraEnv = checkPrerequisites(target);
  generateBindings();
  console.log(`deploying ${target.name} (stage ${target.stage}, region ${target.region})`);
  const cdktfOutputs = deployStatePath(target.name).replace(/\.json$/, '.cdktf-outputs.json');
  const result = spawnSync(
    path.join(ROOT, 'node_modules', '.bin', 'cdktf'),
    ['deploy', target.name, '--auto-approve', '--outputs-file', cdktfOutputs, '--outputs-file-include-sensitive-outputs=false'],
    { cwd: ROOT, stdio: 'inherit', env: { ...process.env, ...extraEnv, CHECKPOINT_DISABLE: '1', STAGE: target.stage, REGION: target.region } },
  );
  if (result.status !== 0) {
    console.error(`deploy of ${target.name} failed (exit ${result.status}); re-running npm run deploy is safe`);
    return result.status ?? 1;
  }
  const outputs = outputsPath(target.name);
  if (existsSync(outputs)) {
    const o = JSON.parse(readFileSync(outputs, 'utf8'));
    console.log(`\n${target.name} is deployed.\n  WebSocket URL: ${o.clientUrl}\n  Push address:  ${o.pushUrl}\n  Test it:       npm run test:deployed -- --stage ${target.stage} --region ${target.region}`);
  }
  return 0;
}

try {
  process.exit(main());
} catch (err) {
  console.error((err as Error).message);
  process.exit(1);
}
