/**
 * apigateway v20180808's `ModifyApiRequest` and the models it uses: what the post-deploy step's ModifyApi may carry.
 * Each field's type: `string`, `number`, `boolean` or a model of this table, `[]` per
 * array level, `?` when optional.
 *
 * Generated from tencentcloud-sdk-nodejs 4.1.313 by `npx tsx local/cloud-api/gen-sdk-models.ts`;
 * do not edit. test/local/sdk-models.test.ts compares it with the installed SDK.
 */

/** Models by name, each its fields by name. */
export const MODIFY_API_MODELS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  ModifyApiRequest: {
    ServiceId: 'string', ServiceType: 'string', RequestConfig: 'RequestConfig', ApiId: 'string', ApiName: 'string?',
    ApiDesc: 'string?', ApiType: 'string?', AuthType: 'string?', AuthRequired: 'boolean?', ServiceTimeout: 'number?',
    Protocol: 'string?', EnableCORS: 'boolean?', ConstantParameters: 'ConstantParameter[]?', RequestParameters: 'ReqParameter[]?',
    ApiBusinessType: 'string?', ServiceMockReturnMessage: 'string?', MicroServices: 'MicroServiceReq[]?',
    ServiceTsfLoadBalanceConf: 'TsfLoadBalanceConfResp?', ServiceTsfHealthCheckConf: 'HealthCheckConf?',
    TargetServicesLoadBalanceConf: 'number?', TargetServicesHealthCheckConf: 'HealthCheckConf?',
    ServiceScfFunctionName: 'string?', ServiceWebsocketRegisterFunctionName: 'string?',
    ServiceWebsocketCleanupFunctionName: 'string?', ServiceWebsocketTransportFunctionName: 'string?',
    ServiceScfFunctionNamespace: 'string?', ServiceScfFunctionQualifier: 'string?',
    ServiceWebsocketRegisterFunctionNamespace: 'string?', ServiceWebsocketRegisterFunctionQualifier: 'string?',
    ServiceWebsocketTransportFunctionNamespace: 'string?', ServiceWebsocketTransportFunctionQualifier: 'string?',
    ServiceWebsocketCleanupFunctionNamespace: 'string?', ServiceWebsocketCleanupFunctionQualifier: 'string?',
    ServiceScfIsIntegratedResponse: 'boolean?', IsDebugAfterCharge: 'boolean?', TagSpecifications: 'Tag?',
    IsDeleteResponseErrorCodes: 'boolean?', ResponseType: 'string?', ResponseSuccessExample: 'string?',
    ResponseFailExample: 'string?', ServiceConfig: 'ServiceConfig?', AuthRelationApiId: 'string?',
    ServiceParameters: 'ServiceParameter[]?', OauthConfig: 'OauthConfig?', ResponseErrorCodes: 'ResponseErrorCodeReq[]?',
    IsBase64Encoded: 'boolean?', IsBase64Trigger: 'boolean?', Base64EncodedTriggerRules: 'Base64EncodedTriggerRule[]?',
    EventBusId: 'string?', ServiceScfFunctionType: 'string?', ServiceScfEventIsAsyncCall: 'boolean?', EIAMAppType: 'string?',
    EIAMAuthType: 'string?', EIAMAppId: 'string?', TokenTimeout: 'number?',
  },
  RequestConfig: {
    Path: 'string', Method: 'string',
  },
  ConstantParameter: {
    Name: 'string?', Desc: 'string?', Position: 'string?', DefaultValue: 'string?',
  },
  ReqParameter: {
    Name: 'string', Position: 'string', Type: 'string', DefaultValue: 'string', Required: 'boolean', Desc: 'string',
  },
  MicroServiceReq: {
    ClusterId: 'string', NamespaceId: 'string', MicroServiceName: 'string',
  },
  TsfLoadBalanceConfResp: {
    IsLoadBalance: 'boolean?', Method: 'string?', SessionStickRequired: 'boolean?', SessionStickTimeout: 'number?',
  },
  HealthCheckConf: {
    IsHealthCheck: 'boolean?', RequestVolumeThreshold: 'number?', SleepWindowInMilliseconds: 'number?',
    ErrorThresholdPercentage: 'number?',
  },
  Tag: {
    Key: 'string', Value: 'string',
  },
  ServiceConfig: {
    Product: 'string?', UniqVpcId: 'string?', Url: 'string?', Path: 'string?', Method: 'string?', UpstreamId: 'string?',
    CosConfig: 'CosConfig?',
  },
  ServiceParameter: {
    Name: 'string?', Position: 'string?', RelevantRequestParameterPosition: 'string?', RelevantRequestParameterName: 'string?',
    DefaultValue: 'string?', RelevantRequestParameterDesc: 'string?', RelevantRequestParameterType: 'string?',
  },
  OauthConfig: {
    PublicKey: 'string', TokenLocation: 'string', LoginRedirectUrl: 'string?',
  },
  ResponseErrorCodeReq: {
    Code: 'number?', Msg: 'string?', Desc: 'string?', ConvertedCode: 'number?', NeedConvert: 'boolean?',
  },
  Base64EncodedTriggerRule: {
    Name: 'string', Value: 'string[]',
  },
  CosConfig: {
    Action: 'string', BucketName: 'string', Authorization: 'boolean?', PathMatchMode: 'string?',
  },
};
