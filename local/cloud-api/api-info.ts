/**
 * The local gateway's API definitions in Cloud API field names: `ApiInfo` as DescribeApi answers
 * it, and a ModifyApi request turned into a definition.
 */
import type { ApiDef, FunctionRef } from './backends';
import { CloudApiError, CloudApiErrorCode } from './errors';
import { type Params, given, invalid, missing, optionalString, requiredNumber, requiredString } from './params';
import { APIGATEWAY_MODELS } from './sdk-models';
import { fullAnswer } from './shapes';

const DEFAULT_NAMESPACE = 'default';
const LATEST = '$LATEST';

/** The four function references of an API and the prefix of their `…Name/Namespace/Qualifier` fields. */
const REFERENCES = [
  ['scfFunction', 'ServiceScfFunction'],
  ['register', 'ServiceWebsocketRegisterFunction'],
  ['transport', 'ServiceWebsocketTransportFunction'],
  ['cleanup', 'ServiceWebsocketCleanupFunction'],
] as const satisfies ReadonlyArray<readonly [keyof ApiDef, string]>;

/** ModifyApi's fields that the local gateway keeps; the others the SDK declares are accepted and ignored. */
export const MODELED_MODIFY_FIELDS: ReadonlySet<string> = new Set([
  'ServiceId',
  'ApiId',
  'ApiName',
  'ServiceType',
  'ServiceTimeout',
  'Protocol',
  'RequestConfig',
  ...REFERENCES.flatMap(([, prefix]) => [`${prefix}Name`, `${prefix}Namespace`, `${prefix}Qualifier`]),
]);

/** Fields the local gateway does not keep but always behaves as: DescribeApi answers these values. */
export const FIXED_API_FIELDS: Readonly<Record<string, string>> = { ApiType: 'NORMAL', AuthType: 'NONE' };

/**
 * `ApiInfo` of a definition, with every field the SDK declares: the ones the local gateway keeps,
 * `ApiType` and `AuthType`, which it always behaves as (`NORMAL`, `NONE`), and null for the rest
 * (a nested model such as `ServiceConfig` or `OauthConfig` as that model with null fields), as the
 * cloud answers fields that are not set. A reference not set is null in its three fields.
 */
export function toApiInfo(api: ApiDef & { internalDomain: string }, serviceName?: string): Record<string, unknown> {
  const known: Record<string, unknown> = {
    ServiceId: api.serviceId,
    ServiceName: serviceName ?? null,
    ApiId: api.apiId,
    ApiName: api.apiName,
    ...FIXED_API_FIELDS,
    Protocol: api.protocol,
    RequestConfig: { Path: api.path, Method: api.method },
    ServiceType: api.serviceType,
    ServiceTimeout: api.serviceTimeout,
    // none for an API whose backend is a web function
    InternalDomain: api.internalDomain || null,
  };
  for (const [key, prefix] of REFERENCES) {
    const ref = api[key] as FunctionRef | undefined;
    known[`${prefix}Name`] = ref?.name ?? null;
    known[`${prefix}Namespace`] = ref?.namespace ?? null;
    known[`${prefix}Qualifier`] = ref?.qualifier ?? null;
  }
  return fullAnswer(APIGATEWAY_MODELS, 'ApiInfo', known);
}

/**
 * The definition a ModifyApi request asks for, once `checkRequest`
 * (shapes.ts) has passed it against `ModifyApiRequest`. Like the
 * cloud's (an assumption: the cloud does not document it), ModifyApi **replaces** the API:
 * a function reference not given is cleared. Only `ApiName` is kept when not given, since an API
 * always has a name. Required (the SDK marks `ServiceTimeout` and `Protocol` optional, but a
 * WebSocket API cannot do without them): ServiceId, ApiId, ServiceType, ServiceTimeout, Protocol,
 * RequestConfig{Path, Method}.
 */
export function fromModifyApi(params: Params, current: ApiDef): ApiDef {
  const serviceId = requiredString(params, 'ServiceId');
  const apiId = requiredString(params, 'ApiId');
  const serviceType = requiredString(params, 'ServiceType');
  const serviceTimeout = requiredNumber(params, 'ServiceTimeout');
  const protocol = requiredString(params, 'Protocol').toUpperCase();
  if (protocol !== 'WEBSOCKET') {
    throw new CloudApiError(CloudApiErrorCode.UNSUPPORTED_OPERATION, `\`Protocol\` ${JSON.stringify(protocol)}: the local gateway serves WEBSOCKET APIs only`);
  }
  // the request has been checked against ModifyApiRequest: RequestConfig is an object
  const requestConfig = params.RequestConfig as Params;
  const path = nestedString(requestConfig, 'RequestConfig', 'Path');
  const method = nestedString(requestConfig, 'RequestConfig', 'Method').toUpperCase();
  if (method !== 'GET') {
    throw invalid('RequestConfig.Method', `must be GET for a WEBSOCKET API, got ${JSON.stringify(method)}`, CloudApiErrorCode.INVALID_WS_METHOD);
  }
  const def: ApiDef = {
    serviceId,
    apiId,
    apiName: optionalString(params, 'ApiName') ?? current.apiName,
    path,
    method: 'GET',
    protocol: 'WEBSOCKET',
    serviceType,
    serviceTimeout,
  };
  for (const [key, prefix] of REFERENCES) {
    const ref = readReference(params, prefix);
    if (ref) def[key] = ref;
  }
  return def;
}

/** `<prefix>Name/Namespace/Qualifier` as a reference; the namespace defaults to `default`, the qualifier to `$LATEST`. */
function readReference(params: Params, prefix: string): FunctionRef | undefined {
  const name = optionalString(params, `${prefix}Name`);
  const namespace = optionalString(params, `${prefix}Namespace`);
  const qualifier = optionalString(params, `${prefix}Qualifier`);
  if (name === undefined) {
    // a namespace or qualifier alone would bind nothing: most likely a dropped name
    if (namespace !== undefined || qualifier !== undefined) throw missing(`${prefix}Name`);
    return undefined;
  }
  return { name, namespace: namespace ?? DEFAULT_NAMESPACE, qualifier: qualifier ?? LATEST };
}

function nestedString(parent: Params, parentName: string, name: string): string {
  const field = `${parentName}.${name}`;
  if (!given(parent, name)) throw missing(field);
  const value = parent[name];
  if (typeof value !== 'string' || value === '') throw invalid(field, `must be a non-empty string, got ${JSON.stringify(value)}`);
  return value;
}
