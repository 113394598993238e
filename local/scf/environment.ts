/**
 * What an instance sees of the platform: its environment variables and the `context` argument.
 */

/** The role's temporary credentials, as the platform injects them. */
export interface RoleCredentials {
  secretId: string;
  secretKey: string;
  sessionToken?: string;
}

/** What the platform variables and the context are made of. */
export interface PlatformFacts {
  name: string;
  namespace: string;
  memoryMb: number;
  timeoutSeconds: number;
  runtime?: string;
  region?: string;
  credentials: RoleCredentials;
  /** The unpacked code folder (SCF's `/var/user`). */
  codeRoot: string;
  /** Variables the host adds to every instance (e.g. a local service's address); they win over the function's. */
  extra?: Readonly<Record<string, string>>;
}

/** The only version the local runtime has. */
export const LATEST = '$LATEST';

/**
 * Prefixes SCF reserves: it refuses function variables starting with them. Here such variables are
 * dropped (with a warning at deploy), so a function can never bring its own credentials, not even a
 * session token the platform does not set.
 */
const RESERVED_PREFIX = /^(SCF_|QCLOUD_|TENCENTCLOUD_)/;

/** Variables the platform sets in every instance; they win over the function's own. */
export function platformVariables(facts: PlatformFacts): Record<string, string> {
  const vars: Record<string, string> = {
    TENCENTCLOUD_SECRETID: facts.credentials.secretId,
    TENCENTCLOUD_SECRETKEY: facts.credentials.secretKey,
    TENCENTCLOUD_RUNENV: 'SCF',
    SCF_FUNCTIONNAME: facts.name,
    SCF_FUNCTIONVERSION: LATEST,
    SCF_NAMESPACE: facts.namespace,
    SCF_MEMORY_SIZE: String(facts.memoryMb),
    SCF_TIMEOUT: String(facts.timeoutSeconds),
    USER_CODE_ROOT: facts.codeRoot,
    // as on SCF (/var/user:/var/user/node_modules): bare requires resolve from the package root
    NODE_PATH: [facts.codeRoot, `${facts.codeRoot}/node_modules`].join(':'),
  };
  if (facts.credentials.sessionToken) vars.TENCENTCLOUD_SESSIONTOKEN = facts.credentials.sessionToken;
  if (facts.region) vars.TENCENTCLOUD_REGION = facts.region;
  if (facts.runtime) vars.SCF_RUNTIME = facts.runtime;
  return vars;
}

/**
 * An instance's whole `process.env`: the function's variables (less reserved ones), then the host's
 * extra ones, then the platform's, each winning over the previous. Nothing
 * of the host's environment is in it. `TZ` is not set: a worker thread shares the host process's
 * time zone whatever its `process.env` says, so run the host with `TZ=UTC` to match SCF's default.
 */
export function instanceEnvironment(functionVariables: Readonly<Record<string, string>>, facts: PlatformFacts): Record<string, string> {
  const own = Object.entries(functionVariables).filter(([key]) => !RESERVED_PREFIX.test(key));
  return { ...Object.fromEntries(own), ...facts.extra, ...platformVariables(facts) };
}

/** Function variables that an instance will not see as given (reserved, or set by the platform), for a warning at deploy. */
export function shadowedVariables(functionVariables: Readonly<Record<string, string>>, facts: PlatformFacts): string[] {
  const platform = { ...facts.extra, ...platformVariables(facts) };
  return Object.keys(functionVariables).filter((key) => key in platform || RESERVED_PREFIX.test(key));
}

/**
 * The handler's second argument, in SCF's field names. JSON data only: the instance adds a
 * non-enumerable `getRemainingTimeInMillis()`, so `JSON.stringify(context)` still shows just these.
 */
export interface InvocationContext {
  request_id: string;
  function_name: string;
  function_version: string;
  namespace: string;
  memory_limit_in_mb: number;
  time_limit_in_ms: number;
  tencentcloud_region?: string;
}

export function invocationContext(requestId: string, facts: PlatformFacts): InvocationContext {
  return {
    request_id: requestId,
    function_name: facts.name,
    function_version: LATEST,
    namespace: facts.namespace,
    memory_limit_in_mb: facts.memoryMb,
    time_limit_in_ms: Math.round(facts.timeoutSeconds * 1000),
    ...(facts.region ? { tencentcloud_region: facts.region } : {}),
  };
}
