/**
 * The local cloud's Redis for web-mode stacks: Debian's real redis-server, one per stack, on a
 * free loopback port, its data (append-only file) in the data folder, kept across restarts.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalRedis, REDIS_PACKAGE, RedisError } from '../../local/redis/server';
import { LocalServices } from '../../local/services';

let root: string;
const clients: Redis[] = [];
const services: LocalRedis[] = [];

function client(address: { host: string; port: number }, password?: string): Redis {
  // no retries: a refused command or connection shows at once
  const redis = new Redis({
    ...address,
    password,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
    enableReadyCheck: false,
  });
  redis.on('error', () => undefined);
  clients.push(redis);
  return redis;
}

/** One inline command on a fresh connection, without AUTH; the first reply line. */
function rawCommand(address: { host: string; port: number }, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(address.port, address.host, () => socket.write(`${command}\r\n`));
    socket.once('data', (chunk) => {
      socket.destroy();
      resolve(chunk.toString('latin1').split('\r\n')[0]!);
    });
    socket.once('error', reject);
  });
}

function localRedis(dir: string, options: Partial<ConstructorParameters<typeof LocalRedis>[0]> = {}): LocalRedis {
  const redis = new LocalRedis({ directory: dir, log: () => {}, ...options });
  services.push(redis);
  return redis;
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[2]!.startsWith('Z');
  } catch {
    return false;
  }
}

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'web-redis-'));
});

afterAll(async () => {
  for (const c of clients) c.disconnect();
  await Promise.all(services.map((s) => s.stop()));
  await rm(root, { recursive: true, force: true });
});

describe('LocalRedis', () => {
  it('starts redis-server for a stack on loopback, with its password and its data in <dir>/<stack>/', async () => {
    const dir = path.join(root, 'start');
    const redis = localRedis(dir);
    const address = await redis.ensure('chat-dev-gz', { password: 'local-secret' });
    expect(address.host).toBe('127.0.0.1');
    const authed = client(address, 'local-secret');
    await authed.connect();
    expect(await authed.ping()).toBe('PONG');
    expect(await authed.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
    expect(await authed.config('GET', 'bind')).toEqual(['bind', '127.0.0.1']);
    expect(await authed.config('GET', 'dir')).toEqual(['dir', path.join(dir, 'chat-dev-gz')]);
    // without the password, a command is refused
    expect(await rawCommand(address, 'GET k')).toMatch(/^-NOAUTH/);
    // the configuration holds the password: only its owner may read it
    expect(statSync(path.join(dir, 'chat-dev-gz', 'redis.conf')).mode & 0o777).toBe(0o600);
    // asked again, the same server answers
    expect(await redis.ensure('chat-dev-gz', { password: 'local-secret' })).toEqual(address);
  });

  it('restarts on the same port keeping its data, and a new start after a stop keeps it too', async () => {
    const dir = path.join(root, 'restart');
    const redis = localRedis(dir);
    const address = await redis.ensure('chat-dev-gz');
    const before = client(address);
    await before.connect();
    await before.set('room:lobby', 'kept');
    await before.rpush('history', 'a', 'b');
    const pid = redis.server('chat-dev-gz')!.pid!;
    expect(await redis.restart('chat-dev-gz')).toEqual(address);
    expect(redis.server('chat-dev-gz')!.pid).not.toBe(pid);
    const after = client(address);
    await after.connect();
    expect(await after.get('room:lobby')).toBe('kept');
    expect(await after.lrange('history', 0, -1)).toEqual(['a', 'b']);

    // a local cloud started again: the same data, on the port used last when it is free
    await redis.stop();
    const again = localRedis(dir);
    const next = await again.ensure('chat-dev-gz');
    expect(next).toEqual(address);
    const third = client(next);
    await third.connect();
    expect(await third.get('room:lobby')).toBe('kept');
  });

  it('stops the server a killed local cloud left running in that folder before starting its own', async () => {
    const dir = path.join(root, 'leftover');
    const first = localRedis(dir);
    await first.ensure('chat-dev-gz');
    const leftover = first.server('chat-dev-gz')!.pid!;
    // a second local cloud on the same data, as after the first was killed
    const second = localRedis(dir);
    await second.ensure('chat-dev-gz');
    expect(running(leftover)).toBe(false);
    expect(running(second.server('chat-dev-gz')!.pid!)).toBe(true);
  });

  it('with no redis-server on the PATH, names the Debian package to install', async () => {
    const redis = localRedis(path.join(root, 'missing'), { env: { PATH: path.join(root, 'empty-bin') } });
    const err = await redis.ensure('chat-dev-gz').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RedisError);
    expect((err as RedisError).code).toBe('ERR_REDIS_MISSING');
    expect((err as Error).message).toContain(`apt-get install ${REDIS_PACKAGE}`);
    expect(REDIS_PACKAGE).toBe('redis-server');
    expect(() => redis.checkInstalled()).toThrow(/redis-server/);
  });

  it('event mode starts none: the local services start no Redis until a stack asks', async () => {
    const dir = path.join(root, 'services');
    const local = await LocalServices.start({
      dataDir: dir,
      stack: 'chat-dev-gz',
      region: 'ap-guangzhou',
      ports: { gateway: 0, cos: 0, cloudApi: 0 },
      log: () => {},
    });
    try {
      expect(local.redis.address('chat-dev-gz')).toBeUndefined();
      expect(existsSync(path.join(dir, 'redis'))).toBe(false);
      const address = await local.redis.ensure('chat-dev-gz');
      expect(local.redis.address('chat-dev-gz')).toEqual(address);
      const pid = local.redis.server('chat-dev-gz')!.pid!;
      await local.stop();
      expect(running(pid)).toBe(false);
    } finally {
      await local.stop();
    }
  });
});
