/**
 * The deploy state across a change of mode: either mode starts afresh on the other's file, so a
 * stack switched from web to event mode (or back) deploys again instead of stopping.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDeployState, readWebDeployState, writeDeployState, writeWebDeployState } from '../../stacks/post-deploy-contract';

describe('deploy state across modes', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'deploy-state-'));
    env = { CHAT_DEPLOY_STATE_DIR: dir };
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("reads each mode's own file, and starts afresh on the other mode's", () => {
    const now = new Date().toISOString();
    writeWebDeployState({ version: 1, mode: 'web', stack: 'chat-dev-gz', region: 'ap-guangzhou', updatedAt: now }, env);
    expect(readWebDeployState('chat-dev-gz', env)).toMatchObject({ mode: 'web', stack: 'chat-dev-gz' });
    expect(readDeployState('chat-dev-gz', env)).toBeUndefined();
    const event = {
      version: 1 as const,
      stack: 'chat-dev-gz',
      region: 'ap-guangzhou',
      serviceId: 's',
      apiId: 'a',
      url: 'http://127.0.0.1:1/api-x',
      updatedAt: now,
    };
    writeDeployState(event, env);
    expect(readDeployState('chat-dev-gz', env)).toEqual(event);
    expect(readWebDeployState('chat-dev-gz', env)).toBeUndefined();
  });
});
