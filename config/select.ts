/**
 * Which stacks to build: one per (app, stage, region), chosen by `--app` / `--stage` / `--region`
 * flags or the `APP` / `STAGE` / `REGION` environment variables.
 */
import { regionShortName } from './regions';
import { MODES, type AppConfig, type Mode, type Settings } from './schema';
import { TargetError, webModeProblems } from './web-mode';

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
  /** The mode for every selected stack, over what the configuration says (`--mode`). */
  mode?: Mode;
}

/** Reads the selection from `--stage X` / `--stage=X` (and app, region, mode) or APP / STAGE / REGION / CHAT_MODE. */
export function selectionFrom(argv: string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): Selection {
  const flag = (name: string): string | undefined => {
    for (let i = 0; i < argv.length; i++) {
      if (argv[i] === `--${name}`) return argv[i + 1];
      if (argv[i].startsWith(`--${name}=`)) return argv[i].slice(name.length + 3);
    }
    return undefined;
  };
  // Not MODE: Vite (vitest) sets that to its own mode.
  const mode = flag('mode') || env.CHAT_MODE || undefined;
  if (mode !== undefined && !(MODES as readonly string[]).includes(mode)) throw new Error(`--mode must be ${MODES.join(' or ')}, got "${mode}"`);
  return {
    app: flag('app') || env.APP || undefined,
    stage: flag('stage') || env.STAGE || undefined,
    region: flag('region') || env.REGION || undefined,
    ...(mode ? { mode: mode as Mode } : {}),
  };
}

type Overrides = Partial<Omit<Settings, 'functions' | 'push' | 'rooms' | 'redis' | 'web' | 'vpc'>> & {
  functions?: Partial<Settings['functions']>;
  push?: Partial<Settings['push']>;
  rooms?: Partial<Settings['rooms']>;
  redis?: Partial<Settings['redis']>;
  web?: Partial<Settings['web']>;
  vpc?: Partial<Settings['vpc']>;
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
    mode: over.mode ?? base.mode,
    // Zones are per region: a stage naming one region's keeps the others'.
    redis: { ...base.redis, ...over.redis, zones: { ...base.redis.zones, ...over.redis?.zones } },
    web: { ...base.web, ...over.web },
    vpc: { ...base.vpc, ...over.vpc },
  };
}

/** The default app: the first the configuration names. */
export function defaultApp(config: AppConfig): string {
  return Object.keys(config.apps)[0]!;
}

/**
 * Every target the configuration produces, restricted by the selection: each app in each stage and
 * region. Settings are the defaults, then the app's, then the stage's, then the selection's mode.
 * Throws for an unknown app, stage or region, and a {@link TargetError} for a web-mode stack its
 * settings cannot make (config/web-mode.ts).
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
      const settings = mergeSettings(mergeSettings(mergeSettings(config.defaults, appSettings), stageSettings), { mode: selection.mode });
      for (const region of selection.region ? [selection.region] : regions) {
        const regionShort = regionShortName(region);
        targets.push({ app, entry, variables: { ...variables }, stage, region, regionShort, name: `${app}-${stage}-${regionShort}`, settings });
      }
    }
  }
  if (targets.length === 0) throw new Error(`no stage is deployed to region "${selection.region}"`);
  const problems = targets.flatMap((target) => webModeProblems(target).map((p) => `${target.name}: ${p}`));
  if (problems.length > 0) throw new TargetError(problems);
  return targets;
}
