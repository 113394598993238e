/**
 * The contract between a web-mode stack and `scripts/web-function.ts`, in one place: the commands
 * its `terraform_data` resources run, the environment they hand the script, and the variables the
 * web function gets.
 *
 * No provider version can create an SCF function with `ProtocolType: "WS"` (PLATFORM 3): only the
 * Cloud API's `CreateFunction` can, so the script creates it, and Terraform holds its life through
 * the `terraform_data` whose create and destroy provisioners run the script.
 */
import { HookEnv } from './post-deploy-contract';

/** The script, run from the project root (one process fewer than npx). */
export const WEB_FUNCTION_SCRIPT = 'node --import tsx scripts/web-function.ts';

/** What the script does: create or adopt, bring code and configuration up to date, delete, release the API. */
export const WEB_FUNCTION_COMMANDS = ['create', 'update', 'delete', 'release'] as const;
export type WebFunctionCommand = (typeof WEB_FUNCTION_COMMANDS)[number];

/** Environment variables the stack hands the script. */
export const WebFunctionEnv = {
  STACK: HookEnv.STACK,
  REGION: HookEnv.REGION,
  NAMESPACE: HookEnv.NAMESPACE,
  FUNCTION: 'CHAT_WEB_FUNCTION',
  /** The bundle's zip, relative to the project root (the working directory). */
  CODE: 'CHAT_WEB_CODE',
  /** The bundle's content hash (its file name carries it too). */
  CODE_HASH: 'CHAT_WEB_CODE_HASH',
  RUNTIME: 'CHAT_WEB_RUNTIME',
  MEMORY_MB: 'CHAT_WEB_MEMORY_MB',
  TIMEOUT_SECONDS: 'CHAT_WEB_TIMEOUT_SECONDS',
  /** `ProtocolParams.WSParams.IdleTimeOut`. */
  IDLE_TIMEOUT_SECONDS: 'CHAT_WEB_IDLE_TIMEOUT_SECONDS',
  VPC_ID: 'CHAT_WEB_VPC_ID',
  SUBNET_ID: 'CHAT_WEB_SUBNET_ID',
  SERVICE_ID: HookEnv.SERVICE_ID,
  API_ID: HookEnv.API_ID,
  ENVIRONMENT: HookEnv.ENVIRONMENT,
  CLIENT_URL: HookEnv.CLIENT_URL,
} as const;

/** `CHAT_WEB_ENV_<NAME>=<value>`: one of the function's environment variables. */
export const FUNCTION_VARIABLE_PREFIX = 'CHAT_WEB_ENV_';

/**
 * `CHAT_WEB_SECRET_<NAME>=<VARIABLE>`: a function variable whose value the script reads from the
 * named environment variable (or `TF_VAR_<VARIABLE>`), which Terraform's own environment holds. The
 * secret itself is kept out of the provisioner's configuration, which would make Terraform
 * suppress the script's whole output.
 */
export const SECRET_VARIABLE_PREFIX = 'CHAT_WEB_SECRET_';

/** The web function's own variables (beside the app's and the rooms' and admission's, as in event mode). */
export const WebVariable = {
  REDIS_HOST: 'REDIS_HOST',
  REDIS_PORT: 'REDIS_PORT',
  REDIS_PASSWORD: 'REDIS_PASSWORD',
  /** The WebSocket idle timeout, for the server's pings. */
  IDLE_TIMEOUT_SECONDS: 'IDLE_TIMEOUT_SECONDS',
} as const;
