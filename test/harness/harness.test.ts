/**
 * The harness itself: a local chat started, connected to with and without admission, waits that
 * end with their message, and endpoints read from the environment and from outputs files.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAdmissionToken, verifyAdmissionToken } from '../../functions/lib/admission';
import {
  deployedApp,
  endpointFromEnv,
  HandshakeRefused,
  HarnessError,
  modeFromEnv,
  newAdmissionSecret,
  openAppEndpoint,
  startLocalApp,
  TestClient,
  WaitFailed,
  type AppEndpoint,
} from '.';

/** The outcome of a promise that should reject, as the error. */
async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => new Error('expected a failure, got none'),
    (err: unknown) => err,
  );
}

describe('a local app', () => {
  let endpoint: AppEndpoint;
  const secret = newAdmissionSecret();
  const clients: TestClient[] = [];
  const connect = async (protocols = endpoint.protocols(['chat'])): Promise<TestClient> => {
    const client = await TestClient.connect(endpoint.url, { protocols });
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    endpoint = await startLocalApp({ app: 'chat', admissionSecret: secret });
  }, 120_000);
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
    await endpoint?.stop();
  }, 60_000);

  it('starts on free ports in a data folder of its own, with admission on', () => {
    expect(endpoint).toMatchObject({ local: true, app: 'chat', stack: 'chat-dev-gz', admissionSecret: secret, mode: 'event' });
    // Event mode has no Redis to hand out; the page is served beside the gateway.
    expect(endpoint.redis).toBeUndefined();
    expect(endpoint.pageUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/?$/);
    expect(endpoint.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/release\/$/);
    expect(endpoint.pushUrl).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${new URL(endpoint.url).port}/`));
    expect(existsSync(endpoint.dataDir!)).toBe(true);
    const [base, token] = [endpoint.protocols(['chat']).slice(0, 1), endpoint.protocols(['chat'])[1]];
    expect(base).toEqual(['chat']);
    expect(verifyAdmissionToken(secret, token).getTime()).toBeGreaterThan(Date.now());
  });

  it('connects with a token; sends text, JSON and binary, and receives them as text, JSON and Buffer', async () => {
    const [a, b] = [await connect(), await connect()];
    expect(a.protocol).toBe('chat');
    a.send({ type: 'message', text: 'first' });
    a.send(JSON.stringify({ type: 'message', text: 'second' }));
    const first = await b.nextJson((m) => m.type === 'message', 10_000, 'the first message');
    const second = await b.nextJson((m) => m.type === 'message', 10_000, 'the second message');
    expect([first.text, second.text]).toEqual(['first', 'second']);
    expect(b.received.find((r) => r.json === first)?.text).toBe(JSON.stringify(first));
    // nextJson walks on; json() still lists everything.
    expect(b.json((m) => m.type === 'message').map((m) => m.text)).toEqual(['first', 'second']);
    await a.nextJson((m) => m.type === 'ack', 10_000, 'the first ack');
    const bytes = Buffer.from([0, 255, 1, 254]);
    a.send(bytes);
    const got = await b.waitFor('the binary frame', () => b.received.find((r) => r.binary)?.binary);
    expect(Buffer.isBuffer(got) && Buffer.compare(got, bytes)).toBe(0);
  });

  it('connects as a named, verified user when asked to: the token carries the user, the app sees it', async () => {
    expect(endpoint.verifiesUsers).toBe(true);
    const protocols = endpoint.protocols(['chat'], { user: { id: 'harness-ann', name: 'Ann' } });
    expect(protocols[0]).toBe('chat');
    expect(readAdmissionToken(secret, protocols[1]).user).toEqual({ id: 'harness-ann', name: 'Ann', verified: true });
    // Without a user, the token carries no claims: a guest.
    expect(readAdmissionToken(secret, endpoint.protocols(['chat'])[1]).user).toBeUndefined();
    const [ann, guest] = [await connect(protocols), await connect()];
    ann.send({ type: 'message', text: 'from ann' });
    const message = await guest.nextJson((m) => m.type === 'message' && m.text === 'from ann', 10_000, "ann's message");
    expect(message.from).toEqual({ id: 'harness-ann', name: 'Ann', verified: true });
    guest.send({ type: 'message', text: 'from a guest' });
    const back = await ann.nextJson((m) => m.type === 'message' && m.text === 'from a guest', 10_000, "the guest's message");
    expect(back.from).toMatchObject({ id: expect.stringMatching(/^guest-/), verified: false });
  });

  it('a connection without a token is refused with a HandshakeRefused carrying 403', async () => {
    const refused = await failure(TestClient.connect(endpoint.url, { protocols: ['chat'] }));
    expect(refused).toBeInstanceOf(HandshakeRefused);
    expect(refused).toMatchObject({ code: 'ERR_HANDSHAKE_REFUSED', status: 403, body: expect.stringMatching(/admission token required/) });
  });

  it('a wait that is never satisfied fails after its time, saying what it waited for', async () => {
    const client = await connect();
    const err = await failure(client.waitFor('a message that never comes', () => client.json((m) => m.type === 'never')[0], 300));
    expect(err).toBeInstanceOf(WaitFailed);
    expect(err).toMatchObject({
      code: 'ERR_WAIT_TIMEOUT',
      what: 'a message that never comes',
      message: 'timed out after 300 ms waiting for a message that never comes',
    });
    const next = await failure(client.nextJson((m) => m.type === 'never', 300));
    expect(next).toMatchObject({ code: 'ERR_WAIT_TIMEOUT', message: 'timed out after 300 ms waiting for a JSON message' });
  });

  it('a wait on a closed connection fails at once, with the close code', async () => {
    const client = await connect();
    // Over the 256 KB frame limit: the gateway closes with 1009.
    client.send('x'.repeat(256 * 1024 + 1));
    await client.waitFor('the close', () => client.closed);
    // A bound the test could not miss: only the close ends this wait with ERR_WAIT_CLOSED.
    const err = await failure(client.waitFor('an answer', () => client.json((m) => m.type === 'never')[0], 20_000));
    expect(err).toMatchObject({ code: 'ERR_WAIT_CLOSED', message: expect.stringMatching(/^the connection closed \(1009[^)]*\) while waiting for an answer$/) });
  });

  it('stop closes the clients and removes the data folder; a second stop does nothing', async () => {
    const dataDir = endpoint.dataDir!;
    const client = await connect();
    await endpoint.stop();
    await client.waitFor('the close at stop', () => client.closed);
    expect(existsSync(dataDir)).toBe(false);
    await endpoint.stop();
  });
});

describe('a deployed app', () => {
  let stateDir: string;
  beforeAll(async () => {
    stateDir = await mkdtemp(path.join(os.tmpdir(), 'harness-deploy-'));
  });
  afterAll(async () => {
    await rm(stateDir, { recursive: true, force: true });
  });
  const writeOutputs = (stack: string, outputs: unknown) =>
    writeFile(path.join(stateDir, `${stack}.outputs.json`), typeof outputs === 'string' ? outputs : JSON.stringify(outputs));

  it('endpointFromEnv reads WS_URL, ADMISSION_SECRET and APP; nothing without WS_URL', () => {
    expect(endpointFromEnv({})).toBeUndefined();
    const plain = endpointFromEnv({ WS_URL: 'wss://example.test/release/' })!;
    expect(plain).toMatchObject({ url: 'wss://example.test/release/', local: false, app: 'chat', admissionSecret: undefined });
    expect(plain.protocols(['chat'])).toEqual(['chat']);
    // No secret, no verified user: said at once rather than connecting as a guest.
    expect(plain.verifiesUsers).toBe(false);
    expect(() => plain.protocols(['chat'], { user: { id: 'ann' } })).toThrow(
      expect.objectContaining({ code: 'ERR_NO_ADMISSION_SECRET', message: expect.stringMatching(/^cannot connect as verified user ann: .*ADMISSION_SECRET/) }),
    );
    const admitted = endpointFromEnv({ WS_URL: 'wss://example.test/release/', ADMISSION_SECRET: 'a-secret-of-enough-bytes', APP: 'shout' })!;
    expect(admitted.app).toBe('shout');
    const [base, token] = admitted.protocols(['shout']);
    expect(base).toBe('shout');
    expect(verifyAdmissionToken('a-secret-of-enough-bytes', token).getTime()).toBeGreaterThan(Date.now());
    expect(admitted.verifiesUsers).toBe(true);
    // The name defaults to the id, as the token's issuer would have it.
    const named = admitted.protocols(['shout'], { user: { id: 'ann' } })[1];
    expect(readAdmissionToken('a-secret-of-enough-bytes', named).user).toEqual({ id: 'ann', name: 'ann', verified: true });
    expect(() => endpointFromEnv({ WS_URL: 'https://example.test/' })).toThrow(
      expect.objectContaining({ code: 'ERR_BAD_WS_URL', message: 'WS_URL must be a ws:// or wss:// URL, not https://example.test/' }),
    );
  });

  it("reads the mode from CHAT_MODE: for a local cloud and for WS_URL; a deployed stack has its configuration's", () => {
    expect(modeFromEnv({})).toBeUndefined();
    expect(modeFromEnv({ CHAT_MODE: 'web' })).toBe('web');
    expect(modeFromEnv({ CHAT_MODE: 'event' })).toBe('event');
    expect(() => modeFromEnv({ CHAT_MODE: 'websocket' })).toThrow(
      expect.objectContaining({ code: 'ERR_BAD_MODE', message: 'CHAT_MODE must be event or web, not "websocket"' }),
    );
    expect(endpointFromEnv({ WS_URL: 'wss://example.test/release/', CHAT_MODE: 'web' })!.mode).toBe('web');
    // Not said, not known.
    expect(endpointFromEnv({ WS_URL: 'wss://example.test/release/' })!.mode).toBeUndefined();
  });

  it('openAppEndpoint takes WS_URL when set, and refuses one that serves another app', async () => {
    const env = { WS_URL: 'wss://example.test/release/', APP: 'chat' };
    expect(await openAppEndpoint({ app: 'chat', env })).toMatchObject({ url: env.WS_URL, local: false });
    const err = await failure(openAppEndpoint({ app: 'shout', env }));
    expect(err).toBeInstanceOf(HarnessError);
    expect(err).toMatchObject({ code: 'ERR_WRONG_APP', message: 'WS_URL is an endpoint of app chat (APP), but this suite tests shout' });
  });

  it('deployedApp reads the client URL from the stack outputs file, with the stage secret when set', async () => {
    const env = { CHAT_DEPLOY_STATE_DIR: stateDir };
    await writeOutputs('chat-dev-gz', {
      stack: 'chat-dev-gz',
      clientUrl: 'wss://service-1.gz.example.test/release/',
      pushUrl: 'http://internal.example.test/api-1',
    });
    const dev = deployedApp({ app: 'chat', stage: 'dev', region: 'ap-guangzhou', env });
    expect(dev).toMatchObject({
      url: 'wss://service-1.gz.example.test/release/',
      local: false,
      app: 'chat',
      stack: 'chat-dev-gz',
      admissionSecret: undefined,
      mode: 'event',
    });
    // The deployed push address is reachable from inside the cloud only.
    expect(dev.pushUrl).toBeUndefined();
    expect(dev.protocols(['chat'])).toEqual(['chat']);
    await writeOutputs('shout-prod-sh', { stack: 'shout-prod-sh', clientUrl: 'wss://service-2.sh.example.test/release/' });
    const prod = deployedApp({
      app: 'shout',
      stage: 'prod',
      region: 'ap-shanghai',
      env: { ...env, CHAT_PROD_ADMISSION_SECRET: 'prod-secret-of-enough-bytes' },
    });
    expect(prod).toMatchObject({ url: 'wss://service-2.sh.example.test/release/', stack: 'shout-prod-sh', admissionSecret: 'prod-secret-of-enough-bytes' });
    expect(prod.protocols(['shout'])).toHaveLength(2);
    expect([dev.verifiesUsers, prod.verifiesUsers]).toEqual([false, true]);
  });

  it('deployedApp refuses clearly: never deployed, damaged, without a client URL, several stacks', async () => {
    const env = { CHAT_DEPLOY_STATE_DIR: stateDir };
    const refusal = (options: Parameters<typeof deployedApp>[0]) => {
      try {
        deployedApp({ env, ...options });
      } catch (err) {
        return err;
      }
      return new Error('expected a refusal, got an endpoint');
    };
    expect(refusal({ app: 'chat', stage: 'prod', region: 'ap-guangzhou' })).toMatchObject({
      code: 'ERR_NO_OUTPUTS',
      message: `no outputs for chat-prod-gz at ${path.join(stateDir, 'chat-prod-gz.outputs.json')}: deploy it first (npm run deploy -- --app chat --stage prod --region ap-guangzhou)`,
    });
    await writeOutputs('chat-prod-gz', '{"clientUrl": ');
    expect(refusal({ app: 'chat', stage: 'prod', region: 'ap-guangzhou' })).toMatchObject({
      code: 'ERR_BAD_OUTPUTS',
      message: expect.stringMatching(/chat-prod-gz\.outputs\.json is not valid JSON/),
    });
    await writeOutputs('chat-prod-gz', { stack: 'chat-prod-sh', clientUrl: 'wss://x.test/' });
    expect(refusal({ app: 'chat', stage: 'prod', region: 'ap-guangzhou' })).toMatchObject({
      code: 'ERR_BAD_OUTPUTS',
      message: expect.stringMatching(/belongs to stack "chat-prod-sh", not "chat-prod-gz"/),
    });
    await writeOutputs('chat-prod-gz', { stack: 'chat-prod-gz', clientUrl: null });
    expect(refusal({ app: 'chat', stage: 'prod', region: 'ap-guangzhou' })).toMatchObject({
      code: 'ERR_NO_CLIENT_URL',
      message: expect.stringMatching(/chat-prod-gz\.outputs\.json has no clientUrl$/),
    });
    expect(refusal({ app: 'chat', stage: 'prod' })).toMatchObject({
      code: 'ERR_AMBIGUOUS_TARGET',
      message: expect.stringMatching(/chat-prod-gz .*chat-prod-sh/),
    });
  });

  it('an endpoint read from an outputs file is one the client connects to', async () => {
    const secret = newAdmissionSecret();
    const local = await startLocalApp({ app: 'shout', admissionSecret: secret });
    try {
      await writeOutputs('shout-dev-gz', { stack: 'shout-dev-gz', clientUrl: local.url });
      const deployed = deployedApp({ app: 'shout', stage: 'dev', env: { CHAT_DEPLOY_STATE_DIR: stateDir }, admissionSecret: secret });
      const client = await TestClient.connect(deployed.url, { protocols: deployed.protocols(['shout']) });
      client.send('hello');
      expect(await client.nextJson((m) => m.type === 'shout')).toMatchObject({ text: 'HELLO' });
      await client.close();
    } finally {
      await local.stop();
    }
  }, 120_000);
});
