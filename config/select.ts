/**
 * Which stacks to build: one per (stage, region), chosen by `--stage` / `--region` flags or the
 * `STAGE` / `REGION` environment variables.
 */
import { regionShortName } from './regions';
import type { AppConfig, Settings } from './schema';

/** One stack to synthesize: a stage in a region, with its merged settings. */
export interface Target {
  app: string;
  stage: string;
  region: string;
  /** Short region name used in resource names, e.g. `gz`. */
  regionShort: string;
  /** `<app>-<stage>-<region short>`: the stack name and the prefix of every resource name. */
  name: string;
  settings: Settings;
}

/** A stage and/or region to restrict to; absent means all. */
export interface Selection {
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
  return { stage: flag('stage') || env.STAGE || undefined, region: flag('region') || env.REGION || undefined };
}

function mergeSettings(defaults: Settings, stage: AppConfig['stages'][string]): Settings {
  return {
    environment: stage.environment ?? defaults.environment,
    path: stage.path ?? defaults.path,
    functions: { ...defaults.functions, ...stage.functions },
    push: { ...defaults.push, ...stage.push },
    idleTimeoutSeconds: stage.idleTimeoutSeconds ?? defaults.idleTimeoutSeconds,
    registryExpiryDays: stage.registryExpiryDays ?? defaults.registryExpiryDays,
    // null in a stage switches admission off even when the defaults have it.
    admission: stage.admission === undefined ? defaults.admission : stage.admission,
  };
}

/** Every target the configuration produces, restricted by the selection. Throws for an unknown stage or region. */
export function targetsFor(config: AppConfig, selection: Selection = {}): Target[] {
  const stages = Object.keys(config.stages);
  if (selection.stage && !stages.includes(selection.stage)) {
    throw new Error(`unknown stage "${selection.stage}"; the configuration has: ${stages.join(', ')}`);
  }
  const targets: Target[] = [];
  for (const stage of selection.stage ? [selection.stage] : stages) {
    const stageConfig = config.stages[stage];
    if (selection.region && !stageConfig.regions.includes(selection.region)) {
      if (selection.stage) {
        throw new Error(`stage "${stage}" is not deployed to region "${selection.region}"; its regions: ${stageConfig.regions.join(', ')}`);
      }
      continue;
    }
    for (const region of selection.region ? [selection.region] : stageConfig.regions) {
      const regionShort = regionShortName(region);
      targets.push({ app: config.app, stage, region, regionShort, name: `${config.app}-${stage}-${regionShort}`, settings: mergeSettings(config.defaults, stageConfig) });
    }
  }
  if (targets.length === 0) throw new Error(`no stage is deployed to region "${selection.region}"`);
  return targets;
}
