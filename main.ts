/**
 * The CDK for Terraform app (`cdktf synth`, `cdktf deploy`): one stack per (app, stage, region) of
 * `config/app.json`, restricted by `--app` / `--stage` / `--region` or APP / STAGE / REGION.
 */
import { loadConfig } from './config/load';
import { selectionFrom, targetsFor } from './config/select';
import { bundleApps } from './scripts/bundle';
import { synthesizeApps } from './stacks/app';

try {
  const config = loadConfig(process.env.CHAT_CONFIG || undefined);
  const selection = selectionFrom();
  const targets = targetsFor(config, selection);
  const apps = new Set(targets.map((t) => t.app));
  // An app gets its web bundle too when any of its selected stacks is in web mode.
  const bundles = await bundleApps(
    Object.fromEntries(
      Object.entries(config.apps)
        .filter(([name]) => apps.has(name))
        .map(([name, app]) => [name, { entry: app.entry, mode: targets.some((t) => t.app === name && t.settings.mode === 'web') ? 'web' : 'event' }] as const),
    ),
  );
  synthesizeApps({ config, selection, bundles });
} catch (err) {
  console.error((err as Error).message);
  process.exit(1);
}
