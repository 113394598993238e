/**
 * Which stacks to build: one per (app, stage, region), chosen by `--app` / `--stage` / `--region`
 * flags or the `APP` / `STAGE` / `REGION` environment variables.
 */
import { regionShortName } from './regions';
import type { AppConfig, Settings } from './schema';

/** One stack to synthesize: an app's stage in a region, with its merged settings. */
export interface Target {
  app: string;
  /** The app's module, relative to the project root. */
  entry: string;
  /** The app's own environment variables for its functions. */
  variables: Record<string, string>;
  stage: string;
  region: string;
  /** Short region name used in resource names, e.g. `gz`. */
  regionShort: string;
  /** `<app>-<stage>-<region short>`: the stack name and the prefix of every resource name. */
  name: string;
  settings: Settings;
}

/** An app, stage and/or region to restrict to; absent means all. */
export interface Selection {
  app?: string;
  stage?: string;
  region?: string;
}

/** Reads the selection from `--stage X` / `--stage=X` (and region) or STAGE / REGION. */
export function selectionFrom(argv: string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): Selection {
  const flag = (name: string): string | undefined => {
    for (let i = 0; i < argv.length; i++) {
      if (argv[i] === `--${name}`) return argv[i + 1];
      if (argv[i].startsWith(`--${name}=`)) return argv[i].slice(name.length + 3);
    }
    return undefined;
  };
  return { app: flag('app') || env.APP || undefined, stage: flag('stage') || env.STAGE || undefined, region: flag('region') || env.REGION || undefined };
}

type Overrides = Partial<Omit<Settings, 'functions' | 'push' | 'rooms'>> & {
  functions?: Partial<Settings['functions']>;
  push?: Partial<Settings['push']>;
  rooms?: Partial<Settings['rooms']>;
};

function mergeSettings(base: Settings, over: Overrides): Settings {
  return {
    environment: over.environment ?? base.environment,
    path: over.path ?? base.path,
    functions: { ...base.functions, ...over.functions },
    push: { ...base.push, ...over.push },
    idleTimeoutSeconds: over.idleTimeoutSeconds ?? base.idleTimeoutSeconds,
    registryExpiryDays: over.registryExpiryDays ?? base.registryExpiryDays,
    rooms: { ...base.rooms, ...over.rooms },
    // null switches admission off even when what is below has it.
    admission: over.admission === undefined ? base.admission : over.admission,
  };
}

/** The default app: the first the configuration names. */
export function defaultApp(config: AppConfig): string {
  return Object.keys(config.apps)[0]!;
}

/**
 * Every target the configuration produces, restricted by the selection: each app in each stage and
 * region. Settings are the defaults, then the app's, then the stage's. Throws for an unknown app,
 * stage or region.
 */
export function targetsFor(config: AppConfig, selection: Selection = {}): Target[] {
  const apps = Object.keys(config.apps);
  if (selection.app && !apps.includes(selection.app)) {
    throw new Error(`unknown app "${selection.app}"; the configuration has: ${apps.join(', ')}`);
  }
  const stages = Object.keys(config.stages);
  if (selection.stage && !stages.includes(selection.stage)) {
    throw new Error(`unknown stage "${selection.stage}"; the configuration has: ${stages.join(', ')}`);
  }
  const targets: Target[] = [];
  for (const app of selection.app ? [selection.app] : apps) {
    const { entry, variables, ...appSettings } = config.apps[app]!;
    for (const stage of selection.stage ? [selection.stage] : stages) {
      const stageConfig = config.stages[stage]!;
      if (selection.region && !stageConfig.regions.includes(selection.region)) {
        if (selection.stage) {
          throw new Error(`stage "${stage}" is not deployed to region "${selection.region}"; its regions: ${stageConfig.regions.join(', ')}`);
        }
        continue;
      }
      const { regions, ...stageSettings } = stageConfig;
      const settings = mergeSettings(mergeSettings(config.defaults, appSettings), stageSettings);
      for (const region of selection.region ? [selection.region] : regions) {
        const regionShort = regionShortName(region);
        targets.push({ app, entry, variables: { ...variables }, stage, region, regionShort, name: `${app}-${stage}-${regionShort}`, settings });
      }
    }
  }
  if (targets.length === 0) throw new Error(`no stage is deployed to region "${selection.region}"`);
  return targets;
}
