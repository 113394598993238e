/**
 * Builds the CDK for Terraform app from the configuration: one AppStack per selected (app, stage,
 * region).
 */
import { mkdirSync } from 'node:fs';
import { App } from 'cdktf';
import { checkAdmissionSecrets } from '../config/admission';
import { checkRedisPasswords } from '../config/redis-password';
import type { AppConfig } from '../config/schema';
import { targetsFor, type Selection, type Target } from '../config/select';
import { AppStack } from './app-stack';
import { readDeployState } from './post-deploy-contract';
import type { AppBundles } from './roles';

export interface SynthOptions {
  config: AppConfig;
  selection?: Selection;
  /** Where to write `stacks/<name>/cdk.tf.json`. @default cdktf's (CDKTF_OUTDIR or cdktf.out) */
  outdir?: string;
  /** The built bundles of every selected app, by app name (scripts/bundle). */
  bundles: Record<string, AppBundles>;
  /** Environment for the deploy-state location. @default process.env */
  env?: NodeJS.ProcessEnv;
}

/** Synthesizes the selected stacks; returns the app, its stacks and their targets. */
export function synthesizeApps(options: SynthOptions): { app: App; stacks: AppStack[]; targets: Target[] } {
  const targets = targetsFor(options.config, options.selection);
  checkAdmissionSecrets(targets, process.env, { required: false });
  checkRedisPasswords(targets, process.env, { required: false });
  for (const target of targets) {
    if (!options.bundles[target.app]) throw new Error(`no bundles were built for app "${target.app}"`);
    if (target.settings.mode === 'web' && !options.bundles[target.app]!.web) {
      throw new Error(`no web bundle was built for app "${target.app}", which ${target.name} runs in web mode`);
    }
  }
  // cdktf creates only the last level of its output folder.
  if (options.outdir) mkdirSync(options.outdir, { recursive: true });
  // skipValidation: terraform_data would otherwise make synth run `terraform version`; the
  // synthesized JSON is checked against the provider schema by scripts/validate-stacks instead.
  const app = new App({ skipValidation: true, ...(options.outdir ? { outdir: options.outdir } : {}) });
  const stacks = targets.map((target) => {
    // A web-mode stack feeds nothing back: its function is not a Terraform resource.
    const url = target.settings.mode === 'event' ? readDeployState(target.name, options.env)?.url : undefined;
    return new AppStack(app, target.name, { target, bundles: options.bundles[target.app]!, url });
  });
  app.synth();
  return { app, stacks, targets };
}
