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

  it('refuses a secret where an environment variable name belongs', () => {
    const c = valid();
    c.stages.dev.admission = { secretEnv: 'correct horse battery staple' };
    expect(problems(c)).toEqual([expect.stringMatching(/^stages\.dev\.admission\.secretEnv: must be an environment variable name/)]);
    c.stages.dev.admission = { secret: 'hunter2' };
    expect(problems(c).join('\n')).toMatch(/unknown field\(s\) "secret"/);
  });

  it('refuses broken JSON and a missing file with the file name', () => {
    expect(() => loadConfig('/nonexistent/app.json')).toThrow(/invalid configuration in \/nonexistent\/app.json:\n  - cannot read the file/);
  });

  it('selects by flags, then by environment', () => {
    expect(selectionFrom(['--stage', 'prod', '--region=ap-shanghai'], {})).toEqual({ stage: 'prod', region: 'ap-shanghai' });
    expect(selectionFrom([], { STAGE: 'dev', REGION: 'ap-guangzhou' })).toEqual({ stage: 'dev', region: 'ap-guangzhou' });
    expect(selectionFrom(['--stage', 'prod'], { STAGE: 'dev' })).toEqual({ stage: 'prod', region: undefined });
  });

  it('gives one target per (stage, region), merging stage overrides into the defaults', () => {
    const config = loadConfig();
    const targets = targetsFor(config);
    const expected = Object.entries(config.stages).flatMap(([stage, s]) => s.regions.map((r) => `${stage}/${r}`));
    expect(targets.map((t) => `${t.stage}/${t.region}`)).toEqual(expected);
    const prod = targetsFor(config, { stage: 'prod', region: 'ap-shanghai' });
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
