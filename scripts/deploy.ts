/**
 * `npm run deploy -- --stage S --region R`: one `cdktf deploy` of one stack. The stack's post-deploy
 * hook fixes the WebSocket bindings and injects the push address within the same deploy.
 */
import { existsSync, readFileSync } from 'node:fs';
import { checkAdmissionSecrets } from '../config/admission';
import { deployStatePath } from '../stacks/post-deploy-contract';
import { preparedTarget, runCdktf, runMain } from './cloud/cdktf';
import { outputsPath } from './post-deploy/run';

runMain(() => {
  const { target, extraEnv } = preparedTarget();
  checkAdmissionSecrets([target]);
  console.log(`deploying ${target.name} (stage ${target.stage}, region ${target.region})`);
  const cdktfOutputs = deployStatePath(target.name).replace(/\.json$/, '.cdktf-outputs.json');
  const status = runCdktf('deploy', target, extraEnv, ['--outputs-file', cdktfOutputs, '--outputs-file-include-sensitive-outputs=false']);
  if (status !== 0) {
    console.error(`deploy of ${target.name} failed (exit ${status}); re-running npm run deploy is safe`);
    return status;
  }
  const outputs = outputsPath(target.name);
  if (existsSync(outputs)) {
    const o = JSON.parse(readFileSync(outputs, 'utf8'));
    console.log(
      `\n${target.name} is deployed.\n  WebSocket URL: ${o.clientUrl}${o.pushUrl ? `\n  Push address:  ${o.pushUrl}` : ''}\n  Test it:       npm run test:deployed -- --app ${target.app} --stage ${target.stage} --region ${target.region}`,
    );
  }
  return 0;
});
