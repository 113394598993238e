/**
 * `npm run destroy -- --stage S --region R`: `cdktf destroy` of one stack, then its deploy state.
 */
import { rmSync } from 'node:fs';
import { deployStatePath } from '../stacks/post-deploy-contract';
import { preparedTarget, runCdktf, runMain } from './cloud/cdktf';
import { outputsPath } from './post-deploy/run';

runMain(() => {
  const { target, extraEnv } = preparedTarget();
  console.log(`destroying ${target.name} (stage ${target.stage}, region ${target.region})`);
  const status = runCdktf('destroy', target, extraEnv);
  if (status !== 0) {
    console.error(`destroy of ${target.name} failed (exit ${status}); the deploy state is kept`);
    return status;
  }
  for (const file of [deployStatePath(target.name), outputsPath(target.name), deployStatePath(target.name).replace(/\.json$/, '.cdktf-outputs.json')])
    rmSync(file, { force: true });
  console.log(`${target.name} destroyed; its deploy state is removed`);
  return 0;
});
