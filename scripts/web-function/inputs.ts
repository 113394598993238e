/**
 * What `scripts/web-function.ts` works on: the environment the stack's `terraform_data`
 * provisioners hand it (stacks/web-function-contract.ts), checked per command.
 */
import { CodedError } from '../../lib/errors';
import {
  FUNCTION_VARIABLE_PREFIX,
  SECRET_VARIABLE_PREFIX,
  WEB_FUNCTION_COMMANDS,
  WebFunctionEnv,
  type WebFunctionCommand,
} from '../../stacks/web-function-contract';

/** Thrown for a missing or malformed input, naming the variable. */
export class WebFunctionInputError extends CodedError<'ERR_WEB_FUNCTION_INPUT'> {
  constructor(message: string) {
    super('ERR_WEB_FUNCTION_INPUT', message);
  }
}

/** The function as the stack names it. */
export interface FunctionIdentity {
  stack: string;
  region: string;
  name: string;
  namespace: string;
}

/** Everything `create` and `update` make the function hold. */
export interface FunctionSpec extends FunctionIdentity {
  runtime: string;
  /** The zip, relative to the working directory (the project root). */
  codePath: string;
  codeHash: string;
  memoryMb: number;
  timeoutSeconds: number;
  idleTimeoutSeconds: number;
  vpcId: string;
  subnetId: string;
  /** The function's variables, secrets resolved. */
  variables: Record<string, string>;
  /** Which of them are secrets: never printed. */
  secretNames: string[];
}

/** What `release` works on. */
export interface ReleaseInput extends FunctionIdentity {
  serviceId: string;
  apiId: string;
  environment: string;
  clientUrl?: string;
}

/** The usage text: each command and the variables it reads. */
export function usage(): string {
  return [
    'Usage: node --import tsx scripts/web-function.ts <create|update|delete|release>',
    "  run by the stack's terraform_data provisioners, with their environment:",
    ...Object.entries(WebFunctionEnv).map(([key, name]) => `    ${name.padEnd(32)} ${key.toLowerCase().replace(/_/g, ' ')}`),
    `    ${`${FUNCTION_VARIABLE_PREFIX}<NAME>`.padEnd(32)} a function variable`,
    `    ${`${SECRET_VARIABLE_PREFIX}<NAME>`.padEnd(32)} a secret function variable: the name of the variable (or TF_VAR_ of it) holding it`,
    '  Credentials: TENCENTCLOUD_SECRET_ID / TENCENTCLOUD_SECRET_KEY (/ TENCENTCLOUD_SECURITY_TOKEN); CHAT_CLOUD_API_ENDPOINT for another Cloud API.',
  ].join('\n');
}

/** The command named by the first argument. */
export function commandOf(argv: string[]): WebFunctionCommand {
  const [command, ...rest] = argv;
  if (!command) throw new WebFunctionInputError(`no command given\n${usage()}`);
  if (!(WEB_FUNCTION_COMMANDS as readonly string[]).includes(command)) {
    throw new WebFunctionInputError(`unknown command "${command}"; commands: ${WEB_FUNCTION_COMMANDS.join(', ')}`);
  }
  if (rest.length > 0) throw new WebFunctionInputError(`unexpected argument "${rest[0]}": the inputs come from the environment\n${usage()}`);
  return command as WebFunctionCommand;
}

function required(env: NodeJS.ProcessEnv, names: string[]): Record<string, string> {
  const missing = names.filter((n) => !env[n]);
  if (missing.length > 0) throw new WebFunctionInputError(`missing ${missing.join(', ')} (the stack's provisioner sets them)`);
  return Object.fromEntries(names.map((n) => [n, env[n]!]));
}

function whole(name: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new WebFunctionInputError(`${name} must be a whole number from ${min} to ${max}, got "${value}"`);
  return n;
}

/** The function's name and place. */
export function readIdentity(env: NodeJS.ProcessEnv): FunctionIdentity {
  const v = required(env, [WebFunctionEnv.STACK, WebFunctionEnv.REGION, WebFunctionEnv.FUNCTION, WebFunctionEnv.NAMESPACE]);
  return { stack: v[WebFunctionEnv.STACK]!, region: v[WebFunctionEnv.REGION]!, name: v[WebFunctionEnv.FUNCTION]!, namespace: v[WebFunctionEnv.NAMESPACE]! };
}

/** Everything `create` and `update` need; a secret variable whose source is unset is an error naming it. */
export function readSpec(env: NodeJS.ProcessEnv): FunctionSpec {
  const identity = readIdentity(env);
  const v = required(env, [
    WebFunctionEnv.RUNTIME,
    WebFunctionEnv.CODE,
    WebFunctionEnv.CODE_HASH,
    WebFunctionEnv.MEMORY_MB,
    WebFunctionEnv.TIMEOUT_SECONDS,
    WebFunctionEnv.IDLE_TIMEOUT_SECONDS,
    WebFunctionEnv.VPC_ID,
    WebFunctionEnv.SUBNET_ID,
  ]);
  const variables: Record<string, string> = {};
  const secretNames: string[] = [];
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) continue;
    if (key.startsWith(FUNCTION_VARIABLE_PREFIX)) variables[key.slice(FUNCTION_VARIABLE_PREFIX.length)] = value;
  }
  for (const [key, source] of Object.entries(env)) {
    if (!key.startsWith(SECRET_VARIABLE_PREFIX) || !source) continue;
    const name = key.slice(SECRET_VARIABLE_PREFIX.length);
    // As Terraform reads a variable: the name itself, then TF_VAR_<name>.
    const value = env[source] ?? env[`TF_VAR_${source}`];
    if (value === undefined) throw new WebFunctionInputError(`the function's ${name} comes from ${source}, which is not set (nor TF_VAR_${source})`);
    variables[name] = value;
    secretNames.push(name);
  }
  return {
    ...identity,
    runtime: v[WebFunctionEnv.RUNTIME]!,
    codePath: v[WebFunctionEnv.CODE]!,
    codeHash: v[WebFunctionEnv.CODE_HASH]!,
    memoryMb: whole(WebFunctionEnv.MEMORY_MB, v[WebFunctionEnv.MEMORY_MB]!, 64, 3072),
    timeoutSeconds: whole(WebFunctionEnv.TIMEOUT_SECONDS, v[WebFunctionEnv.TIMEOUT_SECONDS]!, 1, 7200),
    idleTimeoutSeconds: whole(WebFunctionEnv.IDLE_TIMEOUT_SECONDS, v[WebFunctionEnv.IDLE_TIMEOUT_SECONDS]!, 1, 7200),
    vpcId: v[WebFunctionEnv.VPC_ID]!,
    subnetId: v[WebFunctionEnv.SUBNET_ID]!,
    variables,
    secretNames: secretNames.sort(),
  };
}

/** What `release` needs. */
export function readRelease(env: NodeJS.ProcessEnv): ReleaseInput {
  const identity = readIdentity(env);
  const v = required(env, [WebFunctionEnv.SERVICE_ID, WebFunctionEnv.API_ID, WebFunctionEnv.ENVIRONMENT]);
  return {
    ...identity,
    serviceId: v[WebFunctionEnv.SERVICE_ID]!,
    apiId: v[WebFunctionEnv.API_ID]!,
    environment: v[WebFunctionEnv.ENVIRONMENT]!,
    clientUrl: env[WebFunctionEnv.CLIENT_URL] || undefined,
  };
}
