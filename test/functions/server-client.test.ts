/**
 * The server-side client against a real HTTP push address (the recorder) and the real local COS
 * store: what it sends, how each push ended, and what it does to the registry.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readRegistryConfig, type RegistryConfig } from '../../functions/lib/config';
import { ConnectionRegistry } from '../../functions/lib/registry';
import { RoomRegistry } from '../../functions/lib/rooms';
import { guestOf } from '../../functions/lib/users';
import { createServerClient, MAX_PUSH_BYTES } from '../../functions/toolkit';
import { startCos, type CosFixture } from '../support/cos-fixture';
import { fakeConnectionId } from '../support/populate';
import { PushRecorder } from '../support/push-recorder';
import { captureLog } from './capture-log';

describe('server client', () => {
  let cos: CosFixture;
  let config: RegistryConfig;
  let registry: ConnectionRegistry;
  const push = new PushRecorder();

  beforeAll(async () => {
    cos = await startCos();
    await push.start();
    config = readRegistryConfig(cos.env);
    registry = new ConnectionRegistry(config);
  });
  afterAll(async () => {
    await push.stop();
    await cos.stop();
  });
  beforeEach(async () => {
    push.reset();
    await registry.removeMany(await registry.list());
  });

  const quiet = <T>(run: () => Promise<T>): Promise<T> => {
    const logs = captureLog('silent');
    return run().finally(() => logs.restore());
  };

  it('sends strings as text, bytes as binary and other values as JSON, and closes', async () => {
    const server = createServerClient({ url: push.url });
    const id = fakeConnectionId();
    expect(await server.send(id, 'plain')).toEqual({ id, status: 'delivered' });
    await server.send(id, Buffer.from([1, 2, 3]));
    await server.send(id, { type: 'announcement', text: 'hi' });
    expect(await server.close(id)).toEqual({ id, status: 'delivered' });
    expect(push.to(id)).toEqual([
      { action: 'data send', secConnectionID: id, dataType: 'text', data: 'plain' },
      { action: 'data send', secConnectionID: id, dataType: 'binary', data: 'AQID' },
      { action: 'data send', secConnectionID: id, dataType: 'text', data: '{"type":"announcement","text":"hi"}' },
      { action: 'closing', secConnectionID: id },
    ]);
    // Without a registry there is nothing to list or broadcast to.
    expect('broadcast' in server).toBe(false);
  });

  it("says how each push ended: gone on a non-200, refused with the gateway's errNo and errMsg, failed without an answer", async () => {
    const server = createServerClient({ url: push.url });
    const [gone, refused] = [fakeConnectionId(), fakeConnectionId()];
    push.failing.add(gone);
    push.gone.add(refused);
    expect(await server.send(gone, 'x')).toMatchObject({ id: gone, status: 'gone', httpStatus: 500 });
    expect(await server.send(refused, 'x')).toEqual({ id: refused, status: 'refused', errNo: 1, errMsg: 'connection not found' });
    expect(await server.close(refused)).toEqual({ id: refused, status: 'refused', errNo: 1, errMsg: 'connection not found' });
    // A port nobody listens on: no answer at all.
    const nowhere = createServerClient({ url: 'http://127.0.0.1:9/api-none', timeoutMs: 2000 });
    expect(await nowhere.send(gone, 'x')).toMatchObject({ id: gone, status: 'failed', error: expect.any(String) });
  });

  it('refuses over 256 KB before sending anything, and exactly 256 KB goes through', async () => {
    const server = createServerClient({ url: push.url, registry: config });
    const id = fakeConnectionId();
    await registry.add({ id, connectedAt: new Date().toISOString() });
    await expect(server.send(id, Buffer.alloc(MAX_PUSH_BYTES + 1))).rejects.toMatchObject({ name: 'AppError', code: 'MESSAGE_TOO_LARGE' });
    await expect(server.broadcast('x'.repeat(MAX_PUSH_BYTES + 1))).rejects.toMatchObject({ code: 'MESSAGE_TOO_LARGE' });
    expect(push.pushes).toEqual([]);
    expect((await server.send(id, Buffer.alloc(MAX_PUSH_BYTES))).status).toBe('delivered');
  });

  it('with the registry, lists and broadcasts to all but the excepted, removing the gone and closing the refused', async () => {
    const server = createServerClient({ url: push.url, registry: config, concurrency: 2 });
    const [a, b, gone, refused] = [fakeConnectionId(), fakeConnectionId(), fakeConnectionId(), fakeConnectionId()];
    for (const id of [a, b, gone, refused]) await registry.add({ id, connectedAt: new Date().toISOString() });
    expect((await server.connections()).map((c) => c.id).sort()).toEqual([a, b, gone, refused].sort());
    push.failing.add(gone);
    push.gone.add(refused);
    push.delayMs = 20;
    const result = await quiet(() => server.broadcast({ type: 'announcement', text: 'noon' }, { except: b }));
    expect(result).toMatchObject({ attempted: 3, delivered: 1, gone: 1, refused: 1, failed: 0, removed: 2 });
    expect(result.outcomes.find((o) => o.id === refused)).toEqual({ id: refused, status: 'refused', errNo: 1, errMsg: 'connection not found' });
    expect(push.jsonTo(a)).toEqual([{ type: 'announcement', text: 'noon' }]);
    expect(push.to(b)).toEqual([]);
    // Asked to close as the handlers do (an undocumented errNo may not mean gone); the gone one is closing already.
    expect(push.to(refused).map((p) => p.action)).toEqual(['data send', 'closing']);
    expect(push.to(gone).map((p) => p.action)).toEqual(['data send']);
    expect((await registry.list()).sort()).toEqual([a, b].sort());
    expect(push.maxInFlight).toBeLessThanOrEqual(2);
  });

  it('with the registry, a single send found gone removes that record too', async () => {
    const server = createServerClient({ url: push.url, registry: config });
    const [kept, gone] = [fakeConnectionId(), fakeConnectionId()];
    for (const id of [kept, gone]) await registry.add({ id, connectedAt: new Date().toISOString() });
    push.failing.add(gone);
    expect((await quiet(() => server.send(gone, 'x'))).status).toBe('gone');
    expect(await registry.list()).toEqual([kept]);
  });

  it('with the registry, broadcasts to one room only and sends to one user, pruning the gone from that room', async () => {
    const server = createServerClient({ url: push.url, registry: config });
    const rooms = new RoomRegistry(config);
    const [a, b, gone, outside] = [fakeConnectionId(), fakeConnectionId(), fakeConnectionId(), fakeConnectionId()];
    for (const id of [a, b, gone]) await rooms.join(id, { room: 'ops', explicit: true, user: guestOf(id) });
    await rooms.join(outside, { room: 'other', explicit: true, user: guestOf(outside) });
    for (const id of [a, b, gone, outside]) await registry.add({ id, connectedAt: new Date().toISOString() });
    push.failing.add(gone);
    const result = await quiet(() => server.broadcastToRoom('ops', 'deploying', { except: b }));
    expect(result).toMatchObject({ attempted: 2, delivered: 1, gone: 1, removed: 1 });
    expect(push.to(a).map((p) => p.data)).toEqual(['deploying']);
    expect(push.to(b)).toEqual([]);
    expect(push.to(outside)).toEqual([]);
    expect((await rooms.members('ops')).map((m) => m.connectionId).sort()).toEqual([a, b].sort());
    expect(await registry.get(gone)).toBeUndefined();
    await expect(server.broadcastToRoom('no such/room', 'x')).rejects.toMatchObject({ code: 'BAD_ROOM' });

    await rooms.addUserConnection('ops-lead', a);
    await rooms.addUserConnection('ops-lead', outside);
    expect(await server.sendToUser('ops-lead', { page: true })).toMatchObject({ attempted: 2, delivered: 2 });
    expect(push.jsonTo(outside)).toEqual([{ page: true }]);
  });

  it("reaches the app's store in the same bucket", async () => {
    const server = createServerClient({ url: push.url, registry: config });
    await server.store.put('notes/1', 'n');
    expect((await server.store.list('notes/')).map((e) => e.key)).toEqual(['notes/1']);
    await server.store.delete('notes/1');
  });

  it('refuses options it cannot use, with INVALID_OPTIONS', () => {
    for (const options of [{ url: 'ws://x/api' }, { url: '' }, { url: push.url, concurrency: 0 }, { url: push.url, timeoutMs: 1.5 }]) {
      expect(() => createServerClient(options), JSON.stringify(options)).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }));
    }
  });
});
