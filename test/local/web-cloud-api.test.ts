/**
 * A WebSocket web function made, changed and deleted through the local Cloud API with the real
 * tencentcloud-sdk-nodejs SCF client (CreateFunction is the only way to make one: no provider
 * version can), behind the local gateway as an SCF backend of function type HTTP.
 */
import { readFile } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { Client as ScfClient } from 'tencentcloud-sdk-nodejs/tencentcloud/services/scf/v20180416/scf_client';
import { randomCredential } from '../../local/credentials';
import { LocalServices } from '../../local/services';
import { writeEchoZip } from './web-echo';

const REGION = 'ap-guangzhou';
const NAME = 'chat-w-web';

let dir: string;
let services: LocalServices;
let scf: ScfClient;
let zipV1: string;
let zipV2: string;
const lines: string[] = [];
const user = randomCredential();
const agent = new Agent({ keepAlive: true });

/** CreateFunction's request for the echo web function. */
const createRequest = async (extra: Record<string, unknown> = {}) => ({
  FunctionName: NAME,
  Namespace: 'default',
  Type: 'HTTP',
  ProtocolType: 'WS',
  ProtocolParams: { WSParams: { IdleTimeOut: 20 } },
  Code: { ZipFile: (await readFile(zipV1)).toString('base64') },
  Runtime: 'Nodejs18.15',
  MemorySize: 128,
  Timeout: 60,
  Environment: { Variables: [{ Key: 'GREETING', Value: 'from the Cloud API' }] },
  VpcConfig: { VpcId: 'vpc-local001', SubnetId: 'subnet-local001' },
  ...extra,
});

async function failure(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected the call to fail');
}

/** The first frame of a new connection (the function's welcome), and the socket. */
async function connect(): Promise<{ ws: WebSocket; first: string }> {
  const ws = new WebSocket(services.gateway.wsUrl('svc-web', 'release'));
  const first = await new Promise<string>((resolve, reject) => {
    ws.once('message', (data) => resolve(data.toString()));
    ws.once('error', reject);
  });
  return { ws, first };
}

async function ask(ws: WebSocket, text: string): Promise<string> {
  return new Promise((resolve) => {
    ws.once('message', (data) => resolve(data.toString()));
    ws.send(text);
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'web-cloud-api-'));
  zipV1 = await writeEchoZip(join(dir, 'v1.zip'));
  zipV2 = await writeEchoZip(join(dir, 'v2.zip'), { greeting: 'v2' });
  services = await LocalServices.start({
    dataDir: dir,
    stack: 'chat-w-gz',
    region: REGION,
    ports: { gateway: 0, cos: 0, cloudApi: 0 },
    cloudApiCredentials: [user],
    log: (line) => lines.push(line),
  });
  scf = new ScfClient({ credential: user, region: REGION, profile: { httpProfile: { endpoint: services.cloudApi.endpoint, protocol: 'http://', agent } } });
  // The API as the provider makes it: an SCF backend of function type HTTP.
  services.gateway.createService({ serviceId: 'svc-web', serviceName: 'chat-w' });
  services.gateway.createApi({
    serviceId: 'svc-web',
    apiId: 'api-web',
    apiName: 'chat_w_ws',
    path: '/',
    method: 'GET',
    protocol: 'WEBSOCKET',
    serviceType: 'SCF',
    serviceTimeout: 20,
    scfFunction: { name: NAME, namespace: 'default', qualifier: '$LATEST' },
    scfFunctionType: 'HTTP',
  });
  services.gateway.releaseService('svc-web', 'release');
});

