/**
 * `npm start -- --limits off`: the local cloud started with the options start.ts gives for it lets
 * one connection send far faster than 10 messages/s.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalCloud, type LocalEndpoints } from '../../local/cloud';
import { parseStartArgs } from '../../local/start-args';
import { ChatClient } from '../support/chat-client';

describe('npm start -- --limits off', () => {
  let dataDir: string;
  let cloud: LocalCloud;
  let endpoints: LocalEndpoints;
  const clients: ChatClient[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'limits-off-'));
    const args = parseStartArgs([
      '--limits',
      'off',
      '--port',
      '0',
      '--gateway-port',
      '0',
      '--cos-port',
      '0',
      '--cloud-api-port',
      '0',
      '--data-dir',
      dataDir,
      '--quiet',
    ]);
    expect(args.cloud.limits).toEqual({ rateLimits: false });
    cloud = new LocalCloud({ ...args.cloud, buildDir: path.join(dataDir, 'dist'), log: () => {} });
    endpoints = await cloud.start();
  }, 120_000);
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
    await cloud?.stop();
    await rm(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('acks 50 messages sent back to back on one connection and delivers them in order', async () => {
    const sender = await ChatClient.connect(endpoints.wsUrl);
    const receiver = await ChatClient.connect(endpoints.wsUrl);
    clients.push(sender, receiver);
    // Limits off (rateLimits: false): 50 at once is five times the default burst of 10.
    for (let i = 0; i < 50; i++) sender.send(`fast ${i}`);
    const acks = await sender.waitFor('50 acks', () => {
      if (sender.closed) throw new Error(`the sender was closed with ${sender.closed.code} (${sender.closed.reason})`);
      const got = sender.of('ack');
      return got.length >= 50 ? got : undefined;
    });
    expect(acks).toHaveLength(50);
    expect(acks.every((ack) => ack.delivered === 1)).toBe(true);
    expect(sender.of('error')).toEqual([]);
    const texts = await receiver.waitFor('the 50 messages', () => {
      const got = receiver.messages().map((m) => m.text);
      return got.length >= 50 ? got : undefined;
    });
    expect(texts).toEqual(Array.from({ length: 50 }, (_, i) => `fast ${i}`));
    expect(sender.closed).toBeUndefined();
  });
});
