/**
 * What the post-deploy step works on: from the stack hook's environment, or from flags when run by
 * hand (`npx tsx scripts/post-deploy.ts --stack chat-dev-gz --service-id … --api-id …`).
 */
import { CodedError } from '../../lib/errors';
import { HookEnv } from '../../stacks/post-deploy-contract';

export interface PostDeployInput {
  stack: string;
  region: string;
  serviceId: string;
  apiId: string;
  /** API Gateway environment to release to. */
  environment: string;
  namespace: string;
  qualifier: string;
  functions: { register: string; transport: string; cleanup: string };
  /** The client URL as the stack computes it; written to the outputs file. */
  clientUrl?: string;
  /**
   * `ServiceScfFunctionType` as the stack declares it (`service_config_scf_function_type`):
   * ModifyApi takes it, DescribeApi does not return it. @default 'EVENT'
   */
  scfFunctionType: string;
}

/** Thrown for missing or malformed inputs, naming each. */
export class InputError extends CodedError<'ERR_POST_DEPLOY_INPUT'> {
  constructor(message: string) {
    super('ERR_POST_DEPLOY_INPUT', message);
  }
}

const FLAGS: Record<string, string> = {
  stack: HookEnv.STACK,
  region: HookEnv.REGION,
  'service-id': HookEnv.SERVICE_ID,
  'api-id': HookEnv.API_ID,
  environment: HookEnv.ENVIRONMENT,
  namespace: HookEnv.NAMESPACE,
  qualifier: HookEnv.QUALIFIER,
  'register-function': HookEnv.REGISTER_FUNCTION,
  'transport-function': HookEnv.TRANSPORT_FUNCTION,
  'cleanup-function': HookEnv.CLEANUP_FUNCTION,
  'client-url': HookEnv.CLIENT_URL,
  'scf-function-type': HookEnv.SCF_FUNCTION_TYPE,
};

/** Usage text listing each flag and the variable it stands for. */
export function usage(): string {
  return Object.entries(FLAGS)
    .map(([flag, env]) => `  --${flag.padEnd(20)} or ${env}`)
    .join('\n');
}

/** Reads flags (`--name value` or `--name=value`), falling back to the hook's environment variables. */
export function readInput(argv: string[], env: NodeJS.ProcessEnv): PostDeployInput {
  const values: Record<string, string | undefined> = {};
  for (const [flag, name] of Object.entries(FLAGS)) values[flag] = env[name] || undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new InputError(`unexpected argument "${arg}"`);
    const [flag, inline] = arg.slice(2).split(/=(.*)/s, 2);
    if (!(flag in FLAGS)) throw new InputError(`unknown flag --${flag}; flags:\n${usage()}`);
    values[flag] = inline ?? argv[++i];
  }
  const required = ['stack', 'region', 'service-id', 'api-id', 'register-function', 'transport-function', 'cleanup-function'];
  const missing = required.filter((f) => !values[f]);
  if (missing.length > 0) {
    throw new InputError(`missing ${missing.map((f) => `--${f} (${FLAGS[f]})`).join(', ')}`);
  }
  return {
    stack: values.stack!,
    region: values.region!,
    serviceId: values['service-id']!,
    apiId: values['api-id']!,
    environment: values.environment ?? 'release',
    namespace: values.namespace ?? 'default',
    qualifier: values.qualifier ?? '$LATEST',
    functions: { register: values['register-function']!, transport: values['transport-function']!, cleanup: values['cleanup-function']! },
    clientUrl: values['client-url'],
    scfFunctionType: values['scf-function-type'] ?? 'EVENT',
  };
}
