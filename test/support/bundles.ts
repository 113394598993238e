/**
 * The chat's bundles, built as `npm run build:functions` builds them, for tests that run the chat.
 */
import { bundleApp, bundleApps, type AppBundles } from '../../scripts/bundle';

/** The chat as config/app.json declares it. */
export const CHAT_APP = { entry: 'functions/chat/app.ts' };

export function bundleChat(outDir?: string): Promise<AppBundles> {
  return bundleApp('chat', CHAT_APP, outDir);
}

/** Every app of a configuration, as `npm run synth` builds them. */
export async function bundleConfigured(config: { apps: Record<string, { entry: string }> }, outDir?: string): Promise<Record<string, AppBundles>> {
  return bundleApps(config.apps, outDir);
}
