import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig } from '../../config/load';
import { selectionFrom, targetsFor } from '../../config/select';
import { resourceNames } from '../../stacks/names';

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

describe('configuration', () => {
  it('loads the default configuration', () => {
    const config = loadConfig();
    expect(Object.keys(config.stages)).toEqual(expect.arrayContaining(['dev', 'prod']));
  });

  it('refuses a bad configuration naming the field and the reason', () => {
    const c = valid();
    c.defaults.functions.memoryMb = 100;
    c.stages.dev.regions = ['ap-guangzou'];
    c.stages.prod.functon = { memoryMb: 256 };
    c.defaults.idleTimeoutSeconds = 5;
    const found = problems(c);
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^defaults\.functions\.memoryMb: must be a multiple of 128 from 128 to 3072 \(SCF memory sizes\), got 100$/),
        expect.stringMatching(/^stages\.dev\.regions\[0\]: unknown region "ap-guangzou"/),
        expect.stringMatching(/^stages\.prod: unknown field\(s\) "functon"/),
        expect.stringMatching(/^defaults\.idleTimeoutSeconds: /),
      ]),
    );
  });

  it('takes SCF memory sizes only: multiples of 128 from 128 to 3072', () => {
    const at = (memoryMb: unknown, where: 'defaults' | 'stage' = 'defaults') => {
      const c = valid();
      if (where === 'defaults') c.defaults.functions.memoryMb = memoryMb;
      else c.stages.prod.functions = { memoryMb };
      return c;
    };
    for (const ok of [128, 256, 1536, 3072]) expect(() => parseConfig(at(ok))).not.toThrow();
    for (const bad of [0, 64, 100, 192, 3200, 4096]) {
      expect(problems(at(bad))).toEqual([`defaults.functions.memoryMb: must be a multiple of 128 from 128 to 3072 (SCF memory sizes), got ${bad}`]);
    }
    expect(problems(at(3200, 'stage'))).toEqual(['stages.prod.functions.memoryMb: must be a multiple of 128 from 128 to 3072 (SCF memory sizes), got 3200']);
    expect(problems(at(128.5))).toEqual(['defaults.functions.memoryMb: must be a whole number of MB']);
    expect(problems(at('256')).join('\n')).toMatch(/^defaults\.functions\.memoryMb: .*expected number/);
  });

  it('takes room settings from the defaults, the app and the stage, each over the one before, and refuses bad ones', () => {
    const c = valid();
    delete c.defaults.rooms;
    const [fallback] = targetsFor(parseConfig(c), { app: 'chat', stage: 'dev' });
    expect(fallback!.settings.rooms).toEqual({ historySize: 100, historyExpiryDays: 7, presenceLimit: 100 });
    c.apps.chat.rooms = { historySize: 20 };
    c.stages.prod.rooms = { presenceLimit: 5 };
    const [prod] = targetsFor(parseConfig(c), { app: 'chat', stage: 'prod', region: 'ap-guangzhou' });
    expect(prod!.settings.rooms).toEqual({ historySize: 20, historyExpiryDays: 7, presenceLimit: 5 });
    c.stages.prod.rooms = { historySize: 1001, presenceLimit: -1, keep: true };
    expect(problems(c)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^stages\.prod\.rooms\.historySize: /),
        expect.stringMatching(/^stages\.prod\.rooms\.presenceLimit: /),
        expect.stringMatching(/^stages\.prod\.rooms: unknown field\(s\) "keep"/),
      ]),
    );
  });

  it('refuses a secret where an environment variable name belongs', () => {
    const c = valid();
    c.stages.dev.admission = { secretEnv: 'correct horse battery staple' };
    expect(problems(c)).toEqual([expect.stringMatching(/^stages\.dev\.admission\.secretEnv: must be an environment variable name/)]);
    c.stages.dev.admission = { secret: 'hunter2' };
    expect(problems(c).join('\n')).toMatch(/unknown field\(s\) "secret"/);
  });

  it('refuses broken JSON and a missing file with the file name', () => {
    expect(() => loadConfig('/nonexistent/app.json')).toThrow(/invalid configuration in \/nonexistent\/app.json:\n {2}- cannot read the file/);
  });

  it('selects by flags, then by environment', () => {
    expect(selectionFrom(['--stage', 'prod', '--region=ap-shanghai'], {})).toEqual({ stage: 'prod', region: 'ap-shanghai' });
    expect(selectionFrom([], { STAGE: 'dev', REGION: 'ap-guangzhou' })).toEqual({ stage: 'dev', region: 'ap-guangzhou' });
    expect(selectionFrom(['--stage', 'prod'], { STAGE: 'dev' })).toEqual({ stage: 'prod', region: undefined });
  });

  it('gives one target per (stage, region) of an app, merging stage overrides into the defaults', () => {
    const config = loadConfig();
    const targets = targetsFor(config, { app: 'chat' });
    const expected = Object.entries(config.stages).flatMap(([stage, s]) => s.regions.map((r) => `${stage}/${r}`));
    expect(targets.map((t) => `${t.stage}/${t.region}`)).toEqual(expected);
    const prod = targetsFor(config, { app: 'chat', stage: 'prod', region: 'ap-shanghai' });
    expect(prod).toHaveLength(1);
    expect(prod[0]).toMatchObject({ name: 'chat-prod-sh', regionShort: 'sh' });
    expect(prod[0].settings.functions.memoryMb).toBe(config.stages.prod.functions?.memoryMb);
    expect(prod[0].settings.functions.timeoutSeconds).toBe(config.defaults.functions.timeoutSeconds);
  });

  it('refuses an unknown stage or a region the stage is not in', () => {
    const config = loadConfig();
    expect(() => targetsFor(config, { stage: 'qa' })).toThrow(/unknown stage "qa"; the configuration has: dev, prod/);
    expect(() => targetsFor(config, { stage: 'dev', region: 'ap-tokyo' })).toThrow(/stage "dev" is not deployed to region "ap-tokyo"/);
  });

  it('keeps every resource name unique across stages and regions', () => {
    const c = valid();
    c.stages.dev.regions = ['ap-guangzhou', 'ap-shanghai', 'ap-beijing'];
    const names = targetsFor(parseConfig(c)).flatMap((t) => {
      const n = resourceNames(t.name);
      return [n.bucketPrefix, n.role, n.policy, n.service, n.api, ...Object.values(n.functions)];
    });
    expect(new Set(names).size).toBe(names.length);
  });
});

