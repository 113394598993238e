/**
 * The local Cloud API with the real tencentcloud-sdk-nodejs clients, in front of a real local
 * gateway and SCF runtime running the real function zips, the gateway's API left as the Terraform
 * provider leaves it: no WebSocket bindings.
 */
import { createHash, createHmac } from 'node:crypto';
import { Agent } from 'node:http';
import { connect } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { strToU8, zipSync } from 'fflate';
import COS from 'cos-nodejs-sdk-v5';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommonClient } from 'tencentcloud-sdk-nodejs/tencentcloud/common/common_client';
import { Client as ApiGatewayClient } from 'tencentcloud-sdk-nodejs/tencentcloud/services/apigateway/v20180808/apigateway_client';
import { Client as ScfClient } from 'tencentcloud-sdk-nodejs/tencentcloud/services/scf/v20180416/scf_client';
import { readInstalledSdkModels } from '../../local/cloud-api/sdk-dts';
import { LocalCloudApi } from '../../local/cloud-api/server';
import { verifyTc3 } from '../../local/cloud-api/signature';
import { type LocalCredential, randomCredential } from '../../local/credentials';
import { LocalGateway } from '../../local/gateway/gateway';
import { LocalScf } from '../../local/scf/runtime';
import { ROLES, RUNTIME } from '../../scripts/bundle';
import { bundleChat } from '../support/bundles';
import { ChatClient, HandshakeRefused } from '../support/chat-client';
import { LocalServices } from '../../local/services';

const REGION = 'ap-guangzhou';
const SERVICE = 'service-cloudapi1';
const API = 'api-cloudapi1';
const fn = (name: string) => `chat-c-${name}`;

// The SDK's own signer, for requests the clients would never send (old timestamps, tampered bodies).
const Sign = createRequire(import.meta.url)('tencentcloud-sdk-nodejs/tencentcloud/common/sign').default as {
  sign3(options: Record<string, unknown>): string;
};

/** The three WebSocket bindings as ModifyApi fields. */
function bindings(roles: Array<'Register' | 'Transport' | 'Cleanup'> = ['Register', 'Transport', 'Cleanup']): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const role of roles) {
    fields[`ServiceWebsocket${role}FunctionName`] = fn(role.toLowerCase());
    fields[`ServiceWebsocket${role}FunctionNamespace`] = 'default';
    fields[`ServiceWebsocket${role}FunctionQualifier`] = '$LATEST';
  }
  return fields;
}

/** A complete ModifyApi request for the test API. */
const modifyRequest = (extra: Record<string, unknown> = {}) => ({
  ServiceId: SERVICE,
  ApiId: API,
  ApiName: 'chat_c_ws',
  ServiceType: 'SCF',
  ServiceTimeout: 600,
  Protocol: 'WEBSOCKET',
  RequestConfig: { Path: '/', Method: 'GET' },
  ServiceScfFunctionName: fn('transport'),
  ServiceScfFunctionNamespace: 'default',
  ServiceScfFunctionQualifier: '$LATEST',
  ...bindings(),
  ...extra,
});

/**
 * Where an answer strays from an SDK model (fields missing or extra, a value of another type), by
 * path; null stands for "not set" anywhere. Read from the SDK's own table, not the server's.
 */
function answerProblems(models: Record<string, Readonly<Record<string, string>>>, model: string, value: Record<string, unknown>, path = ''): string[] {
  const fields = models[model];
  const problems = Object.keys(value)
    .filter((name) => !Object.hasOwn(fields, name))
    .map((name) => `${path}${name}: not in ${model}`);
  for (const [name, spec] of Object.entries(fields)) {
    if (!Object.hasOwn(value, name)) problems.push(`${path}${name}: missing`);
    else problems.push(...valueProblems(models, spec.replace(/\?$/, ''), value[name], `${path}${name}`));
  }
  return problems;
}

function valueProblems(models: Record<string, Readonly<Record<string, string>>>, type: string, value: unknown, path: string): string[] {
  if (value === null) return [];
  if (type.endsWith('[]')) {
    if (!Array.isArray(value)) return [`${path}: not an array`];
    return value.flatMap((item, i) => valueProblems(models, type.slice(0, -2), item, `${path}[${i}]`));
  }
  if (['string', 'number', 'boolean'].includes(type)) return typeof value === type ? [] : [`${path}: not a ${type}`];
  if (typeof value !== 'object' || Array.isArray(value)) return [`${path}: not a ${type} object`];
  return answerProblems(models, type, value as Record<string, unknown>, `${path}.`);
}

/**
 * A TC3-HMAC-SHA256 Authorization computed by hand from the signing documentation, with the scope
 * date and signed headers as given: for requests that are correctly signed yet must be refused.
 */
function tc3Authorization(options: {
  secretId: string;
  secretKey: string;
  timestamp: number;
  payload: string;
  host: string;
  date?: string;
  signedHeaders?: string[];
  headers?: Record<string, string>;
}): string {
  const date = options.date ?? new Date(options.timestamp * 1000).toISOString().slice(0, 10);
  const signed = options.signedHeaders ?? ['content-type', 'host'];
  const values: Record<string, string> = { 'content-type': 'application/json', ...options.headers, host: options.host };
  const sha256 = (data: string) => createHash('sha256').update(data).digest('hex');
  const canonical = ['POST', '/', '', signed.map((name) => `${name}:${values[name]}\n`).join(''), signed.join(';'), sha256(options.payload)].join('\n');
  const scope = `${date}/apigateway/tc3_request`;
  const toSign = ['TC3-HMAC-SHA256', String(options.timestamp), scope, sha256(canonical)].join('\n');
  const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
  const signature = createHmac('sha256', hmac(hmac(hmac(`TC3${options.secretKey}`, date), 'apigateway'), 'tc3_request'))
    .update(toSign)
    .digest('hex');
  return `TC3-HMAC-SHA256 Credential=${options.secretId}/${scope}, SignedHeaders=${signed.join(';')}, Signature=${signature}`;
}

