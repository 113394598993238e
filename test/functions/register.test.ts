import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAdmissionToken } from '../../functions/lib/admission';
import { ErrNo } from '../../functions/lib/errors';
import { keyForConnection } from '../../functions/lib/registry';
import { startCos, useEnv, type CosFixture } from '../support/cos-fixture';
import { captureLog } from './capture-log';
import chat from '../../functions/chat/app';

const register = chat.register;

function connecting(id: string, extra: Record<string, unknown> = {}) {
  return {
    requestContext: {
      serviceId: 'service-abc',
      path: '/',
      httpMethod: 'GET',
      requestId: 'req-1',
      identity: {},
      sourceIp: '10.0.2.14',
      stage: 'release',
      websocketEnable: true,
    },
    websocket: { action: 'connecting', secConnectionID: id, ...extra },
  };
}

describe('register', () => {
  let cos: CosFixture;
  let restore: () => void;
  beforeAll(async () => {
    cos = await startCos();
    restore = useEnv({ ...cos.env, ADMISSION_SECRET: undefined });
  });
  afterAll(async () => {
    restore();
    await cos.stop();
  });
  afterEach(() => {
    delete process.env.ADMISSION_SECRET;
  });

  async function stored(id: string): Promise<Record<string, unknown> | undefined> {
    try {
      const object = await cos.cos.getObject({ Bucket: cos.bucket, Region: cos.env.region, Key: keyForConnection(id) });
      return JSON.parse(object.Body.toString());
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return undefined;
      throw err;
    }
  }

  it('accepts, answers the chosen protocol without extensions, and records the connection', async () => {
    const id = 'Zm9vYmFyYmF6+/==cXV4cXV1eA==abcd';
    const answer = await register(
      connecting(id, { secWebSocketProtocol: 'binary, chat', secWebSocketExtensions: 'permessage-deflate; client_max_window_bits' }),
    );
    expect(answer).toEqual({ errNo: 0, errMsg: 'ok', websocket: { action: 'connecting', secConnectionID: id, secWebSocketProtocol: 'chat' } });
    const record = await stored(id);
    expect(record).toMatchObject({ id, sourceIp: '10.0.2.14', protocol: 'chat' });
    expect(Date.now() - Date.parse(String(record!.connectedAt))).toBeLessThan(60_000);
  });

  it('answers no protocol when none was offered', async () => {
    const answer = await register(connecting('no-protocol-id'));
    expect(answer.errNo).toBe(0);
    expect(answer.websocket).toEqual({ action: 'connecting', secConnectionID: 'no-protocol-id' });
    expect(await stored('no-protocol-id')).toMatchObject({ id: 'no-protocol-id' });
  });

  it('answers 101 and 102 for a missing requestContext or websocket, recording nothing', async () => {
    expect(await register({ websocket: { action: 'connecting', secConnectionID: 'x101' } })).toMatchObject({ errNo: 101, errMsg: 'not found request context' });
    expect(await register({ requestContext: {} })).toMatchObject({ errNo: 102, errMsg: 'not found websocket' });
    expect(await stored('x101')).toBeUndefined();
  });

  it('refuses an unsupported subprotocol with the reason', async () => {
    const answer = await register(connecting('mqtt-id', { secWebSocketProtocol: 'mqtt' }));
    expect(answer).toMatchObject({ errNo: ErrNo.UNSUPPORTED_SUBPROTOCOL, errMsg: expect.stringMatching(/supported: chat/) });
    expect(await stored('mqtt-id')).toBeUndefined();
  });

  describe('with an admission secret', () => {
    const secret = 'admission-secret-for-tests';

    it('accepts a valid token offered beside chat and answers chat only', async () => {
      process.env.ADMISSION_SECRET = secret;
      const answer = await register(connecting('tok-ok', { secWebSocketProtocol: `chat, ${createAdmissionToken(secret)}` }));
      expect(answer).toMatchObject({ errNo: 0, websocket: { secWebSocketProtocol: 'chat' } });
      expect(await stored('tok-ok')).toBeDefined();
    });

    it('refuses a missing, a bad and an expired token with the reason, recording nothing', async () => {
      process.env.ADMISSION_SECRET = secret;
      const missing = await register(connecting('tok-none', { secWebSocketProtocol: 'chat' }));
      expect(missing).toMatchObject({ errNo: ErrNo.ADMISSION_REQUIRED, errMsg: expect.stringMatching(/admission token required/) });
      const bad = await register(connecting('tok-bad', { secWebSocketProtocol: `chat, ${createAdmissionToken('not-the-secret')}` }));
      expect(bad).toMatchObject({ errNo: ErrNo.ADMISSION_REFUSED, errMsg: expect.stringMatching(/signature is invalid/) });
      const old = createAdmissionToken(secret, { ttlSeconds: 60, now: Date.now() - 120_000 });
      const expired = await register(connecting('tok-old', { secWebSocketProtocol: `chat, ${old}` }));
      expect(expired).toMatchObject({ errNo: ErrNo.ADMISSION_REFUSED, errMsg: expect.stringMatching(/expired at/) });
      for (const id of ['tok-none', 'tok-bad', 'tok-old']) expect(await stored(id)).toBeUndefined();
    });
  });

  describe('configured for admission with an empty or short secret', () => {
    for (const [what, env] of [
      ['an empty secret', { ADMISSION_SECRET: '' }],
      ['a short secret', { ADMISSION_SECRET: 'short' }],
      ['no secret where admission is required', { ADMISSION_SECRET: undefined, ADMISSION_REQUIRED: 'true' }],
    ] as const) {
      it(`refuses every connection with ${what}, logging the reason`, async () => {
        const back = useEnv(env);
        const logs = captureLog(undefined);
        let answers;
        try {
          answers = [
            await register(connecting('weak-plain', { secWebSocketProtocol: 'chat' })),
            await register(connecting('weak-none')),
            await register(connecting('weak-token', { secWebSocketProtocol: `chat, ${createAdmissionToken('short')}` })),
          ];
        } finally {
          logs.restore();
          back();
        }
        for (const answer of answers) {
          expect(answer).toMatchObject({
            errNo: ErrNo.MISCONFIGURED,
            errMsg: expect.stringMatching(/^admission is configured but ADMISSION_SECRET is (empty|5 bytes|not set).*every connection is refused/),
          });
        }
        expect(logs.lines).toHaveLength(3);
        for (const line of logs.lines) expect(line).toMatchObject({ level: 'error', fn: 'register', msg: 'refused', errNo: 500, errMsg: answers[0].errMsg });
        for (const id of ['weak-plain', 'weak-none', 'weak-token']) expect(await stored(id)).toBeUndefined();
      });
    }
  });

  it('logs connection ids only in their short form', async () => {
    const id = 'Zm9vYmFyYmF6+/==cXV4cXV1eA==wxyz';
    const logs = captureLog(undefined);
    try {
      expect((await register(connecting(id))).errNo).toBe(0);
      expect((await register(connecting(`${id}2`, { secWebSocketProtocol: 'mqtt' }))).errNo).toBe(ErrNo.UNSUPPORTED_SUBPROTOCOL);
    } finally {
      logs.restore();
    }
    expect(logs.lines.map((l) => [l.msg, l.id])).toEqual([
      ['connected', 'Zm9vYm…'],
      ['refused', 'Zm9vYm…'],
    ]);
    expect(logs.raw.join('\n')).not.toContain(id);
  });

  it('refuses with the reason when the store is unreachable', async () => {
    const back = useEnv({ LOCAL_COS_DOMAIN: 'http://127.0.0.1:1/{Bucket}' });
    try {
      const answer = await register(connecting('unreachable-id'));
      expect(answer.errNo).toBe(ErrNo.REGISTRY_UNAVAILABLE);
      expect(answer.errMsg).toMatch(/connection registry: write failed: .*ECONNREFUSED/);
    } finally {
      back();
    }
    expect(await stored('unreachable-id')).toBeUndefined();
  });

  it('refuses when the store rejects the credentials', async () => {
    const back = useEnv({ TENCENTCLOUD_SECRETKEY: 'wrong-key' });
    try {
      const answer = await register(connecting('wrong-key-id'));
      expect(answer.errNo).toBe(ErrNo.REGISTRY_UNAVAILABLE);
      expect(answer.errMsg).toMatch(/SignatureDoesNotMatch/);
    } finally {
      back();
    }
    expect(await stored('wrong-key-id')).toBeUndefined();
  });

  it('names a missing variable', async () => {
    const back = useEnv({ bucket: undefined });
    try {
      expect(await register(connecting('cfg-id'))).toMatchObject({
        errNo: ErrNo.MISCONFIGURED,
        errMsg: expect.stringMatching(/missing environment variable bucket/),
      });
    } finally {
      back();
    }
  });
});
