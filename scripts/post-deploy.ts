/**
 * The post-deploy step (scripts/post-deploy/run.ts: bindings, release when the API changed, `url`,
 * deploy state), run by the stack's `terraform_data` hook inside `cdktf deploy`, or by hand:
 *
 *   npx tsx scripts/post-deploy.ts --stack chat-dev-gz --region ap-guangzhou --service-id service-… \
 *     --api-id api-… --register-function … --transport-function … --cleanup-function …
 *
 * Credentials: TENCENTCLOUD_SECRET_ID / TENCENTCLOUD_SECRET_KEY (/ TENCENTCLOUD_SECURITY_TOKEN).
 * CHAT_CLOUD_API_ENDPOINT points it at another Cloud API (the local cloud's).
 */
import { createCloudApi, CredentialsError } from './post-deploy/clients';
import { InputError, readInput, usage } from './post-deploy/inputs';
import { runPostDeploy } from './post-deploy/run';

async function main(): Promise<number> {
  if (process.argv.includes('--help')) {
    console.log(`Usage: npx tsx scripts/post-deploy.ts [flags]\n${usage()}`);
    return 0;
  }
  const input = readInput(process.argv.slice(2), process.env);
  const api = createCloudApi(input.region, process.env, {
    onRetry: (what, attempt, err) => console.log(`      ${what} failed (${(err as { code?: string }).code || (err as Error).message}); retrying (${attempt})`),
  });
  console.log(`post-deploy for ${input.stack} (${input.region})`);
  await runPostDeploy(input, api);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    const e = err as Error & { code?: string };
    console.error(e instanceof InputError || e instanceof CredentialsError ? `post-deploy: ${e.message}` : e.message);
    process.exit(1);
  },
);
