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
  const apps = new Set(targetsFor(config, selection).map((t) => t.app));
  const bundles = await bundleApps(Object.fromEntries(Object.entries(config.apps).filter(([name]) => apps.has(name))));
  synthesizeApps({ config, selection, bundles });
} catch (err) {
  console.error((err as Error).message);
  process.exit(1);
}
