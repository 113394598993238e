import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig } from '../../config/load';
import { checkRedisPasswords, RedisPasswordError, redisPasswordProblem } from '../../config/redis-password';
import { selectionFrom, targetsFor, type Target } from '../../config/select';
import { TargetError } from '../../config/web-mode';

const valid = () => JSON.parse(JSON.stringify(loadConfig()));

function problems(raw: unknown): string[] {
  try {
    parseConfig(raw, 'test.json');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected the configuration to be refused');
}

/** The lines a web-mode selection is refused with. */
function refused(raw: unknown, selection: Parameters<typeof targetsFor>[1] = {}): string[] {
  try {
    targetsFor(parseConfig(raw), selection);
  } catch (err) {
    expect(err).toBeInstanceOf(TargetError);
    return (err as TargetError).problems;
  }
  throw new Error('expected the targets to be refused');
}

describe('mode', () => {
  it('is event unless an app, a stage or the selection says web', () => {
    const c = valid();
    expect(targetsFor(parseConfig(c)).every((t) => t.settings.mode === 'event')).toBe(true);
    c.apps.board.mode = 'web';
    c.stages.prod.mode = 'web';
    c.stages.prod.redis = { zones: { 'ap-shanghai': 'ap-shanghai-2' } };
    const modes = Object.fromEntries(targetsFor(parseConfig(c)).map((t) => [t.name, t.settings.mode]));
    expect(modes).toMatchObject({ 'chat-dev-gz': 'event', 'chat-prod-gz': 'web', 'chat-prod-sh': 'web', 'board-dev-gz': 'web', 'shout-dev-gz': 'event' });
    // The selection's mode wins over both.
    const [forced] = targetsFor(parseConfig(c), { app: 'board', stage: 'dev', mode: 'event' });
    expect(forced!.settings.mode).toBe('event');
    expect(targetsFor(parseConfig(valid()), { app: 'chat', stage: 'dev', mode: 'web' })[0]!.settings.mode).toBe('web');
  });

  it('is read from --mode or CHAT_MODE, and a bad one is refused', () => {
    expect(selectionFrom(['--mode', 'web'], {})).toMatchObject({ mode: 'web' });
    expect(selectionFrom(['--mode=event'], {})).toMatchObject({ mode: 'event' });
    expect(selectionFrom([], { CHAT_MODE: 'web' })).toMatchObject({ mode: 'web' });
    // Vite sets MODE for itself; it is not ours.
    expect(selectionFrom([], { MODE: 'test' }).mode).toBeUndefined();
    expect(() => selectionFrom(['--mode', 'websocket'], {})).toThrow(/--mode must be event or web, got "websocket"/);
    const c = valid();
    c.stages.dev.mode = 'Web';
    expect(problems(c)).toEqual([expect.stringMatching(/^stages\.dev\.mode: must be event or web, got "Web"$/)]);
  });
});

describe('web-mode settings', () => {
  it('default to the smallest Redis, a /16 VPC with a /24 subnet and a 900 s function, each overridable in part', () => {
    const c = valid();
    const [dev] = targetsFor(parseConfig(c), { app: 'chat', stage: 'dev', mode: 'web' });
    expect(dev!.settings).toMatchObject({
      redis: { typeId: 15, memSizeMb: 1024, replicas: 1, passwordEnv: 'CHAT_REDIS_PASSWORD', zones: {} },
      web: { timeoutSeconds: 900 },
      vpc: { cidr: '10.0.0.0/16', subnetCidr: '10.0.1.0/24' },
    });
    c.defaults.redis = { typeId: 17, memSizeMb: 2048, replicas: 2, passwordEnv: 'CHAT_REDIS_PASSWORD', zones: { 'ap-shanghai': 'ap-shanghai-2' } };
    c.apps.chat.redis = { memSizeMb: 4096 };
    c.stages.prod.redis = { zones: { 'ap-guangzhou': 'ap-guangzhou-6' }, passwordEnv: 'PROD_REDIS_PASSWORD' };
    c.stages.prod.vpc = { subnetCidr: '10.0.8.0/24' };
    const targets = targetsFor(parseConfig(c), { app: 'chat', stage: 'prod', mode: 'web' });
    expect(targets.map((t) => t.settings.redis)).toEqual([
      {
        typeId: 17,
        memSizeMb: 4096,
        replicas: 2,
        passwordEnv: 'PROD_REDIS_PASSWORD',
        zones: { 'ap-shanghai': 'ap-shanghai-2', 'ap-guangzhou': 'ap-guangzhou-6' },
      },
      {
        typeId: 17,
        memSizeMb: 4096,
        replicas: 2,
        passwordEnv: 'PROD_REDIS_PASSWORD',
        zones: { 'ap-shanghai': 'ap-shanghai-2', 'ap-guangzhou': 'ap-guangzhou-6' },
      },
    ]);
    expect(targets[0]!.settings.vpc).toEqual({ cidr: '10.0.0.0/16', subnetCidr: '10.0.8.0/24' });
  });

  it('refuses Redis types and sizes TencentDB for Redis has no standard instance of', () => {
    const c = valid();
    c.stages.dev.redis = { typeId: 7, memSizeMb: 1000, replicas: 0 };
    c.stages.prod.redis = { zones: { 'ap-shanghai': 'ap-guangzhou-3' }, passwordEnv: 'TF_VAR_X' };
    expect(problems(c)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^stages\.dev\.redis\.typeId: must be a standard-architecture type: 6 \(Redis 4\.0\), 8 \(Redis 5\.0\), 15 \(Redis 6\.2\), 17 \(Redis 7\.0\); got 7/,
        ),
        'stages.dev.redis.memSizeMb: must be a multiple of 1024 from 1024 to 65536 (TencentDB for Redis sizes), got 1000',
        expect.stringMatching(/^stages\.dev\.redis\.replicas: /),
        'stages.prod.redis.zones.ap-shanghai: ap-guangzhou-3 is not a zone of ap-shanghai',
        expect.stringMatching(/^stages\.prod\.redis\.passwordEnv: must not use a reserved prefix/),
      ]),
    );
  });

  it('refuses a web-mode stack the cloud could not make, naming the stack and the setting', () => {
    const c = valid();
    c.stages.dev.idleTimeoutSeconds = 3600;
    expect(refused(c, { stage: 'dev', mode: 'web' })).toEqual(
      expect.arrayContaining([
        "chat-dev-gz: web mode takes idleTimeoutSeconds from 10 to 1800 (the web function's WSParams.IdleTimeOut), got 3600",
        "chat-dev-gz: web.timeoutSeconds (900) must be at least idleTimeoutSeconds (3600): a web function's execution timeout may not be shorter than its idle timeout",
      ]),
    );
    // The same settings are fine in event mode, whose API takes up to 7200 s.
    expect(() => targetsFor(parseConfig(c), { stage: 'dev' })).not.toThrow();

    const zones = valid();
    const lines = refused(zones, { app: 'chat', stage: 'prod', mode: 'web' });
    expect(lines).toEqual([
      expect.stringMatching(/^chat-prod-sh: web mode needs an availability zone for Redis in ap-shanghai: set redis\.zones\["ap-shanghai"\]/),
    ]);
    zones.stages.prod.redis = { zones: { 'ap-shanghai': 'ap-shanghai-2' } };
    expect(targetsFor(parseConfig(zones), { app: 'chat', stage: 'prod', mode: 'web' }).map((t) => t.name)).toEqual(['chat-prod-gz', 'chat-prod-sh']);

    const net = valid();
    net.stages.dev.vpc = { cidr: '10.0.0.0/16', subnetCidr: '10.1.0.0/24' };
    expect(refused(net, { stage: 'dev', mode: 'web' })).toContain('chat-dev-gz: vpc.subnetCidr 10.1.0.0/24 must lie inside vpc.cidr 10.0.0.0/16');
    net.stages.dev.vpc = { cidr: '8.8.0.0/16', subnetCidr: '8.8.1.1/24' };
    expect(refused(net, { stage: 'dev', mode: 'web' })).toEqual(
      expect.arrayContaining([
        'chat-dev-gz: vpc.subnetCidr 8.8.1.1/24 has host bits set',
        'chat-dev-gz: vpc.cidr 8.8.0.0/16 must lie in 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16, with a mask from /12 to /28',
      ]),
    );

    const same = valid();
    same.stages.prod.redis = { passwordEnv: 'CHAT_PROD_ADMISSION_SECRET', zones: { 'ap-shanghai': 'ap-shanghai-2' } };
    expect(refused(same, { app: 'chat', stage: 'prod', mode: 'web' })).toContain(
      'chat-prod-gz: redis.passwordEnv and admission.secretEnv are both CHAT_PROD_ADMISSION_SECRET: the Redis password and the admission secret must be different variables',
    );
  });
});

