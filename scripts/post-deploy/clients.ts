/**
 * Cloud API clients (tencentcloud-sdk-nodejs), with credentials from the provider's variables and
 * retries for throttling and transient errors.
 */
import http from 'node:http';
import https from 'node:https';
// Deep imports: the package's index loads every service (0.8 s); these two load in 0.15 s.
import { Client as ApiGatewayClient } from 'tencentcloud-sdk-nodejs/tencentcloud/services/apigateway/v20180808/apigateway_client';
import { Client as ScfClient } from 'tencentcloud-sdk-nodejs/tencentcloud/services/scf/v20180416/scf_client';
import { CodedError } from '../../lib/errors';

/** The Terraform provider's credential variables: one set of credentials for the whole deploy. */
export const CredentialEnv = {
  SECRET_ID: 'TENCENTCLOUD_SECRET_ID',
  SECRET_KEY: 'TENCENTCLOUD_SECRET_KEY',
  SECURITY_TOKEN: 'TENCENTCLOUD_SECURITY_TOKEN',
} as const;

/** Points the SDK at another Cloud API endpoint, e.g. `http://127.0.0.1:3003` (the local cloud). */
export const ENDPOINT_ENV = 'CHAT_CLOUD_API_ENDPOINT';

/** Thrown when credentials are missing, naming the variables. */
export class CredentialsError extends CodedError<'ERR_NO_CREDENTIALS'> {
  constructor(message: string) {
    super('ERR_NO_CREDENTIALS', message);
  }
}

/** The subset of the two SDK clients the step uses. */
export interface CloudApi {
  describeApi(req: { ServiceId: string; ApiId: string }): Promise<any>;
  modifyApi(req: Record<string, unknown>): Promise<any>;
  releaseService(req: { ServiceId: string; EnvironmentName: string; ReleaseDesc: string }): Promise<any>;
  getFunction(req: { FunctionName: string; Namespace: string }): Promise<any>;
  updateFunctionConfiguration(req: {
    FunctionName: string;
    Namespace: string;
    Environment: { Variables: Array<{ Key: string; Value: string }> };
  }): Promise<any>;
}

export interface RetryOptions {
  attempts?: number;
  baseDelayMs?: number;
  onRetry?: (what: string, attempt: number, err: unknown) => void;
}

/** Codes worth another try: throttling, and errors the API itself calls transient. */
export function isRetryable(err: unknown): boolean {
  const code = String((err as { code?: string }).code ?? '');
  if (/^(RequestLimitExceeded|InternalError|ResourceUnavailable|FailedOperation\.(Timeout|Busy)|LimitExceeded\.RequestLimit)/.test(code)) return true;
  // No code: the request never got an answer (network error, timeout).
  const message = String((err as Error).message ?? '');
  return code === '' && /ECONNRESET|ECONNREFUSED|ETIMEDOUT|EAI_AGAIN|socket hang up|network|timeout/i.test(message);
}

/** Runs `fn`, retrying retryable failures with exponential backoff. */
export async function withRetry<T>(what: string, fn: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 5;
  const base = options.baseDelayMs ?? 500;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= attempts || !isRetryable(err)) throw err;
      options.onRetry?.(what, attempt, err);
      await new Promise((r) => setTimeout(r, base * 2 ** (attempt - 1) * (0.75 + Math.random() / 2)));
    }
  }
}

/** Builds the clients; throws {@link CredentialsError} naming what is missing. */
export function createCloudApi(region: string, env: NodeJS.ProcessEnv = process.env, retry: RetryOptions = {}): CloudApi {
  const secretId = env[CredentialEnv.SECRET_ID];
  const secretKey = env[CredentialEnv.SECRET_KEY];
  const missing = [!secretId && CredentialEnv.SECRET_ID, !secretKey && CredentialEnv.SECRET_KEY].filter(Boolean);
  if (missing.length > 0) {
    throw new CredentialsError(
      `no Tencent Cloud credentials: set ${missing.join(' and ')} (and ${CredentialEnv.SECURITY_TOKEN} for temporary credentials), the same variables the Terraform provider reads`,
    );
  }
  const endpointOverride = env[ENDPOINT_ENV];
  const httpProfile = (service: string) => {
    if (!endpointOverride) return { endpoint: `${service}.tencentcloudapi.com` };
    const url = new URL(endpointOverride);
    // An explicit agent: without one the SDK sends even loopback requests through $http_proxy.
    return { endpoint: url.host, protocol: `${url.protocol}//`, agent: url.protocol === 'https:' ? new https.Agent() : new http.Agent() };
  };
  const credential = { secretId: secretId!, secretKey: secretKey!, token: env[CredentialEnv.SECURITY_TOKEN] || undefined };
  const apigw = new ApiGatewayClient({ credential, region, profile: { httpProfile: httpProfile('apigateway') } });
  const scf = new ScfClient({ credential, region, profile: { httpProfile: httpProfile('scf') } });
  const retried =
    <A, R>(what: string, fn: (a: A) => Promise<R>) =>
    (a: A) =>
      withRetry(what, () => fn(a), retry);
  return {
    describeApi: retried('DescribeApi', (r) => apigw.DescribeApi(r)),
    modifyApi: retried('ModifyApi', (r) => apigw.ModifyApi(r as never)),
    releaseService: retried('ReleaseService', (r) => apigw.ReleaseService(r)),
    getFunction: retried('GetFunction', (r) => scf.GetFunction(r)),
    updateFunctionConfiguration: retried('UpdateFunctionConfiguration', (r) => scf.UpdateFunctionConfiguration(r)),
  };
}
