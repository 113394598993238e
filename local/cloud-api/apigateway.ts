/**
 * API Gateway (apigateway, 2018-08-08): DescribeApi, ModifyApi and ReleaseService on a local gateway.
 */
import { ENVIRONMENTS } from '../gateway/model.js';
import { MODELED_MODIFY_FIELDS, fromModifyApi, toApiInfo } from './api-info.js';
import type { ApiDef, ApiGatewayBackend } from './backends.js';
import { CloudApiError, CloudApiErrorCode } from './errors.js';
import { type Params, given, invalid, missing, refuseUnknown, requiredString } from './params.js';
import type { Product } from './product.js';

export const APIGATEWAY_VERSION = '2018-08-08';

/** Request fields of each action, from the SDK's models (apigateway_models.d.ts). */
const DESCRIBE_API_PARAMS = new Set(['ServiceId', 'ApiId']);
const RELEASE_SERVICE_PARAMS = new Set(['ServiceId', 'EnvironmentName', 'ReleaseDesc', 'ApiIds']);
const MODIFY_API_PARAMS = new Set([
  'ServiceId', 'ServiceType', 'RequestConfig', 'ApiId', 'ApiName', 'ApiDesc', 'ApiType', 'AuthType', 'AuthRequired',
  'ServiceTimeout', 'Protocol', 'EnableCORS', 'ConstantParameters', 'RequestParameters', 'ApiBusinessType',
  'ServiceMockReturnMessage', 'MicroServices', 'ServiceTsfLoadBalanceConf', 'ServiceTsfHealthCheckConf',
  'TargetServicesLoadBalanceConf', 'TargetServicesHealthCheckConf', 'ServiceScfFunctionName', 'ServiceWebsocketRegisterFunctionName',
  'ServiceWebsocketCleanupFunctionName', 'ServiceWebsocketTransportFunctionName', 'ServiceScfFunctionNamespace',
  'ServiceScfFunctionQualifier', 'ServiceWebsocketRegisterFunctionNamespace', 'ServiceWebsocketRegisterFunctionQualifier',
  'ServiceWebsocketTransportFunctionNamespace', 'ServiceWebsocketTransportFunctionQualifier', 'ServiceWebsocketCleanupFunctionNamespace',
  'ServiceWebsocketCleanupFunctionQualifier', 'ServiceScfIsIntegratedResponse', 'IsDebugAfterCharge', 'TagSpecifications',
  'IsDeleteResponseErrorCodes', 'ResponseType', 'ResponseSuccessExample', 'ResponseFailExample', 'ServiceConfig',
  'AuthRelationApiId', 'ServiceParameters', 'OauthConfig', 'ResponseErrorCodes', 'IsBase64Encoded', 'IsBase64Trigger',
  'Base64EncodedTriggerRules', 'EventBusId', 'ServiceScfFunctionType', 'ServiceScfEventIsAsyncCall', 'EIAMAppType',
  'EIAMAuthType', 'EIAMAppId', 'TokenTimeout',
]);

/**
 * The apigateway actions on `gateway`. Fields a request may carry but the local gateway does not
 * model (CORS, descriptions, parameters…) are accepted and logged as ignored, so that a caller
 * sending back everything DescribeApi gave it works as against the cloud.
 */
export function apiGatewayProduct(gateway: ApiGatewayBackend, log: (line: string) => void): Product {
  /** The draft of an API of a service; the cloud's not-found codes otherwise. */
  const requireApi = (serviceId: string, apiId: string): ApiDef & { internalDomain: string } => {
    if (gateway.describeService && !gateway.describeService(serviceId)) {
      throw new CloudApiError(CloudApiErrorCode.INVALID_SERVICE, `service ${serviceId} does not exist`);
    }
    const api = gateway.describeApi(apiId);
    if (!api || api.serviceId !== serviceId) throw new CloudApiError(CloudApiErrorCode.INVALID_API, `service ${serviceId} has no API ${apiId}`);
    return api;
  };

  return {
    name: 'apigateway',
    version: APIGATEWAY_VERSION,
    actions: {
      DescribeApi(params: Params) {
        refuseUnknown(params, DESCRIBE_API_PARAMS, 'DescribeApi');
        const serviceId = requiredString(params, 'ServiceId');
        const api = requireApi(serviceId, requiredString(params, 'ApiId'));
        return { Result: toApiInfo(api, gateway.describeService?.(serviceId)?.serviceName) };
      },

      ModifyApi(params: Params) {
        refuseUnknown(params, MODIFY_API_PARAMS, 'ModifyApi');
        const current = requireApi(requiredString(params, 'ServiceId'), requiredString(params, 'ApiId'));
        const def = fromModifyApi(params, current);
        const ignored = Object.keys(params).filter((name) => !MODELED_MODIFY_FIELDS.has(name) && given(params, name));
        if (ignored.length) log(`ModifyApi ${def.apiId}: not modeled locally, ignored: ${ignored.join(', ')}`);
        gateway.modifyApi(def.apiId, def);
        // The SDK's ModifyApiResponse has nothing but the RequestId.
        return {};
      },

      ReleaseService(params: Params) {
        refuseUnknown(params, RELEASE_SERVICE_PARAMS, 'ReleaseService');
        const serviceId = requiredString(params, 'ServiceId');
        const environment = requiredString(params, 'EnvironmentName');
        if (!given(params, 'ReleaseDesc')) throw missing('ReleaseDesc');
        const description = params.ReleaseDesc;
        if (typeof description !== 'string') throw invalid('ReleaseDesc', `must be a string, got ${JSON.stringify(description)}`);
        if (!(ENVIRONMENTS as readonly string[]).includes(environment)) {
          throw invalid('EnvironmentName', `must be one of ${ENVIRONMENTS.join(', ')}, got ${JSON.stringify(environment)}`, CloudApiErrorCode.INVALID_ENV);
        }
        // "Reserved, every API is released by default", says the model; so it is here.
        if (given(params, 'ApiIds')) log(`ReleaseService ${serviceId}: ApiIds ignored, every API of the service is released`);
        gateway.releaseService(serviceId, environment, description);
        return { Result: { ReleaseDesc: description, ReleaseVersion: releaseVersion(new Date()) } };
      },
    },
  };
}

/** A release's version id: its UTC time as digits down to the millisecond, e.g. `20260101120000123`. */
function releaseVersion(at: Date): string {
  return at.toISOString().replace(/\D/g, '');
}
