/**
 * API Gateway (apigateway, 2018-08-08): DescribeApi, ModifyApi and ReleaseService on a local gateway.
 */
import { ENVIRONMENTS } from '../gateway/model';
import { FIXED_API_FIELDS, MODELED_MODIFY_FIELDS, fromModifyApi, toApiInfo } from './api-info';
import type { ApiDef, ApiGatewayBackend } from './backends';
import { CloudApiError, CloudApiErrorCode } from './errors';
import { type Params, given, invalid, requiredString } from './params';
import type { Product } from './product';
import { APIGATEWAY_MODELS } from './sdk-models';
import { checkRequest } from './shapes';

export const APIGATEWAY_VERSION = '2018-08-08';

/**
 * The apigateway actions on `gateway`. Each request is checked against its SDK model first
 * (`checkRequest`): fields the model lacks, and values of the wrong type, are refused as the cloud
 * refuses them. Fields the model declares but the local gateway does not keep (CORS,
 * descriptions, parameters…) are accepted and logged as ignored.
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
        checkRequest(APIGATEWAY_MODELS, 'DescribeApiRequest', params, 'DescribeApi');
        const serviceId = requiredString(params, 'ServiceId');
        const api = requireApi(serviceId, requiredString(params, 'ApiId'));
        return { Result: toApiInfo(api, gateway.describeService?.(serviceId)?.serviceName) };
      },

      ModifyApi(params: Params) {
        checkRequest(APIGATEWAY_MODELS, 'ModifyApiRequest', params, 'ModifyApi');
        const current = requireApi(requiredString(params, 'ServiceId'), requiredString(params, 'ApiId'));
        const def = fromModifyApi(params, current);
        // what DescribeApi answered, sent back unchanged, is no news
        const ignored = Object.keys(params).filter(
          (name) => !MODELED_MODIFY_FIELDS.has(name) && given(params, name) && params[name] !== FIXED_API_FIELDS[name],
        );
        if (ignored.length) log(`ModifyApi ${def.apiId}: not modeled locally, ignored: ${ignored.join(', ')}`);
        gateway.modifyApi(def.apiId, def);
        // The SDK's ModifyApiResponse has nothing but the RequestId.
        return {};
      },

      ReleaseService(params: Params) {
        checkRequest(APIGATEWAY_MODELS, 'ReleaseServiceRequest', params, 'ReleaseService');
        const serviceId = requiredString(params, 'ServiceId');
        const environment = requiredString(params, 'EnvironmentName');
        const description = params.ReleaseDesc as string;
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
