/**
 * The post-deploy step's ModifyApi request, built from a DescribeApi answer: ModifyApiRequest's
 * own fields and types at every depth, no nulls, and the fingerprint that decides a release.
 * The SDK's models are read from the installed SDK's `.d.ts`, not from the step's own table.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { SDK_MODEL_FILES, readSdkModels } from '../../local/cloud-api/sdk-dts';
import { checkRequest } from '../../local/cloud-api/shapes';
import { ApiShapeError, apiFingerprint, modifyApiRequest, requestShape } from '../../scripts/post-deploy/bindings';

const MODELS = readSdkModels(createRequire(import.meta.url).resolve(SDK_MODEL_FILES.apigateway), ['ModifyApiRequest', 'ApiInfo']);

/**
 * A value of every field of a model, nested models included, with a null beside each array's
 * element: what a DescribeApi answer with everything set might hold.
 */
function sample(model: string): Record<string, unknown> {
  const value = (spec: string): unknown => {
    const type = spec.replace(/\?$/, '');
    if (type.endsWith('[]')) return [value(type.slice(0, -2)), null];
    if (type === 'string') return 's';
    if (type === 'number') return 1;
    if (type === 'boolean') return true;
    return sample(type);
  };
  return Object.fromEntries(Object.entries(MODELS[model]).map(([name, spec]) => [name, value(spec)]));
}

const live = () => ({
  ServiceId: 'service-1',
  ServiceName: 'chat',
  ApiId: 'api-1',
  ApiName: 'ws',
  ApiDesc: null,
  ApiType: 'NORMAL',
  AuthType: 'NONE',
  Protocol: 'WEBSOCKET',
  RequestConfig: { Path: '/', Method: 'GET' },
  ServiceType: 'SCF',
  ServiceTimeout: 600,
  CreatedTime: '2026-01-01T00:00:00Z',
  InternalDomain: 'https://push.example/api-1',
  ServiceConfig: { Product: null, UniqVpcId: null, Url: null, Path: null, Method: null, UpstreamId: null, CosConfig: null },
  OauthConfig: { PublicKey: null, TokenLocation: null, LoginRedirectUrl: null },
  ServiceTsfLoadBalanceConf: { IsLoadBalance: false, Method: null, SessionStickRequired: null, SessionStickTimeout: null },
  RequestParameters: [],
  ConstantParameters: null,
  Tags: [{ Key: 'k', Value: 'v' }],
  Environments: ['release'],
  MicroServicesInfo: [1],
  ServiceScfFunctionName: 'chat-transport',
  ServiceScfFunctionNamespace: 'default',
  ServiceScfFunctionQualifier: '$LATEST',
});

describe('the ModifyApi request built from DescribeApi', () => {
  it('carries every field ModifyApiRequest shares with ApiInfo, in the request’s shapes; the local Cloud API takes it', () => {
    const shaped = requestShape(sample('ApiInfo'));
    const shared = Object.keys(MODELS.ApiInfo).filter((name) => Object.hasOwn(MODELS.ModifyApiRequest, name));
    expect(Object.keys(shaped).sort()).toEqual(shared.sort());
    expect(JSON.stringify(shaped)).not.toContain('null');
    // ApiInfo's models become the request's: ServiceParameters loses nothing it declares, MicroServices keep their three ids
    expect(shaped.ServiceParameters).toEqual([sample('DescribeApiResultServiceParametersInfo')]);
    expect(Object.keys((shaped.ServiceParameters as object[])[0]).every((name) => Object.hasOwn(MODELS.ServiceParameter, name))).toBe(true);
    expect(shaped.MicroServices).toEqual([{ ClusterId: 's', NamespaceId: 's', MicroServiceName: 's' }]);
    expect(() => checkRequest(MODELS, 'ModifyApiRequest', shaped, 'ModifyApi')).not.toThrow();
  });

  it('drops nulls, empty objects and arrays, and fields ModifyApiRequest lacks, at every depth', () => {
    const request = modifyApiRequest(live(), { ServiceWebsocketRegisterFunctionName: 'chat-register' }, { ServiceScfFunctionType: 'EVENT' });
    expect(request).toEqual({
      ServiceId: 'service-1',
      ApiId: 'api-1',
      ApiName: 'ws',
      ApiType: 'NORMAL',
      AuthType: 'NONE',
      Protocol: 'WEBSOCKET',
      RequestConfig: { Path: '/', Method: 'GET' },
      ServiceType: 'SCF',
      ServiceTimeout: 600,
      ServiceTsfLoadBalanceConf: { IsLoadBalance: false },
      ServiceScfFunctionName: 'chat-transport',
      ServiceScfFunctionNamespace: 'default',
      ServiceScfFunctionQualifier: '$LATEST',
      ServiceWebsocketRegisterFunctionName: 'chat-register',
      ServiceScfFunctionType: 'EVENT',
    });
    expect(() => checkRequest(MODELS, 'ModifyApiRequest', request, 'ModifyApi')).not.toThrow();
  });

  it('refuses, naming the field, a value of another type or a nested object lacking a field the request requires', () => {
    expect(() => requestShape({ ...live(), ServiceTimeout: '600' })).toThrow(ApiShapeError);
    expect(() => requestShape({ ...live(), ServiceTimeout: '600' })).toThrow(/ServiceTimeout as "600", where ModifyApi takes a number/);
    expect(() => requestShape({ ...live(), ConstantParameters: [{ Name: 'a' }, { Name: 2 }] })).toThrow(/ConstantParameters\[1\]\.Name as 2/);
    expect(() => requestShape({ ...live(), OauthConfig: { PublicKey: 'key', TokenLocation: null } })).toThrow(/OauthConfig without OauthConfig\.TokenLocation/);
    expect(() => requestShape({ ...live(), MicroServices: [{ ClusterId: 'c', NamespaceId: null, MicroServiceName: 'm' }] })).toThrow(
      /MicroServices\[0\] without MicroServices\[0\]\.NamespaceId/,
    );
    const { ServiceTimeout: _t, ...noTimeout } = live();
    expect(() => modifyApiRequest(noTimeout, {}, {})).toThrow(/did not return ServiceTimeout, which ModifyApi requires/);
  });

  it('fingerprints the definition: not its times, push address or key order, but every field ModifyApi sets', () => {
    const base = apiFingerprint(live());
    expect(base).toMatch(/^[0-9a-f]{64}$/);
    const reordered = Object.fromEntries(Object.entries(live()).reverse());
    expect(apiFingerprint({ ...reordered, CreatedTime: '2027-01-01T00:00:00Z', ModifiedTime: 'now', InternalDomain: 'https://other' })).toBe(base);
    expect(apiFingerprint({ ...live(), ServiceTimeout: 300 })).not.toBe(base);
    expect(apiFingerprint({ ...live(), RequestConfig: { Path: '/chat', Method: 'GET' } })).not.toBe(base);
    expect(apiFingerprint({ ...live(), ServiceWebsocketCleanupFunctionName: 'chat-cleanup' })).not.toBe(base);
  });
});
