/**
 * The README's example app, through the harness: locally by default, against a deployed endpoint
 * with `npm run test:deployed -- --app shout --stage S --region R`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newAdmissionSecret, openAppEndpoint, TestClient, type AppEndpoint } from '../harness';

let endpoint: AppEndpoint;
const clients: TestClient[] = [];
const connect = async () => {
  const client = await TestClient.connect(endpoint.url, { protocols: endpoint.protocols(['shout']) });
  clients.push(client);
  return client;
};

describe('shout', () => {
  beforeAll(async () => {
    endpoint = await openAppEndpoint({ app: 'shout', admissionSecret: newAdmissionSecret() });
  }, 120_000);
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await endpoint?.stop();
  }, 60_000);

  it('shouts every text message to everyone, the sender included', async () => {
    const [a, b] = [await connect(), await connect()];
    expect(a.protocol).toBe('shout');
    a.send('hello there');
    for (const client of [a, b]) {
      const shout = await client.nextJson((m) => m.type === 'shout' && m.text === 'HELLO THERE');
      expect(shout.online).toBeGreaterThanOrEqual(2);
      if (endpoint.local) expect(shout.online).toBe(2);
    }
  });

  it('sends a binary frame back to its sender only, reversed', async () => {
    const [a, b] = [await connect(), await connect()];
    a.send(Buffer.from([1, 2, 3, 4]));
    const back = await a.waitFor('the reversed frame', () => a.received.find((r) => r.binary));
    expect(back.binary).toEqual(Buffer.from([4, 3, 2, 1]));
    // b sends a text to prove it is connected, and it got no binary meanwhile.
    b.send('ping');
    await b.nextJson((m) => m.text === 'PING');
    expect(b.received.some((r) => r.binary)).toBe(false);
  });

  it('refuses a client without the admission token when the endpoint requires one', async (context) => {
    if (!endpoint.admissionSecret) return context.skip();
    await expect(TestClient.connect(endpoint.url, { protocols: ['shout'] })).rejects.toMatchObject({ code: 'ERR_HANDSHAKE_REFUSED', status: 403 });
  });
});
