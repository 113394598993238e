/**
 * The local Cloud API (apigateway and scf actions over HTTP for tencentcloud-sdk-nodejs) and what it is built from.
 */
export { DEFAULT_HEADERS_TIMEOUT_MS, DEFAULT_REQUEST_TIMEOUT_MS, LocalCloudApi, type LocalCloudApiOptions } from './server.js';
export type { ApiGatewayBackend, ScfBackend, ScfConfigurationChange, ScfFunctionView } from './backends.js';
export { CloudApiError, CloudApiErrorCode, isCloudApiCode, toCloudApiError } from './errors.js';
export type { FaultOptions } from './faults.js';
export { APIGATEWAY_VERSION, apiGatewayProduct } from './apigateway.js';
export { SCF_VERSION, scfProduct } from './scf.js';
export { fromModifyApi, toApiInfo } from './api-info.js';
export { DEFAULT_CLOCK_SKEW_SECONDS, parseTc3Authorization, verifyTc3, type SignedRequest, type Tc3Verdict } from './signature.js';