describe('the Redis password', () => {
  it('is refused where the provider or the cloud would refuse it, never showing it', () => {
    const problem = (value: string) => redisPasswordProblem('P', value);
    for (const ok of ['abcdefg1', 'Hunter2-horse', 'a'.repeat(63) + '1', 'x_+-&=!@#']) expect(problem(ok), ok).toBeUndefined();
    expect(problem('short1')).toBe('P has 6 characters; a Redis password has 8 to 64');
    expect(problem('a'.repeat(64) + '1')).toBe('P has 65 characters; a Redis password has 8 to 64');
    expect(problem('/abcdefg1')).toBe('P starts with "/", which TencentDB for Redis refuses');
    expect(problem('abcdefg1"')).toMatch(/^P holds characters TencentDB for Redis does not take/);
    // Letters only: one kind for both. Upper and lower case: two kinds for the cloud, one for the provider.
    expect(problem('abcdefgh')).toMatch(/^P must mix at least two of/);
    expect(problem('abcdEFGH')).toMatch(/^P must mix at least two of/);
    // Digits and a character only the cloud takes: two kinds for the cloud, one for the provider.
    expect(problem('1234567~')).toMatch(/^P must mix at least two of/);
    for (const bad of ['short1', 'abcdefgh', 'abcdefg1"']) expect(problem(bad)).not.toContain(bad);
  });

  it('is checked for web-mode stacks only, from the variable or TF_VAR_ of it, required at deploy and not at synth', () => {
    const targets = targetsFor(parseConfig(valid()), { app: 'chat', stage: 'dev', mode: 'web' });
    const event: Target[] = targetsFor(parseConfig(valid()), { app: 'chat', stage: 'dev' });
    expect(() => checkRedisPasswords(event, {})).not.toThrow();
    expect(() => checkRedisPasswords(targets, {}, { required: false })).not.toThrow();
    expect(() => checkRedisPasswords(targets, {})).toThrow(RedisPasswordError);
    expect(() => checkRedisPasswords(targets, {})).toThrow(/chat-dev-gz: CHAT_REDIS_PASSWORD is not set/);
    expect(() => checkRedisPasswords(targets, { TF_VAR_CHAT_REDIS_PASSWORD: 'abc' }, { required: false })).toThrow(
      /TF_VAR_CHAT_REDIS_PASSWORD has 3 characters/,
    );
    expect(() => checkRedisPasswords(targets, { CHAT_REDIS_PASSWORD: 'local-pass-1' })).not.toThrow();
  });
});