afterAll(async () => {
  await services?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('a web function through the Cloud API', () => {
  it('CreateFunction makes a WebSocket web function that GetFunction shows as such, and the gateway serves', async () => {
    await scf.CreateFunction(await createRequest());
    const fn = await scf.GetFunction({ FunctionName: NAME });
    expect(fn).toMatchObject({
      FunctionName: NAME,
      Type: 'HTTP',
      ProtocolType: 'WS',
      ProtocolParams: { WSParams: { IdleTimeOut: 20 } },
      Timeout: 60,
      Runtime: 'Nodejs18.15',
      Status: 'Active',
      VpcConfig: { VpcId: 'vpc-local001', SubnetId: 'subnet-local001' },
    });
    const { ws, first } = await connect();
    expect(first).toBe('hello -');
    expect(JSON.parse(await ask(ws, 'env'))).toMatchObject({ GREETING: 'from the Cloud API', SCF_FUNCTIONNAME: NAME });
    ws.close(1000);
    // the push address is not there for such an API
    const api = services.gateway.describeApi('api-web')!;
    expect(api.internalDomain).toBe('');
  });

  it('refuses a second CreateFunction of the same name', async () => {
    expect((await failure(scf.CreateFunction(await createRequest()))).code).toBe('ResourceInUse.Function');
  });

  it('UpdateFunctionConfiguration changes the idle timeout through ProtocolParams, and not the protocol type', async () => {
    await scf.UpdateFunctionConfiguration({ FunctionName: NAME, ProtocolParams: { WSParams: { IdleTimeOut: 30 } } });
    expect((await scf.GetFunction({ FunctionName: NAME })).ProtocolParams).toEqual({ WSParams: { IdleTimeOut: 30 } });
    // the SDK's model has no ProtocolType for an update: it is fixed at creation
    const changeType = await failure(scf.UpdateFunctionConfiguration({ FunctionName: NAME, ProtocolType: 'WS' } as never));
    expect(changeType.code).toBe('UnknownParameter');
    expect(changeType.message).toContain('ProtocolType');
    for (const idle of [0, 1801, 2.5]) {
      const refused = await failure(scf.UpdateFunctionConfiguration({ FunctionName: NAME, ProtocolParams: { WSParams: { IdleTimeOut: idle } } }));
      expect(refused.code).toBe('InvalidParameterValue');
      expect(refused.message).toContain('IdleTimeOut');
    }
    // seed 002: the timeout must be at least the idle timeout
    const shorter = await failure(scf.UpdateFunctionConfiguration({ FunctionName: NAME, Timeout: 10 }));
    expect(shorter.code).toBe('InvalidParameterValue');
    expect((await scf.GetFunction({ FunctionName: NAME })).Timeout).toBe(60);
  });

  it('UpdateFunctionCode serves new connections the new code while open ones keep theirs', async () => {
    const before = await connect();
    expect(before.first).toBe('hello -');
    await scf.UpdateFunctionCode({ FunctionName: NAME, ZipFile: (await readFile(zipV2)).toString('base64') });
    const after = await connect();
    expect(after.first).toBe('v2 -');
    expect(await ask(before.ws, 'still the old one')).toBe('still the old one');
    // configuration kept
    expect(JSON.parse(await ask(after.ws, 'env'))).toMatchObject({ GREETING: 'from the Cloud API' });
    before.ws.close(1000);
    after.ws.close(1000);
  });

  it('refuses what the cloud would not create, or the local runtime cannot run', async () => {
    const other = { FunctionName: 'chat-w-other' };
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{ Type: 'Event' }, 'InvalidParameterValue', 'ProtocolType'],
      [{ ProtocolType: 'SSE' }, 'InvalidParameterValue', 'ProtocolType'],
      [{ ProtocolParams: { WSParams: { IdleTimeOut: 2000 } } }, 'InvalidParameterValue', 'IdleTimeOut'],
      [{ Timeout: 10 }, 'InvalidParameterValue', 'Timeout'],
      [{ Runtime: undefined }, 'UnsupportedOperation', 'Runtime'],
      [{ Code: { CosBucketName: 'code', CosObjectName: '/web.zip' } }, 'UnsupportedOperation', 'ZipFile'],
      [{ Code: { ZipFile: 'not base64!' } }, 'InvalidParameterValue', 'ZipFile'],
    ];
    for (const [extra, code, names] of cases) {
      const refused = await failure(scf.CreateFunction(await createRequest({ ...other, ...extra })));
      expect({ extra, code: refused.code, names: refused.message.includes(names) }).toEqual({ extra, code, names: true });
    }
    expect((await failure(scf.GetFunction(other))).code).toBe('ResourceNotFound.Function');
  });

  it('an event function takes no ProtocolParams', async () => {
    const handler = Buffer.from('exports.main_handler = async () => "ok";');
    const { zipSync } = await import('fflate');
    await scf.CreateFunction({
      FunctionName: 'chat-w-event',
      Code: { ZipFile: Buffer.from(zipSync({ 'index.js': handler })).toString('base64') },
      Runtime: 'Nodejs18.15',
      Handler: 'index.main_handler',
    });
    expect(await scf.GetFunction({ FunctionName: 'chat-w-event' })).toMatchObject({ Type: 'Event', ProtocolType: null, ProtocolParams: null });
    const refused = await failure(scf.UpdateFunctionConfiguration({ FunctionName: 'chat-w-event', ProtocolParams: { WSParams: { IdleTimeOut: 30 } } }));
    expect(refused.code).toBe('InvalidParameterValue');
    expect(refused.message).toMatch(/`ProtocolParams` is for web functions/);
    await scf.DeleteFunction({ FunctionName: 'chat-w-event' });
  });

  it('DeleteFunction removes it: GetFunction no longer finds it, and connecting is refused', async () => {
    await scf.DeleteFunction({ FunctionName: NAME });
    expect((await failure(scf.GetFunction({ FunctionName: NAME }))).code).toBe('ResourceNotFound.Function');
    const ws = new WebSocket(services.gateway.wsUrl('svc-web', 'release'));
    const status = await new Promise<number>((resolve) => {
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode!));
      ws.once('open', () => resolve(101));
    });
    ws.on('error', () => undefined);
    expect(status).toBe(502);
    expect((await failure(scf.DeleteFunction({ FunctionName: NAME }))).code).toBe('ResourceNotFound.Function');
  });
});
