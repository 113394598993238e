/**
 * The web function's create, update and delete, and the release of the API in front of it, run by
 * a web-mode stack's `terraform_data` provisioners inside `cdktf deploy` (stacks/web-function.ts):
 *
 *   node --import tsx scripts/web-function.ts create|update|delete|release
 *
 * Inputs come from the provisioner's environment (`--help` lists them); credentials from
 * TENCENTCLOUD_SECRET_ID / TENCENTCLOUD_SECRET_KEY (/ TENCENTCLOUD_SECURITY_TOKEN), the provider's
 * variables. CHAT_CLOUD_API_ENDPOINT points it at another Cloud API (the local cloud's).
 */
import { describeError } from '../lib/errors';
import { CredentialsError } from './post-deploy/clients';
import { createWebFunctionApi } from './web-function/clients';
import { commandOf, readIdentity, readRelease, readSpec, usage, WebFunctionInputError } from './web-function/inputs';
import { deleteFunction, ensureFunction, releaseApi, WebFunctionError } from './web-function/run';

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help')) {
    console.log(usage());
    return 0;
  }
  const command = commandOf(argv);
  const env = process.env;
  const identity = readIdentity(env);
  const api = createWebFunctionApi(identity.region, env, {
    onRetry: (what, attempt, err) => console.log(`      ${what} failed (${(err as { code?: string }).code || (err as Error).message}); retrying (${attempt})`),
  });
  console.log(`web function ${command} for ${identity.stack} (${identity.region}): ${identity.name}`);
  switch (command) {
    case 'create':
    case 'update': {
      const report = await ensureFunction(readSpec(env), api);
      const did = [
        report.created && 'created',
        report.adopted && 'adopted',
        report.codeUpdated && 'code updated',
        report.configured.length > 0 && `configured (${report.configured.join(', ')})`,
      ].filter(Boolean);
      console.log(`web function ${command} done: ${did.join(', ') || 'nothing to change'}`);
      return 0;
    }
    case 'delete':
      await deleteFunction(identity, api);
      return 0;
    case 'release': {
      const { released } = await releaseApi(readRelease(env), api);
      console.log(released ? 'release done' : 'release: nothing to change');
      return 0;
    }
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    const known = err instanceof WebFunctionInputError || err instanceof CredentialsError || err instanceof WebFunctionError;
    console.error(`web-function: ${known ? (err as Error).message : describeError(err)}`);
    process.exit(1);
  },
);
