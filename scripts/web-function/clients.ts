/**
 * The Cloud API calls the web function script makes (tencentcloud-sdk-nodejs, scf 2018-04-16 and
 * apigateway 2018-08-08), with the provider's credential variables and the post-deploy step's
 * retries for throttling and transient errors.
 */
import http from 'node:http';
import https from 'node:https';
// Deep imports: the package's index loads every service.
import { Client as ApiGatewayClient } from 'tencentcloud-sdk-nodejs/tencentcloud/services/apigateway/v20180808/apigateway_client';
import { Client as ScfClient } from 'tencentcloud-sdk-nodejs/tencentcloud/services/scf/v20180416/scf_client';
import type {
  CreateFunctionRequest,
  DeleteFunctionRequest,
  GetFunctionRequest,
  GetFunctionResponse,
  UpdateFunctionCodeRequest,
  UpdateFunctionConfigurationRequest,
} from 'tencentcloud-sdk-nodejs/tencentcloud/services/scf/v20180416/scf_models';
import { CredentialEnv, CredentialsError, ENDPOINT_ENV, withRetry, type RetryOptions } from '../post-deploy/clients';

/** The calls the script makes. */
export interface WebFunctionApi {
  getFunction(req: GetFunctionRequest): Promise<GetFunctionResponse>;
  createFunction(req: CreateFunctionRequest): Promise<unknown>;
  updateFunctionCode(req: UpdateFunctionCodeRequest): Promise<unknown>;
  updateFunctionConfiguration(req: UpdateFunctionConfigurationRequest): Promise<unknown>;
  deleteFunction(req: DeleteFunctionRequest): Promise<unknown>;
  describeApi(req: { ServiceId: string; ApiId: string }): Promise<{ Result?: Record<string, unknown> }>;
  releaseService(req: { ServiceId: string; EnvironmentName: string; ReleaseDesc: string }): Promise<{ Result?: { ReleaseVersion?: string } }>;
}

/** Builds the clients; throws {@link CredentialsError} naming what is missing. */
export function createWebFunctionApi(region: string, env: NodeJS.ProcessEnv = process.env, retry: RetryOptions = {}): WebFunctionApi {
  const secretId = env[CredentialEnv.SECRET_ID];
  const secretKey = env[CredentialEnv.SECRET_KEY];
  const missing = [!secretId && CredentialEnv.SECRET_ID, !secretKey && CredentialEnv.SECRET_KEY].filter(Boolean);
  if (missing.length > 0) {
    throw new CredentialsError(
      `no Tencent Cloud credentials: set ${missing.join(' and ')} (and ${CredentialEnv.SECURITY_TOKEN} for temporary credentials), the same variables the Terraform provider reads`,
    );
  }
  const override = env[ENDPOINT_ENV];
  const httpProfile = (service: string) => {
    if (!override) return { endpoint: `${service}.tencentcloudapi.com` };
    const url = new URL(override);
    // An explicit agent: without one the SDK sends even loopback requests through $http_proxy.
    return { endpoint: url.host, protocol: `${url.protocol}//`, agent: url.protocol === 'https:' ? new https.Agent() : new http.Agent() };
  };
  const credential = { secretId: secretId!, secretKey: secretKey!, token: env[CredentialEnv.SECURITY_TOKEN] || undefined };
  // Code uploads travel in the request body (base64): give them longer than the default 60 s.
  const scf = new ScfClient({ credential, region, profile: { httpProfile: { ...httpProfile('scf'), reqTimeout: 120 } } });
  const apigw = new ApiGatewayClient({ credential, region, profile: { httpProfile: httpProfile('apigateway') } });
  const retried =
    <A, R>(what: string, fn: (a: A) => Promise<R>) =>
    (a: A) =>
      withRetry(what, () => fn(a), retry);
  return {
    getFunction: retried('GetFunction', (r) => scf.GetFunction(r)),
    // Not retried on a conflict: ResourceInUse is not transient (the script adopts instead).
    createFunction: retried('CreateFunction', (r) => scf.CreateFunction(r)),
    updateFunctionCode: retried('UpdateFunctionCode', (r) => scf.UpdateFunctionCode(r)),
    updateFunctionConfiguration: retried('UpdateFunctionConfiguration', (r) => scf.UpdateFunctionConfiguration(r)),
    deleteFunction: retried('DeleteFunction', (r) => scf.DeleteFunction(r)),
    describeApi: retried('DescribeApi', (r) => apigw.DescribeApi(r) as Promise<{ Result?: Record<string, unknown> }>),
    releaseService: retried('ReleaseService', (r) => apigw.ReleaseService(r) as Promise<{ Result?: { ReleaseVersion?: string } }>),
  };
}
