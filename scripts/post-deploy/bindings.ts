/**
 * The API's three WebSocket bindings: what the stack declares, what the live API has, and the
 * ModifyApi request that changes only them.
 */
import type { PostDeployInput } from './inputs';

const ROLES = ['Register', 'Transport', 'Cleanup'] as const;
const PARTS = ['Name', 'Namespace', 'Qualifier'] as const;

/** The nine ServiceWebsocket* fields as the stack declares them. */
export function declaredBindings(input: PostDeployInput): Record<string, string> {
  const names = { Register: input.functions.register, Transport: input.functions.transport, Cleanup: input.functions.cleanup };
  const fields: Record<string, string> = {};
  for (const role of ROLES) {
    fields[`ServiceWebsocket${role}FunctionName`] = names[role];
    fields[`ServiceWebsocket${role}FunctionNamespace`] = input.namespace;
    fields[`ServiceWebsocket${role}FunctionQualifier`] = input.qualifier;
  }
  return fields;
}

/** The fields whose live value differs from the declared one, as `field: live -> declared`. */
export function bindingDifferences(api: Record<string, unknown>, declared: Record<string, string>): string[] {
  return Object.entries(declared)
    .filter(([field, value]) => (api[field] ?? '') !== value)
    .map(([field, value]) => `${field}: ${JSON.stringify(api[field] ?? null)} -> ${JSON.stringify(value)}`);
}

// ModifyApi replaces the API's definition: every field it takes that the live API has is sent back
// unchanged, so that only the bindings change. DescribeApi's `ApiInfo` and ModifyApi share these names.
const CARRIED = [
  'ServiceId', 'ServiceType', 'RequestConfig', 'ApiId', 'ApiName', 'ApiDesc', 'ApiType', 'AuthType', 'ServiceTimeout', 'Protocol',
  'EnableCORS', 'ConstantParameters', 'RequestParameters', 'ApiBusinessType', 'ServiceMockReturnMessage', 'MicroServices',
  'ServiceTsfLoadBalanceConf', 'ServiceTsfHealthCheckConf', 'ServiceScfFunctionName', 'ServiceScfFunctionNamespace',
  'ServiceScfFunctionQualifier', 'ServiceScfIsIntegratedResponse', 'IsDebugAfterCharge', 'ResponseType', 'ResponseSuccessExample',
  'ResponseFailExample', 'ServiceConfig', 'AuthRelationApiId', 'ServiceParameters', 'OauthConfig', 'ResponseErrorCodes',
  'IsBase64Encoded', 'IsBase64Trigger', 'Base64EncodedTriggerRules', 'ServiceScfEventIsAsyncCall',
  ...ROLES.flatMap((role) => PARTS.map((part) => `ServiceWebsocket${role}Function${part}`)),
];

/** Required by ModifyApi; a live API missing one cannot be modified safely. */
const REQUIRED = ['ServiceId', 'ServiceType', 'ServiceTimeout', 'Protocol', 'RequestConfig', 'ApiId'];

/** The ModifyApi request: the live API as it is, with the declared bindings. */
export function modifyApiRequest(api: Record<string, unknown>, declared: Record<string, string>): Record<string, unknown> {
  const request: Record<string, unknown> = {};
  for (const field of CARRIED) {
    const value = api[field];
    if (value !== undefined && value !== null && !(Array.isArray(value) && value.length === 0)) request[field] = value;
  }
  Object.assign(request, declared);
  const missing = REQUIRED.filter((f) => request[f] === undefined);
  if (missing.length > 0) throw new Error(`DescribeApi did not return ${missing.join(', ')}, which ModifyApi requires; the API was not changed`);
  return request;
}
