/**
 * Errors of the local Cloud API: the ones answered to a client as Cloud API 3.0 error codes, and
 * the ones thrown at the host for misuse (a taken port, a bad fault to inject).
 */

import { CodedError, describeError } from '../coded-error';

/** A failure with a `code` to branch on: a Cloud API error code when answered, `ERR_*`/`EADDRINUSE` when thrown at the host. */
export class CloudApiError extends CodedError {}

/**
 * The codes this server answers with. The common ones are Cloud API 3.0's public error codes; the
 * product ones appear in the products' error-code lists (apigateway v20180808, scf v20180416).
 */
export const CloudApiErrorCode = {
  /** No Authorization, or not the `TC3-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…` form. */
  INVALID_AUTHORIZATION: 'AuthFailure.InvalidAuthorization',
  SECRET_ID_NOT_FOUND: 'AuthFailure.SecretIdNotFound',
  SIGNATURE_FAILURE: 'AuthFailure.SignatureFailure',
  /** X-TC-Timestamp further from the server clock than the allowed skew (five minutes, as the cloud). */
  SIGNATURE_EXPIRE: 'AuthFailure.SignatureExpire',
  /** A temporary credential without its X-TC-Token, a wrong token, or a token for a permanent key. */
  TOKEN_FAILURE: 'AuthFailure.TokenFailure',
  INVALID_ACTION: 'InvalidAction',
  NO_SUCH_VERSION: 'NoSuchVersion',
  MISSING_PARAMETER: 'MissingParameter',
  INVALID_PARAMETER: 'InvalidParameter',
  INVALID_PARAMETER_VALUE: 'InvalidParameterValue',
  UNKNOWN_PARAMETER: 'UnknownParameter',
  UNSUPPORTED_OPERATION: 'UnsupportedOperation',
  /** An HTTP method other than GET and POST. */
  UNSUPPORTED_PROTOCOL: 'UnsupportedProtocol',
  REQUEST_SIZE_LIMIT_EXCEEDED: 'RequestSizeLimitExceeded',
  INTERNAL_ERROR: 'InternalError',

  // apigateway v20180808
  INVALID_SERVICE: 'ResourceNotFound.InvalidService',
  INVALID_API: 'ResourceNotFound.InvalidApi',
  /** "Its valid values are (release, prepub, test)". */
  INVALID_ENV: 'InvalidParameterValue.InvalidEnv',
  /** "For backend services in the WEBSOCKET type, the frontend method should be configured as GET." */
  INVALID_WS_METHOD: 'InvalidParameterValue.InvalidWSMethod',

  // scf v20180416
  FUNCTION_NOT_FOUND: 'ResourceNotFound.Function',
  FUNCTION_VERSION_NOT_FOUND: 'ResourceNotFound.FunctionVersion',
  INVALID_ENVIRONMENT: 'InvalidParameterValue.Environment',
  /** "You cannot modify the function's system environment variables or runtime environment variables." */
  ENVIRONMENT_SYSTEM_PROTECT: 'InvalidParameterValue.EnvironmentSystemProtect',
  UPDATE_CONFIGURATION_FAILED: 'FailedOperation.UpdateFunctionConfiguration',
  /** CreateFunction of a name the namespace has. */
  FUNCTION_EXISTS: 'ResourceInUse.Function',
  CREATE_FUNCTION_FAILED: 'FailedOperation.CreateFunction',
  UPDATE_CODE_FAILED: 'FailedOperation.UpdateFunctionCode',
  DELETE_FUNCTION_FAILED: 'FailedOperation.DeleteFunction',

  // host-side misuse, never answered
  ADDRESS_IN_USE: 'EADDRINUSE',
  NOT_STARTED: 'ERR_NOT_STARTED',
  INVALID_ARGUMENT: 'ERR_INVALID_ARGUMENT',
} as const;

/** The shape of a Cloud API error code: `Word` or `Word.Word…`, e.g. `ResourceNotFound.InvalidApi`. */
const CODE_SHAPE = /^[A-Z][a-z][A-Za-z0-9]*(\.[A-Za-z0-9]+)*$/;

/** Whether `code` looks like a Cloud API error code (and not `ERR_…` or `EADDRINUSE`). */
export function isCloudApiCode(code: unknown): code is string {
  return typeof code === 'string' && CODE_SHAPE.test(code);
}

/**
 * Any thrown value as an error to answer. Errors already carrying a Cloud API code (the local
 * gateway's are such) keep it; anything else is an `InternalError` with its message.
 */
export function toCloudApiError(err: unknown): CloudApiError {
  if (err instanceof CloudApiError && isCloudApiCode(err.code)) return err;
  const code = (err as { code?: unknown } | null)?.code;
  if (isCloudApiCode(code)) return new CloudApiError(code, err instanceof Error ? err.message : String(err), { cause: err });
  // The failure's own code, when it has one, stays in the message.
  return new CloudApiError(CloudApiErrorCode.INTERNAL_ERROR, `the local Cloud API failed: ${describeError(err)}`, { cause: err });
}
