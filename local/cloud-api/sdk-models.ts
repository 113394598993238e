/**
 * The SDK's models that the local Cloud API checks requests against and answers in.
 * Each field's type: `string`, `number`, `boolean` or a model of this table, `[]` per
 * array level, `?` when optional.
 *
 * Generated from tencentcloud-sdk-nodejs 4.1.313 by `npx tsx local/cloud-api/gen-sdk-models.ts`;
 * do not edit. test/local/sdk-models.test.ts compares it with the installed SDK.
 */

import type { ModelTable } from './shapes';

/** apigateway v20180808 (apigateway_models.d.ts): DescribeApiRequest, ModifyApiRequest, ReleaseServiceRequest, ApiInfo and what they use. */
export const APIGATEWAY_MODELS: ModelTable = {
  DescribeApiRequest: {
    ServiceId: 'string', ApiId: 'string',
  },
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
  ReleaseServiceRequest: {
    ServiceId: 'string', EnvironmentName: 'string', ReleaseDesc: 'string', ApiIds: 'string[]?',
  },
  ApiInfo: {
    ServiceId: 'string?', ServiceName: 'string?', ServiceDesc: 'string?', ApiId: 'string?', ApiDesc: 'string?',
    CreatedTime: 'string?', ModifiedTime: 'string?', ApiName: 'string?', ApiType: 'string?', Protocol: 'string?',
    AuthType: 'string?', ApiBusinessType: 'string?', AuthRelationApiId: 'string?', OauthConfig: 'OauthConfig?',
    IsDebugAfterCharge: 'boolean?', RequestConfig: 'RequestConfig?', ResponseType: 'string?', ResponseSuccessExample: 'string?',
    ResponseFailExample: 'string?', ResponseErrorCodes: 'ErrorCodes[]?', RequestParameters: 'ReqParameter[]?',
    ServiceTimeout: 'number?', ServiceType: 'string?', ServiceConfig: 'ServiceConfig?',
    ServiceParameters: 'DescribeApiResultServiceParametersInfo[]?', ConstantParameters: 'ConstantParameter[]?',
    ServiceMockReturnMessage: 'string?', ServiceScfFunctionName: 'string?', ServiceScfFunctionNamespace: 'string?',
    ServiceScfFunctionQualifier: 'string?', ServiceScfIsIntegratedResponse: 'boolean?',
    ServiceWebsocketRegisterFunctionName: 'string?', ServiceWebsocketRegisterFunctionNamespace: 'string?',
    ServiceWebsocketRegisterFunctionQualifier: 'string?', ServiceWebsocketCleanupFunctionName: 'string?',
    ServiceWebsocketCleanupFunctionNamespace: 'string?', ServiceWebsocketCleanupFunctionQualifier: 'string?',
    InternalDomain: 'string?', ServiceWebsocketTransportFunctionName: 'string?',
    ServiceWebsocketTransportFunctionNamespace: 'string?', ServiceWebsocketTransportFunctionQualifier: 'string?',
    MicroServices: 'MicroService[]?', MicroServicesInfo: 'number[]?', ServiceTsfLoadBalanceConf: 'TsfLoadBalanceConfResp?',
    ServiceTsfHealthCheckConf: 'HealthCheckConf?', EnableCORS: 'boolean?', Tags: 'Tag[]?', Environments: 'string[]?',
    IsBase64Encoded: 'boolean?', IsBase64Trigger: 'boolean?', Base64EncodedTriggerRules: 'Base64EncodedTriggerRule[]?',
    ServiceScfEventIsAsyncCall: 'boolean?',
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
  ErrorCodes: {
    Code: 'number?', Msg: 'string?', Desc: 'string?', ConvertedCode: 'number?', NeedConvert: 'boolean?',
  },
  DescribeApiResultServiceParametersInfo: {
    Name: 'string?', Position: 'string?', RelevantRequestParameterPosition: 'string?', RelevantRequestParameterName: 'string?',
    DefaultValue: 'string?', RelevantRequestParameterDesc: 'string?',
  },
  MicroService: {
    ClusterId: 'string?', NamespaceId: 'string?', MicroServiceName: 'string?',
  },
  CosConfig: {
    Action: 'string', BucketName: 'string', Authorization: 'boolean?', PathMatchMode: 'string?',
  },
};

/** scf v20180416 (scf_models.d.ts): GetFunctionRequest, UpdateFunctionConfigurationRequest, CreateFunctionRequest, UpdateFunctionCodeRequest, DeleteFunctionRequest and what they use. */
export const SCF_MODELS: ModelTable = {
  GetFunctionRequest: {
    FunctionName: 'string?', Qualifier: 'string?', Namespace: 'string?', ShowCode: 'string?',
  },
  UpdateFunctionConfigurationRequest: {
    FunctionName: 'string', Description: 'string?', MemorySize: 'number?', Timeout: 'number?', Runtime: 'string?',
    Environment: 'Environment?', Namespace: 'string?', VpcConfig: 'VpcConfig?', Role: 'string?', InstallDependency: 'string?',
    ClsLogsetId: 'string?', ClsTopicId: 'string?', Publish: 'string?', L5Enable: 'string?', Layers: 'LayerVersionSimple[]?',
    DeadLetterConfig: 'DeadLetterConfig?', PublicNetConfig: 'PublicNetConfigIn?', CfsConfig: 'CfsConfig?', InitTimeout: 'number?',
    ProtocolParams: 'ProtocolParams?', InstanceConcurrencyConfig: 'InstanceConcurrencyConfig?', DnsCache: 'string?',
    IntranetConfig: 'IntranetConfigIn?', IgnoreSysLog: 'boolean?',
  },
  CreateFunctionRequest: {
    FunctionName: 'string', Code: 'Code', Handler: 'string?', Description: 'string?', MemorySize: 'number?', Timeout: 'number?',
    Environment: 'Environment?', Runtime: 'string?', VpcConfig: 'VpcConfig?', Namespace: 'string?', Role: 'string?',
    InstallDependency: 'string?', ClsLogsetId: 'string?', ClsTopicId: 'string?', Type: 'string?', CodeSource: 'string?',
    Layers: 'LayerVersionSimple[]?', DeadLetterConfig: 'DeadLetterConfig?', PublicNetConfig: 'PublicNetConfigIn?',
    CfsConfig: 'CfsConfig?', InitTimeout: 'number?', Tags: 'Tag[]?', AsyncRunEnable: 'string?', TraceEnable: 'string?',
    AutoDeployClsTopicIndex: 'string?', AutoCreateClsTopic: 'string?', ProtocolType: 'string?', ProtocolParams: 'ProtocolParams?',
    InstanceConcurrencyConfig: 'InstanceConcurrencyConfig?', DnsCache: 'string?', IntranetConfig: 'IntranetConfigIn?',
  },
  UpdateFunctionCodeRequest: {
    FunctionName: 'string', Handler: 'string?', CosBucketName: 'string?', CosObjectName: 'string?', ZipFile: 'string?',
    Namespace: 'string?', CosBucketRegion: 'string?', InstallDependency: 'string?', EnvId: 'string?', Publish: 'string?',
    Code: 'Code?', CodeSource: 'string?',
  },
  DeleteFunctionRequest: {
    FunctionName: 'string', Namespace: 'string?', Qualifier: 'string?',
  },
  Environment: {
    Variables: 'Variable[]?',
  },
  VpcConfig: {
    VpcId: 'string?', SubnetId: 'string?',
  },
  LayerVersionSimple: {
    LayerName: 'string', LayerVersion: 'number',
  },
  DeadLetterConfig: {
    Type: 'string', Name: 'string', FilterType: 'string?',
  },
  PublicNetConfigIn: {
    PublicNetStatus: 'string', EipConfig: 'EipConfigIn?',
  },
  CfsConfig: {
    CfsInsList: 'CfsInsInfo[]',
  },
  ProtocolParams: {
    WSParams: 'WSParams?',
  },
  InstanceConcurrencyConfig: {
    DynamicEnabled: 'string?', MaxConcurrency: 'number?', InstanceIsolationEnabled: 'string?', Type: 'string?',
    MixNodeConfig: 'MixNodeConfig[]?', SessionConfig: 'SessionConfig?',
  },
  IntranetConfigIn: {
    IpFixed: 'string',
  },
  Code: {
    CosBucketName: 'string?', CosObjectName: 'string?', ZipFile: 'string?', CosBucketRegion: 'string?', DemoId: 'string?',
    TempCosObjectName: 'string?', GitUrl: 'string?', GitUserName: 'string?', GitPassword: 'string?', GitPasswordSecret: 'string?',
    GitBranch: 'string?', GitDirectory: 'string?', GitCommitId: 'string?', GitUserNameSecret: 'string?',
    ImageConfig: 'ImageConfig?',
  },
  Tag: {
    Key: 'string', Value: 'string',
  },
  Variable: {
    Key: 'string?', Value: 'string?',
  },
  EipConfigIn: {
    EipStatus: 'string',
  },
  CfsInsInfo: {
    UserId: 'string', UserGroupId: 'string', CfsId: 'string', MountInsId: 'string', LocalMountDir: 'string',
    RemoteMountDir: 'string', IpAddress: 'string?', MountVpcId: 'string?', MountSubnetId: 'string?',
  },
  WSParams: {
    IdleTimeOut: 'number?',
  },
  MixNodeConfig: {
    NodeSpec: 'string?', Num: 'number?',
  },
  SessionConfig: {
    SessionSource: 'string?', SessionName: 'string?', MaximumConcurrencySessionPerInstance: 'number?',
    MaximumTTLInSeconds: 'number?', MaximumIdleTimeInSeconds: 'number?', SessionPath: 'string?', IdleTimeoutStrategy: 'string?',
  },
  ImageConfig: {
    ImageType: 'string', ImageUri: 'string', RegistryId: 'string?', EntryPoint: 'string?', Command: 'string?', Args: 'string?',
    ContainerImageAccelerate: 'boolean?', ImagePort: 'number?',
  },
};