describe('apps', () => {
  it('makes one target per app, stage and region; the first app is the default', () => {
    const c = valid();
    c.apps = { chat: { entry: 'functions/chat/app.ts' }, board: { entry: 'functions/board/app.ts' } };
    const config = parseConfig(c);
    const names = targetsFor(config).map((t) => t.name);
    expect(names).toEqual(['chat-dev-gz', 'chat-prod-gz', 'chat-prod-sh', 'board-dev-gz', 'board-prod-gz', 'board-prod-sh']);
    expect(targetsFor(config, { app: 'board', stage: 'dev' }).map((t) => [t.name, t.entry])).toEqual([['board-dev-gz', 'functions/board/app.ts']]);
    expect(() => targetsFor(config, { app: 'nope' })).toThrow(/unknown app "nope"; the configuration has: chat, board/);
    expect(selectionFrom(['--app', 'board'], {})).toMatchObject({ app: 'board' });
    expect(selectionFrom([], { APP: 'board' })).toMatchObject({ app: 'board' });
  });

  it("layers settings: the defaults, then the app's, then the stage's", () => {
    const c = valid();
    c.defaults.functions = { memoryMb: 128, timeoutSeconds: 15 };
    c.apps = { big: { entry: 'functions/big/app.ts', functions: { memoryMb: 512 }, idleTimeoutSeconds: 60, variables: { MODE: 'fast' } } };
    c.stages.prod.functions = { memoryMb: 1024 };
    const [dev] = targetsFor(parseConfig(c), { stage: 'dev' });
    expect(dev!.settings.functions).toEqual({ memoryMb: 512, timeoutSeconds: 15 });
    expect(dev!.settings.idleTimeoutSeconds).toBe(60);
    expect(dev!.variables).toEqual({ MODE: 'fast' });
    const [prod] = targetsFor(parseConfig(c), { stage: 'prod', region: 'ap-guangzhou' });
    expect(prod!.settings.functions).toEqual({ memoryMb: 1024, timeoutSeconds: 15 });
  });

  it('refuses apps without an entry, bad names, reserved variables, or none at all', () => {
    const c = valid();
    c.apps = { Chat: { entry: 'functions/chat/app.ts' }, board: {}, xx: { entry: 'app.js' }, ok: { entry: 'functions/ok/app.ts', variables: { SCF_X: '1' } } };
    expect(problems(c)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^apps\.Chat: app names are 2-12 lowercase letters/),
        expect.stringMatching(/^apps\.board\.entry: /),
        expect.stringMatching(/^apps\.xx\.entry: must be a \.ts file/),
        expect.stringMatching(/^apps\.ok\.variables\.SCF_X: uses a prefix SCF reserves/),
      ]),
    );
    const none = valid();
    none.apps = {};
    expect(problems(none)).toEqual([expect.stringMatching(/^apps: needs at least one app/)]);
  });
});
