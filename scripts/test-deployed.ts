/**
 * `npm run test:deployed -- --stage S --region R`: the integration suite against the endpoint the
 * last deploy of that stack wrote to its outputs file.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { selectionFrom } from '../config/select';
import { runMain } from './cloud/cdktf';
import { selectOne } from './cloud/prerequisites';
import { outputsPath } from './post-deploy/run';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

runMain(() => {
  const target = selectOne(selectionFrom());
  const file = outputsPath(target.name);
  if (!existsSync(file)) {
    console.error(`no outputs for ${target.name} at ${path.relative(ROOT, file)}: deploy it first (npm run deploy -- --stage ${target.stage} --region ${target.region})`);
    return 1;
  }
  const outputs = JSON.parse(readFileSync(file, 'utf8')) as { clientUrl?: string };
  if (!outputs.clientUrl) {
    console.error(`${path.relative(ROOT, file)} has no clientUrl`);
    return 1;
  }
  const env: NodeJS.ProcessEnv = { ...process.env, WS_URL: outputs.clientUrl };
  const admission = target.settings.admission;
  if (admission && process.env[admission.secretEnv]) env.ADMISSION_SECRET = process.env[admission.secretEnv];
  console.log(`integration suite against ${outputs.clientUrl}`);
  const result = spawnSync(path.join(ROOT, 'node_modules', '.bin', 'vitest'), ['run', 'test/integration'], { cwd: ROOT, stdio: 'inherit', env });
  return result.status ?? 1;
});
