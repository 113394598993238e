/**
 * Builds the CDK for Terraform app from the configuration: one ChatStack per selected target.
 */
import { mkdirSync } from 'node:fs';
import { App } from 'cdktf';
import { checkAdmissionSecrets } from '../config/admission';
import type { AppConfig } from '../config/schema';
import { targetsFor, type Selection, type Target } from '../config/select';
import { bundleFunctions, type BundleInfo, type FunctionName } from '../scripts/bundle';
import { ChatStack } from './chat-stack';
import { readDeployState } from './deploy-state';

export interface ChatAppOptions {
  config: AppConfig;
  selection?: Selection;
  /** Where to write `stacks/<name>/cdk.tf.json`. @default cdktf's (CDKTF_OUTDIR or cdktf.out) */
  outdir?: string;
  /** Prebuilt bundles; built (or rebuilt when stale) when absent. */
  bundles?: Record<FunctionName, BundleInfo>;
  /** Environment for the deploy-state location. @default process.env */
  env?: NodeJS.ProcessEnv;
}

/** Synthesizes the selected stacks; returns the app, its stacks and their targets. */
export async function synthesizeChatApp(options: ChatAppOptions): Promise<{ app: App; stacks: ChatStack[]; targets: Target[] }> {
  const targets = targetsFor(options.config, options.selection);
  checkAdmissionSecrets(targets, process.env, { required: false });
  const bundles = options.bundles ?? (await bundleFunctions());
  // cdktf creates only the last level of its output folder.
  if (options.outdir) mkdirSync(options.outdir, { recursive: true });
  // skipValidation: terraform_data would otherwise make synth run `terraform version`; the
  // synthesized JSON is checked against the provider schema by scripts/validate-stacks instead.
  const app = new App({ skipValidation: true, ...(options.outdir ? { outdir: options.outdir } : {}) });
  const stacks = targets.map(
    (target) => new ChatStack(app, target.name, { target, bundles, url: readDeployState(target.name, options.env)?.url }),
  );
  app.synth();
  return { app, stacks, targets };
}