/** What a rejected SDK call threw. */
async function failure(promise: Promise<unknown>): Promise<Error & { code?: string; requestId?: string }> {
  try {
    await promise;
  } catch (err) {
    return err as Error & { code?: string; requestId?: string };
  }
  throw new Error('expected the call to fail');
}

describe('LocalCloudApi with tencentcloud-sdk-nodejs', () => {
  let dir: string;
  let services: LocalServices;
  /** The registry bucket through the real SDK, with a key of the test's own. */
  let cos: { cos: COS; bucket: string };
  let scf: LocalScf;
  let gateway: LocalGateway;
  let cloudApi: LocalCloudApi;
  const user = randomCredential();
  const temporary = randomCredential({ temporary: true });
  const lines: string[] = [];
  // A plain agent: the SDK would otherwise send through $http_proxy when one is set, even to 127.0.0.1.
  const agent = new Agent({ keepAlive: true });

  const profile = (endpoint = cloudApi.endpoint) => ({ httpProfile: { endpoint, protocol: 'http://', agent } });
  const apigw = (credential: Partial<LocalCredential> & { token?: string } = user, endpoint?: string) =>
    new ApiGatewayClient({ credential, region: REGION, profile: profile(endpoint) });
  const scfClient = (credential: Partial<LocalCredential> & { token?: string } = user, endpoint?: string) =>
    new ScfClient({ credential, region: REGION, profile: profile(endpoint) });
  const describe_ = async () => (await apigw().DescribeApi({ ServiceId: SERVICE, ApiId: API })).Result as Record<string, any>;
  const wsUrl = () => gateway.wsUrl(SERVICE, 'release');
  /** A POST signed by the SDK's signer, answered as it came: for what the SDK would not show as sent. */
  const signedPost = async (action: string, version: string, body: Record<string, unknown>) => {
    const url = `http://${cloudApi.endpoint}/`;
    const payload = JSON.stringify(body);
    const timestamp = Math.floor(Date.now() / 1000);
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'X-TC-Action': action,
      'X-TC-Version': version,
      'X-TC-Region': REGION,
      'X-TC-Timestamp': String(timestamp),
    };
    headers.Authorization = Sign.sign3({
      method: 'POST',
      url,
      payload: Buffer.from(payload),
      timestamp,
      service: 'apigateway',
      secretId: user.secretId,
      secretKey: user.secretKey,
      headers,
    });
    const response = await fetch(url, { method: 'POST', headers, body: payload });
    expect(response.status).toBe(200);
    return (await response.json()) as { Response: Record<string, unknown> };
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cloud-api-'));
    const bundles = await bundleChat(join(dir, 'dist'));
    // The local services as the local cloud runs them; the test then plays the provider's part.
    const key = randomCredential();
    services = await LocalServices.start({
      dataDir: dir,
      stack: 'chat-c-gz',
      region: REGION,
      ports: { gateway: 0, cos: 0, cloudApi: 0 },
      cosCredentials: [key],
      cloudApiCredentials: [user, temporary],
      log: (line) => lines.push(line),
    });
    ({ scf, gateway, cloudApi } = services);
    const bucket = 'chat-c-gz-1250000000';
    const region = REGION;
    await services.cos.createBucket(bucket);
    cos = { bucket, cos: new COS({ SecretId: key.secretId, SecretKey: key.secretKey, Domain: services.cos.domain, Protocol: 'http:' }) };
    for (const name of ROLES) {
      // as the first apply leaves them: no url yet
      await scf.deploy({
        name: fn(name),
        zipPath: bundles[name].zipPath,
        handler: 'index.main_handler',
        runtime: RUNTIME,
        environment: { bucket, region, LOG_LEVEL: 'warn', KEEP_ME: 'yes' },
        memoryMb: 128,
        timeoutSeconds: 10,
      });
    }
    const echoZip = join(dir, 'env-echo.zip');
    await writeFile(echoZip, zipSync({ 'index.js': strToU8('exports.main_handler = async () => ({ ...process.env });') }));
    await scf.deploy({
      name: 'env-echo',
      zipPath: echoZip,
      handler: 'index.main_handler',
      environment: { KEEP_ME: 'yes', OLD_ONE: 'old' },
      memoryMb: 64,
      timeoutSeconds: 5,
    });

    gateway.createService({ serviceId: SERVICE, serviceName: 'chat_c' });
    gateway.createApi({
      serviceId: SERVICE,
      apiId: API,
      apiName: 'chat_c_ws',
      path: '/',
      method: 'GET',
      protocol: 'WEBSOCKET',
      serviceType: 'SCF',
      serviceTimeout: 600,
      scfFunction: { name: fn('transport'), namespace: 'default', qualifier: '$LATEST' },
    });
    gateway.releaseService(SERVICE, 'release', 'initial');
  }, 60_000);

  afterAll(async () => {
    await services?.stop();
    agent.destroy();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  describe('API Gateway', () => {
    it('DescribeApi shows no bindings at first, and the push address as InternalDomain', async () => {
      expect(cloudApi.endpoint).toBe(`127.0.0.1:${cloudApi.port}`);
      const response = await apigw().DescribeApi({ ServiceId: SERVICE, ApiId: API });
      expect(response.RequestId).toMatch(/^[0-9a-f-]{36}$/);
      expect(response.Result).toMatchObject({
        ServiceId: SERVICE,
        ApiId: API,
        ApiName: 'chat_c_ws',
        Protocol: 'WEBSOCKET',
        AuthType: 'NONE',
        RequestConfig: { Path: '/', Method: 'GET' },
        ServiceType: 'SCF',
        ServiceTimeout: 600,
        ServiceScfFunctionName: fn('transport'),
        ServiceScfFunctionNamespace: 'default',
        ServiceScfFunctionQualifier: '$LATEST',
        ServiceWebsocketRegisterFunctionName: null,
        ServiceWebsocketTransportFunctionName: null,
        ServiceWebsocketCleanupFunctionName: null,
        InternalDomain: gateway.pushUrl(API),
      });
      // and so the gateway cannot decide a handshake
      const refused = await ChatClient.connect(wsUrl()).catch((err: unknown) => err);
      expect(refused).toBeInstanceOf(HandshakeRefused);
      expect((refused as HandshakeRefused).status).toBe(502);
    });

    it('ModifyApi with the three bindings, then ReleaseService: clients connect through register', async () => {
      const modified = await apigw().ModifyApi(modifyRequest());
      expect(modified.RequestId).toMatch(/^[0-9a-f-]{36}$/);
      const live = await describe_();
      expect(live).toMatchObject({ ...bindings(), InternalDomain: gateway.pushUrl(API) });
      // a draft until released
      expect(await ChatClient.connect(wsUrl()).catch((err: unknown) => (err as HandshakeRefused).status)).toBe(502);

      const released = await apigw().ReleaseService({ ServiceId: SERVICE, EnvironmentName: 'release', ReleaseDesc: 'bindings' });
      expect(released.Result).toEqual({ ReleaseDesc: 'bindings', ReleaseVersion: expect.stringMatching(/^\d{17}$/) });
      const registerCalls = scf.stats(fn('register')).invocations;
      const client = await ChatClient.connect(wsUrl());
      // register accepted it, having written the connection to the COS registry
      expect(client.ws.protocol).toBe('chat');
      expect(scf.stats(fn('register')).invocations).toBe(registerCalls + 1);
      const listed = await cos.cos.getBucket({ Bucket: cos.bucket, Region: REGION });
      expect(listed.Contents.some((object) => object.Key.startsWith('conn.'))).toBe(true);
      await client.close();
    });

    it('ModifyApi replaces the definition: what is not given is reset, what is given is kept', async () => {
      const { ServiceScfFunctionName: _n, ServiceScfFunctionNamespace: _ns, ServiceScfFunctionQualifier: _q, ...withoutScf } = modifyRequest();
      // ApiType as DescribeApi answers it is no news; EnableCORS is not kept locally
      const request = { ...withoutScf, ServiceTimeout: 300, EnableCORS: true, ApiType: 'NORMAL' };
      for (const part of ['Name', 'Namespace', 'Qualifier']) delete (request as Record<string, unknown>)[`ServiceWebsocketCleanupFunction${part}`];
      await apigw().ModifyApi(request);
      expect(await describe_()).toMatchObject({
        ServiceTimeout: 300,
        ServiceScfFunctionName: null,
        ServiceWebsocketCleanupFunctionName: null,
        ServiceWebsocketCleanupFunctionNamespace: null,
        ...bindings(['Register', 'Transport']),
      });
      // ApiName is kept when left out: an API always has a name
      const { ApiName: _name, ...withoutName } = modifyRequest();
      await apigw().ModifyApi(withoutName);
      expect(await describe_()).toMatchObject({ ApiName: 'chat_c_ws', ServiceTimeout: 600, ServiceScfFunctionName: fn('transport'), ...bindings() });
      expect(lines).toContain(`ModifyApi ${API}: not modeled locally, ignored: EnableCORS`);
    });

    it('refuses a ModifyApi missing a required field, or with a wrong or unknown one, naming it', async () => {
      const { ServiceTimeout: _t, ...noTimeout } = modifyRequest();
      const missingTimeout = await failure(apigw().ModifyApi(noTimeout as never));
      expect(missingTimeout.code).toBe('MissingParameter');
      expect(missingTimeout.message).toContain('ServiceTimeout');
      const noMethod = await failure(apigw().ModifyApi(modifyRequest({ RequestConfig: { Path: '/' } })));
      expect(noMethod.code).toBe('MissingParameter');
      expect(noMethod.message).toContain('RequestConfig.Method');
      expect((await failure(apigw().ModifyApi(modifyRequest({ RequestConfig: { Path: '/', Method: 'POST' } })))).code).toBe(
        'InvalidParameterValue.InvalidWSMethod',
      );
      const timeout = await failure(apigw().ModifyApi(modifyRequest({ ServiceTimeout: 99_999 })));
      expect(timeout.code).toBe('InvalidParameterValue');
      expect(timeout.message).toMatch(/serviceTimeout/);
      const unknown = await failure(apigw().ModifyApi(modifyRequest({ ServiceWebsocketRegisterFunctionNam: 'typo' })));
      expect(unknown.code).toBe('UnknownParameter');
      expect(unknown.message).toContain('ServiceWebsocketRegisterFunctionNam');
      // nothing changed
      expect(await describe_()).toMatchObject({ ServiceTimeout: 600, ...bindings() });
    });

    it('answers the cloud’s not-found and invalid-environment codes', async () => {
      expect((await failure(apigw().DescribeApi({ ServiceId: SERVICE, ApiId: 'api-nope' }))).code).toBe('ResourceNotFound.InvalidApi');
      // the local gateway knows its services: an unknown one is named as such
      expect((await failure(apigw().DescribeApi({ ServiceId: 'service-other', ApiId: API }))).code).toBe('ResourceNotFound.InvalidService');
      expect((await failure(apigw().ModifyApi(modifyRequest({ ApiId: 'api-nope' })))).code).toBe('ResourceNotFound.InvalidApi');
      const env = await failure(apigw().ReleaseService({ ServiceId: SERVICE, EnvironmentName: 'production', ReleaseDesc: 'x' }));
      expect(env.code).toBe('InvalidParameterValue.InvalidEnv');
      expect(env.message).toContain('release, prepub, test');
      expect((await failure(apigw().ReleaseService({ ServiceId: 'service-nope', EnvironmentName: 'release', ReleaseDesc: 'x' }))).code).toBe(
        'ResourceNotFound.InvalidService',
      );
    });

    it('DescribeApi answers every field of the SDK’s ApiInfo in its declared type, null where nothing is set', async () => {
      const models = readInstalledSdkModels().apigateway;
      const info = await describe_();
      expect(Object.keys(info).sort()).toEqual(Object.keys(models.ApiInfo).sort());
      expect(answerProblems(models, 'ApiInfo', info)).toEqual([]);
      // nested models as objects of their declared fields, not set: null
      for (const [field, model] of [
        ['ServiceConfig', 'ServiceConfig'],
        ['OauthConfig', 'OauthConfig'],
        ['ServiceTsfLoadBalanceConf', 'TsfLoadBalanceConfResp'],
        ['ServiceTsfHealthCheckConf', 'HealthCheckConf'],
      ]) {
        expect(info[field], field).toEqual(Object.fromEntries(Object.keys(models[model]).map((name) => [name, null])));
      }
      expect(info).toMatchObject({
        ServiceName: 'chat_c',
        ApiType: 'NORMAL',
        AuthType: 'NONE',
        RequestConfig: { Path: '/', Method: 'GET' },
        ApiDesc: null,
        EnableCORS: null,
        RequestParameters: null,
        Tags: null,
        MicroServicesInfo: null,
        ...bindings(),
        InternalDomain: gateway.pushUrl(API),
      });
    });

    it('refuses fields the SDK’s request models lack, and wrong types, at any depth, naming the path', async () => {
      const cases: Array<[string, () => Promise<unknown>, string, string]> = [
        ['DescribeApi: unknown', () => apigw().DescribeApi({ ServiceId: SERVICE, ApiId: API, Limit: 1 } as never), 'UnknownParameter', '`Limit`'],
        ['DescribeApi: type', () => apigw().DescribeApi({ ServiceId: SERVICE, ApiId: 42 } as never), 'InvalidParameter', '`ApiId` must be a string, got 42'],
        // DescribeApi's answer has fields ModifyApi does not take
        ['ModifyApi: an ApiInfo field', () => apigw().ModifyApi(modifyRequest({ InternalDomain: 'http://x' })), 'UnknownParameter', '`InternalDomain`'],
        [
          'ModifyApi: ApiInfo fields',
          () => apigw().ModifyApi(modifyRequest({ ServiceName: 'chat_c', CreatedTime: 'x' })),
          'UnknownParameter',
          '`ServiceName`, `CreatedTime`',
        ],
        [
          'ModifyApi: nested unknown',
          () => apigw().ModifyApi(modifyRequest({ RequestConfig: { Path: '/', Method: 'GET', Timeout: 1 } })),
          'UnknownParameter',
          '`RequestConfig.Timeout`',
        ],
        [
          'ModifyApi: two levels down',
          () => apigw().ModifyApi(modifyRequest({ ServiceConfig: { CosConfig: { Action: 'x', BucketName: 'b', Region: 'r' } } })),
          'UnknownParameter',
          '`ServiceConfig.CosConfig.Region`',
        ],
        [
          'ModifyApi: number',
          () => apigw().ModifyApi(modifyRequest({ ServiceTimeout: '600' })),
          'InvalidParameter',
          '`ServiceTimeout` must be a number, got "600"',
        ],
        ['ModifyApi: boolean', () => apigw().ModifyApi(modifyRequest({ EnableCORS: 'false' })), 'InvalidParameter', '`EnableCORS` must be a boolean'],
        [
          'ModifyApi: object',
          () => apigw().ModifyApi(modifyRequest({ OauthConfig: 'none' })),
          'InvalidParameter',
          '`OauthConfig` must be an object (OauthConfig), got "none"',
        ],
        [
          'ModifyApi: not an array',
          () => apigw().ModifyApi(modifyRequest({ ConstantParameters: { Name: 'a' } })),
          'InvalidParameter',
          '`ConstantParameters` must be an array of objects (ConstantParameter)',
        ],
        [
          'ModifyApi: in an array',
          () => apigw().ModifyApi(modifyRequest({ ConstantParameters: [{ Name: 'a' }, { Name: 2 }] })),
          'InvalidParameter',
          '`ConstantParameters[1].Name` must be a string, got 2',
        ],
        [
          'ModifyApi: array in array',
          () => apigw().ModifyApi(modifyRequest({ Base64EncodedTriggerRules: [{ Name: 'a', Value: 'b' }] })),
          'InvalidParameter',
          '`Base64EncodedTriggerRules[0].Value` must be an array of strings',
        ],
        [
          'ModifyApi: a single Tag',
          () => apigw().ModifyApi(modifyRequest({ TagSpecifications: [{ Key: 'k', Value: 'v' }] })),
          'InvalidParameter',
          '`TagSpecifications` must be an object (Tag)',
        ],
        [
          'ModifyApi: nested required',
          () => apigw().ModifyApi(modifyRequest({ MicroServices: [{ ClusterId: 'c', MicroServiceName: 'm' }] })),
          'MissingParameter',
          '`MicroServices[0].NamespaceId`',
        ],
        [
          'ReleaseService: unknown',
          () => apigw().ReleaseService({ ServiceId: SERVICE, EnvironmentName: 'release', ReleaseDesc: 'x', Force: true } as never),
          'UnknownParameter',
          '`Force`',
        ],
        [
          'ReleaseService: array',
          () => apigw().ReleaseService({ ServiceId: SERVICE, EnvironmentName: 'release', ReleaseDesc: 'x', ApiIds: API } as never),
          'InvalidParameter',
          '`ApiIds` must be an array of strings',
        ],
        [
          'ReleaseService: element',
          () => apigw().ReleaseService({ ServiceId: SERVICE, EnvironmentName: 'release', ReleaseDesc: 'x', ApiIds: [API, 7] } as never),
          'InvalidParameter',
          '`ApiIds[1]` must be a string',
        ],
        [
          'ReleaseService: required',
          () => apigw().ReleaseService({ ServiceId: SERVICE, EnvironmentName: 'release' } as never),
          'MissingParameter',
          '`ReleaseDesc`',
        ],
        ['GetFunction: unknown', () => scfClient().GetFunction({ FunctionName: 'env-echo', Region: REGION } as never), 'UnknownParameter', '`Region`'],
        [
          'GetFunction: type',
          () => scfClient().GetFunction({ FunctionName: 'env-echo', ShowCode: true } as never),
          'InvalidParameter',
          '`ShowCode` must be a string',
        ],
        [
          'UpdateFunctionConfiguration: nested unknown',
          () => scfClient().UpdateFunctionConfiguration({ FunctionName: 'env-echo', Environment: { Variables: [], Secrets: [] } } as never),
          'UnknownParameter',
          '`Environment.Secrets`',
        ],
        [
          'UpdateFunctionConfiguration: in an array',
          () => scfClient().UpdateFunctionConfiguration({ FunctionName: 'env-echo', Environment: { Variables: [{ Key: 'A', Value: 1 }] } } as never),
          'InvalidParameter',
          '`Environment.Variables[0].Value` must be a string, got 1',
        ],
        [
          'UpdateFunctionConfiguration: deep',
          () => scfClient().UpdateFunctionConfiguration({ FunctionName: 'env-echo', ProtocolParams: { WSParams: { IdleTimeOut: '60' } } } as never),
          'InvalidParameter',
          '`ProtocolParams.WSParams.IdleTimeOut` must be a number',
        ],
        [
          'UpdateFunctionConfiguration: number',
          () => scfClient().UpdateFunctionConfiguration({ FunctionName: 'env-echo', Timeout: '3' } as never),
          'InvalidParameter',
          '`Timeout` must be a number',
        ],
      ];
      const before = { api: await describe_(), env: { ...scf.getFunction('env-echo')!.environment } };
      for (const [what, call, code, text] of cases) {
        const err = await failure(call());
        expect({ what, code: err.code }).toEqual({ what, code });
        expect(err.message, what).toContain(text);
        expect(err.requestId, what).toMatch(/^[0-9a-f-]{36}$/);
      }
      expect(await describe_()).toEqual(before.api);
      expect(scf.getFunction('env-echo')!.environment).toEqual(before.env);
    });

    it('answers a refused parameter in the Cloud API’s error format', async () => {
      const response = await signedPost('ModifyApi', '2018-08-08', modifyRequest({ InternalDomain: 'http://x' }));
      expect(response).toEqual({
        Response: {
          Error: { Code: 'UnknownParameter', Message: 'ModifyApi does not take the parameter `InternalDomain`' },
          RequestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
        },
      });
    });
  });

  describe('SCF', () => {
    it('GetFunction lists the variables', async () => {
      const info = await scfClient().GetFunction({ FunctionName: fn('transport'), Namespace: 'default' });
      expect(info).toMatchObject({
        FunctionName: fn('transport'),
        Namespace: 'default',
        Runtime: RUNTIME,
        Handler: 'index.main_handler',
        MemorySize: 128,
        Timeout: 10,
        Status: 'Active',
        ModTime: expect.stringMatching(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/),
      });
      expect(info.Environment!.Variables).toEqual([
        { Key: 'bucket', Value: cos.bucket },
        { Key: 'region', Value: REGION },
        { Key: 'LOG_LEVEL', Value: 'warn' },
        { Key: 'KEEP_ME', Value: 'yes' },
      ]);
      // the namespace defaults to `default`
      expect((await scfClient().GetFunction({ FunctionName: 'env-echo' })).Namespace).toBe('default');
    });

    it('UpdateFunctionConfiguration replaces the whole list, and new instances see it', async () => {
      const before = (await scf.invoke({ name: 'env-echo', namespace: 'default', qualifier: '$LATEST' }, {})) as { ok: true; value: Record<string, string> };
      expect(before.value).toMatchObject({ KEEP_ME: 'yes', OLD_ONE: 'old' });
      const answer = await scfClient().UpdateFunctionConfiguration({
        FunctionName: 'env-echo',
        Namespace: 'default',
        Environment: {
          Variables: [
            { Key: 'KEEP_ME', Value: 'yes' },
            { Key: 'NEW_ONE', Value: 'new' },
          ],
        },
      });
      expect(Object.keys(answer)).toEqual(['RequestId']);
      const info = await scfClient().GetFunction({ FunctionName: 'env-echo', Namespace: 'default' });
      expect(info.Status).toBe('Active');
      expect(info.Environment!.Variables).toEqual([
        { Key: 'KEEP_ME', Value: 'yes' },
        { Key: 'NEW_ONE', Value: 'new' },
      ]);
      const after = (await scf.invoke({ name: 'env-echo', namespace: 'default', qualifier: '$LATEST' }, {})) as { ok: true; value: Record<string, string> };
      expect(after.value).toMatchObject({ KEEP_ME: 'yes', NEW_ONE: 'new' });
      expect(after.value).not.toHaveProperty('OLD_ONE');
    });

    it('the post-deploy flow: read, merge url, write; the chat then works', async () => {
      // without url, transport fails and the gateway closes the sender
      const early = await ChatClient.connect(wsUrl());
      early.send('too early');
      await early.waitFor('the close', () => early.closed);
      expect(early.closed!.code).toBe(1011);

      const url = (await describe_()).InternalDomain as string;
      const current = await scfClient().GetFunction({ FunctionName: fn('transport'), Namespace: 'default' });
      const merged = [...current.Environment!.Variables!.filter((v) => v.Key !== 'url'), { Key: 'url', Value: url }];
      await scfClient().UpdateFunctionConfiguration({ FunctionName: fn('transport'), Namespace: 'default', Environment: { Variables: merged } });
      expect(scf.getFunction(fn('transport'))!.environment).toEqual({ bucket: cos.bucket, region: REGION, LOG_LEVEL: 'warn', KEEP_ME: 'yes', url });

      const a = await ChatClient.connect(wsUrl());
      const b = await ChatClient.connect(wsUrl());
      a.send('hello after the update');
      expect(await b.waitFor('the message', () => b.messages().find((m) => m.text === 'hello after the update'))).toMatchObject({ type: 'message' });
      await Promise.all([a.close(), b.close()]);
    });

    it('refuses reserved variables, unknown functions and versions', async () => {
      const reserved = await failure(
        scfClient().UpdateFunctionConfiguration({ FunctionName: 'env-echo', Environment: { Variables: [{ Key: 'TENCENTCLOUD_SECRETID', Value: 'mine' }] } }),
      );
      expect(reserved.code).toBe('InvalidParameterValue.EnvironmentSystemProtect');
      expect(reserved.message).toContain('TENCENTCLOUD_SECRETID');
      const duplicate = await failure(
        scfClient().UpdateFunctionConfiguration({
          FunctionName: 'env-echo',
          Environment: {
            Variables: [
              { Key: 'A', Value: '1' },
              { Key: 'A', Value: '2' },
            ],
          },
        }),
      );
      expect(duplicate.code).toBe('InvalidParameterValue.Environment');
      const badName = await failure(
        scfClient().UpdateFunctionConfiguration({ FunctionName: 'env-echo', Environment: { Variables: [{ Key: '1abc', Value: 'x' }] } }),
      );
      expect(badName.code).toBe('InvalidParameterValue');
      expect(badName.message).toContain('1abc');
      expect(scf.getFunction('env-echo')!.environment).toEqual({ KEEP_ME: 'yes', NEW_ONE: 'new' });
      expect((await failure(scfClient().GetFunction({ FunctionName: 'nope', Namespace: 'default' }))).code).toBe('ResourceNotFound.Function');
      expect((await failure(scfClient().UpdateFunctionConfiguration({ FunctionName: 'nope', Environment: { Variables: [] } }))).code).toBe(
        'ResourceNotFound.Function',
      );
      expect((await failure(scfClient().GetFunction({ FunctionName: 'env-echo', Qualifier: '1' }))).code).toBe('ResourceNotFound.FunctionVersion');
    });

    it('reports Updating after an update when asked to, and refuses a second update meanwhile', async () => {
      // the next two GetFunction calls after the update answer Updating
      const slow = new LocalCloudApi({ credentials: [user], gateway, scf, scfUpdatingPolls: 2, log: () => {} });
      await slow.start();
      try {
        const client = scfClient(user, slow.endpoint);
        await client.UpdateFunctionConfiguration({
          FunctionName: 'env-echo',
          Environment: {
            Variables: [
              { Key: 'KEEP_ME', Value: 'yes' },
              { Key: 'NEW_ONE', Value: 'newer' },
            ],
          },
        });
        expect((await client.GetFunction({ FunctionName: 'env-echo' })).Status).toBe('Updating');
        expect((await failure(client.UpdateFunctionConfiguration({ FunctionName: 'env-echo', Environment: { Variables: [] } }))).code).toBe(
          'FailedOperation.UpdateFunctionConfiguration',
        );
        // then, one poll later, Active again
        const statuses: string[] = [];
        for (let i = 0; i < 2; i++) statuses.push((await client.GetFunction({ FunctionName: 'env-echo' })).Status!);
        expect(statuses).toEqual(['Updating', 'Active']);
        expect(scf.getFunction('env-echo')!.environment).toEqual({ KEEP_ME: 'yes', NEW_ONE: 'newer' });
      } finally {
        await slow.stop();
      }
    });
  });

  describe('authentication', () => {
    /** A POST signed by the SDK's signer, with what the test wants changed. */
    async function raw(options: {
      action?: string;
      body?: Record<string, unknown>;
      credential?: LocalCredential;
      timestamp?: number;
      authorization?: string | null;
      sentBody?: string;
      token?: string;
    }): Promise<{ Error?: { Code: string; Message: string }; RequestId: string; [key: string]: unknown }> {
      const url = `http://${cloudApi.endpoint}/`;
      const credential = options.credential ?? user;
      const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
      const payload = JSON.stringify(options.body ?? { ServiceId: SERVICE, ApiId: API });
      const headers: Record<string, string> = {
        'Content-Type': 'application/json',
        'X-TC-Action': options.action ?? 'DescribeApi',
        'X-TC-Version': '2018-08-08',
        'X-TC-Region': REGION,
        'X-TC-Timestamp': String(timestamp),
        ...(options.token ? { 'X-TC-Token': options.token } : {}),
      };
      const authorization =
        options.authorization !== undefined
          ? options.authorization
          : Sign.sign3({
              method: 'POST',
              url,
              payload: Buffer.from(payload),
              timestamp,
              service: 'apigateway',
              secretId: credential.secretId,
              secretKey: credential.secretKey,
              headers,
            });
      if (authorization !== null) headers.Authorization = authorization;
      const response = await fetch(url, { method: 'POST', headers, body: options.sentBody ?? payload });
      expect(response.status).toBe(200);
      return ((await response.json()) as { Response: never }).Response;
    }

    /** The Authorization raw() would send for its default DescribeApi, signed by hand with the given scope date and headers. */
    const handSigned = (options: { timestamp: number; date?: string; signedHeaders?: string[] }) =>
      tc3Authorization({
        ...user,
        ...options,
        payload: JSON.stringify({ ServiceId: SERVICE, ApiId: API }),
        host: cloudApi.endpoint,
        headers: { 'content-type': 'application/json', 'x-tc-action': 'describeapi' },
      });

    it('throws AuthFailure.SignatureFailure for a wrong SecretKey, with the code on the SDK error', async () => {
      const err = await failure(apigw({ secretId: user.secretId, secretKey: 'not-the-key' }).DescribeApi({ ServiceId: SERVICE, ApiId: API }));
      expect(err.code).toBe('AuthFailure.SignatureFailure');
      expect(err.requestId).toMatch(/^[0-9a-f-]{36}$/);
      expect(lines.some((line) => line.includes('the server signed the canonical request'))).toBe(true);
    });

    it('throws AuthFailure.SecretIdNotFound for an unknown SecretId', async () => {
      const stranger = randomCredential();
      expect((await failure(scfClient(stranger).GetFunction({ FunctionName: 'env-echo' }))).code).toBe('AuthFailure.SecretIdNotFound');
    });

    it('requires the session token of a temporary credential, and only then', async () => {
      const { secretId, secretKey, sessionToken } = temporary;
      expect((await apigw({ secretId, secretKey, token: sessionToken }).DescribeApi({ ServiceId: SERVICE, ApiId: API })).Result).toBeTruthy();
      expect((await failure(apigw({ secretId, secretKey }).DescribeApi({ ServiceId: SERVICE, ApiId: API }))).code).toBe('AuthFailure.TokenFailure');
      expect((await failure(apigw({ secretId, secretKey, token: 'wrong' }).DescribeApi({ ServiceId: SERVICE, ApiId: API }))).code).toBe(
        'AuthFailure.TokenFailure',
      );
      expect((await failure(apigw({ ...user, token: 'stray' }).DescribeApi({ ServiceId: SERVICE, ApiId: API }))).code).toBe('AuthFailure.TokenFailure');
    });

    it('refuses a stale timestamp, a tampered body, and a missing or malformed Authorization', async () => {
      expect((await raw({})).Result).toBeTruthy();
      expect((await raw({ timestamp: Math.floor(Date.now() / 1000) - 301 })).Error!.Code).toBe('AuthFailure.SignatureExpire');
      expect((await raw({ sentBody: JSON.stringify({ ServiceId: SERVICE, ApiId: 'api-other' }) })).Error!.Code).toBe('AuthFailure.SignatureFailure');
      expect((await raw({ authorization: null })).Error!.Code).toBe('AuthFailure.InvalidAuthorization');
      const malformed = await raw({ authorization: 'TC3-HMAC-SHA256 Credential=x, Signature=00' });
      expect(malformed.Error).toMatchObject({ Code: 'AuthFailure.InvalidAuthorization', Message: expect.stringContaining('SignedHeaders') });
      expect(malformed.RequestId).toMatch(/^[0-9a-f-]{36}$/);
    });
    it('refuses a Credential date other than the UTC date of X-TC-Timestamp, even when correctly signed with it', async () => {
      const timestamp = Math.floor(Date.now() / 1000);
      expect((await raw({ authorization: handSigned({ timestamp }) })).Result, 'the hand signer signs as the SDK does').toBeTruthy();
      const yesterday = new Date((timestamp - 86_400) * 1000).toISOString().slice(0, 10);
      const refused = await raw({ timestamp, authorization: handSigned({ timestamp, date: yesterday }) });
      expect(refused.Error).toMatchObject({
        Code: 'AuthFailure.SignatureFailure',
        Message: expect.stringContaining(`the Credential date ${yesterday} is not the UTC date`),
      });
    });

    it('refuses SignedHeaders without content-type or host, even when correctly signed with them', async () => {
      const timestamp = Math.floor(Date.now() / 1000);
      expect((await raw({ authorization: handSigned({ timestamp, signedHeaders: ['content-type', 'host', 'x-tc-action'] }) })).Result).toBeTruthy();
      for (const [signed, lacking] of [
        [['host'], 'content-type'],
        [['content-type'], 'host'],
        [['x-tc-action', 'host'], 'content-type'],
      ] as const) {
        const refused = await raw({ authorization: handSigned({ timestamp, signedHeaders: [...signed] }) });
        expect(refused.Error, signed.join(';')).toMatchObject({
          Code: 'AuthFailure.InvalidAuthorization',
          Message: expect.stringContaining(`SignedHeaders must include ${lacking}`),
        });
      }
    });

    it('takes the UTC date at midnight UTC, not the local one', () => {
      // 23:59:59 UTC, already the next day in UTC+8
      const timestamp = Date.UTC(2026, 0, 1, 23, 59, 59) / 1000;
      const body = Buffer.from('{}');
      const request = (date: string) => ({
        method: 'POST',
        path: '/',
        query: '',
        body,
        headers: {
          host: '127.0.0.1',
          'content-type': 'application/json',
          'x-tc-timestamp': String(timestamp),
          authorization: tc3Authorization({ ...user, timestamp, date, host: '127.0.0.1', payload: '{}' }),
        },
      });
      expect(verifyTc3(request('2026-01-01'), [user], timestamp * 1000)).toMatchObject({ ok: true });
      expect(verifyTc3(request('2026-01-02'), [user], timestamp * 1000)).toMatchObject({ ok: false, code: 'AuthFailure.SignatureFailure' });
    });
  });

  describe('routing and injected failures', () => {
    it('answers InvalidAction for an action not served, and NoSuchVersion for an unknown version', async () => {
      const err = await failure(apigw().request('DescribeApisStatus', { ServiceId: SERVICE }));
      expect(err.code).toBe('InvalidAction');
      expect(err.message).toContain('DescribeApisStatus');
      // GetFunction is SCF's: the apigateway version does not have it
      expect((await failure(apigw().request('GetFunction', { FunctionName: 'env-echo' }))).code).toBe('InvalidAction');
      const common = new CommonClient(cloudApi.endpoint, '2017-03-12', { credential: user, region: REGION, profile: profile() });
      expect((await failure(common.request('DescribeInstances', {}))).code).toBe('NoSuchVersion');
    });

    it('failNext makes exactly the matching call fail, once, with the given code', async () => {
      const before = cloudApi.calls('UpdateFunctionConfiguration');
      cloudApi.failNext('UpdateFunctionConfiguration', {
        code: 'FailedOperation.UpdateFunctionConfiguration',
        message: 'injected failure',
        match: (params: { FunctionName?: string }) => params.FunctionName === fn('cleanup'),
      });
      const variables = {
        Variables: [
          { Key: 'KEEP_ME', Value: 'yes' },
          { Key: 'NEW_ONE', Value: 'again' },
        ],
      };
      await scfClient().UpdateFunctionConfiguration({ FunctionName: 'env-echo', Environment: variables });
      const current = scf.getFunction(fn('cleanup'))!.environment;
      const change = {
        FunctionName: fn('cleanup'),
        Environment: { Variables: Object.entries({ ...current, EXTRA: '1' }).map(([Key, Value]) => ({ Key, Value })) },
      };
      const err = await failure(scfClient().UpdateFunctionConfiguration(change));
      expect(err).toMatchObject({ code: 'FailedOperation.UpdateFunctionConfiguration', message: 'injected failure' });
      expect(scf.getFunction(fn('cleanup'))!.environment).not.toHaveProperty('EXTRA');
      await scfClient().UpdateFunctionConfiguration(change);
      expect(scf.getFunction(fn('cleanup'))!.environment).toHaveProperty('EXTRA', '1');
      expect(cloudApi.calls('UpdateFunctionConfiguration')).toBe(before + 3);

      cloudApi.failNext('DescribeApi', { code: 'RequestLimitExceeded', message: 'slow down', times: 2 });
      expect((await failure(describe_())).code).toBe('RequestLimitExceeded');
      expect((await failure(describe_())).code).toBe('RequestLimitExceeded');
      expect(await describe_()).toMatchObject({ ApiId: API });

      expect(() => cloudApi.failNext('DescribeApis', { code: 'InternalError', message: 'x' })).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
      );
      expect(() => cloudApi.failNext('DescribeApi', { code: 'not a code', message: 'x' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
      expect(cloudApi.calls()).toBeGreaterThan(cloudApi.calls('DescribeApi'));
    });
  });

  describe('lifecycle', () => {
    /**
     * Sends `head`, then `drip` every 50 ms until the server closes the connection; resolves with
     * what the server answered. Fails with a message when the server holds it past `patienceMs`.
     */
    const trickle = (port: number, head: string, drip: string, patienceMs = 10_000) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1');
        let received = '';
        const timer = setInterval(() => socket.writable && socket.write(drip), 50);
        const patience = setTimeout(() => {
          socket.destroy();
          reject(new Error(`the server still held a trickling connection after ${patienceMs} ms`));
        }, patienceMs);
        socket.setEncoding('utf8');
        socket.on('data', (chunk: string) => (received += chunk));
        socket.on('error', () => {}); // a write racing the server's close
        socket.on('close', () => {
          clearInterval(timer);
          clearTimeout(patience);
          resolve(received);
        });
        socket.write(head);
      });

    it('cuts a client that trickles its headers, or its body', async () => {
      const quick = new LocalCloudApi({ credentials: [user], gateway, scf, headersTimeoutMs: 300, requestTimeoutMs: 600, log: () => {} });
      await quick.start();
      try {
        expect(await trickle(quick.port, 'POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n', 'X-Slow: 1\r\n')).toMatch(/^HTTP\/1\.1 408/);
        const head = 'POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n';
        expect(await trickle(quick.port, head, ' ')).toMatch(/^(HTTP\/1\.1 408|$)/);
        // and answers a client that is not slow
        expect((await apigw(user, quick.endpoint).DescribeApi({ ServiceId: SERVICE, ApiId: API })).Result).toBeTruthy();
      } finally {
        await quick.stop();
      }
    });

    it('refuses timeouts that cannot work', () => {
      for (const timeouts of [{ headersTimeoutMs: 0 }, { requestTimeoutMs: Number.NaN }, { headersTimeoutMs: 2000, requestTimeoutMs: 1000 }]) {
        expect(() => new LocalCloudApi({ credentials: [user], gateway, scf, ...timeouts }), JSON.stringify(timeouts)).toThrow(
          expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
        );
      }
    });

    it('names a port in use, and stops twice safely', async () => {
      const second = new LocalCloudApi({ credentials: [user], gateway, scf, port: cloudApi.port, log: () => {} });
      await expect(second.start()).rejects.toMatchObject({ code: 'EADDRINUSE', message: expect.stringContaining(String(cloudApi.port)) });
      await second.stop();
      const third = new LocalCloudApi({ credentials: [user], gateway, scf, log: () => {} });
      await third.start();
      expect(third.port).toBeGreaterThan(0);
      await Promise.all([third.stop(), third.stop()]);
      await third.stop();
      expect(() => third.port).toThrow(expect.objectContaining({ code: 'ERR_NOT_STARTED' }));
    });
  });
});
