import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRegistryConfig } from '../../functions/lib/config';
import { ErrNo } from '../../functions/lib/errors';
import { ConnectionRegistry } from '../../functions/lib/registry';
import { startCos, useEnv, type CosFixture } from '../support/cos-fixture';
import { populate } from '../support/populate';
import { captureLog } from './capture-log';
import chat from '../../functions/chat/app';

const cleanup = chat.cleanup;

describe('cleanup', () => {
  let cos: CosFixture;
  let restore: () => void;
  let registry: ConnectionRegistry;
  beforeAll(async () => {
    cos = await startCos();
    restore = useEnv(cos.env);
    registry = new ConnectionRegistry(readRegistryConfig(cos.env));
  });
  afterAll(async () => {
    restore();
    await cos.stop();
  });

  it('removes the connection and nothing else', async () => {
    const [gone, kept] = await populate(registry, 2);
    expect(await cleanup({ websocket: { action: 'closing', secConnectionID: gone } })).toEqual({ errNo: 0, errMsg: 'ok' });
    expect(await registry.list()).toEqual([kept]);
  });

  it('counts an id that is already gone as success', async () => {
    expect(await cleanup({ websocket: { action: 'closing', secConnectionID: 'never-registered+/=' } })).toEqual({ errNo: 0, errMsg: 'ok' });
  });

  it('answers malformed events with the reason instead of throwing', async () => {
    expect(await cleanup({})).toMatchObject({ errNo: ErrNo.NO_WEBSOCKET });
    expect(await cleanup({ websocket: { action: 'data send', secConnectionID: 'x' } })).toMatchObject({
      errNo: ErrNo.MALFORMED_EVENT,
      errMsg: expect.stringMatching(/"closing"/),
    });
  });

  it('logs connection ids only in their short form', async () => {
    const [id] = await populate(registry, 1);
    const logs = captureLog(undefined);
    try {
      await cleanup({ websocket: { action: 'closing', secConnectionID: id } });
    } finally {
      logs.restore();
    }
    expect(logs.lines).toEqual([{ level: 'info', fn: 'cleanup', msg: 'disconnected', id: `${id.slice(0, 6)}…`, rooms: 0 }]);
  });

  it('reports an unreachable store without throwing', async () => {
    const back = useEnv({ LOCAL_COS_DOMAIN: 'http://127.0.0.1:1/{Bucket}' });
    try {
      expect(await cleanup({ websocket: { action: 'closing', secConnectionID: 'x' } })).toMatchObject({
        errNo: ErrNo.REGISTRY_UNAVAILABLE,
        errMsg: expect.stringMatching(/failed: ECONNREFUSED/),
      });
    } finally {
      back();
    }
  });
});
