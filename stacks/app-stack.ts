/**
 * One stack: an app's stage in one region. Terraform's backend and provider, the app's
 * {@link WebSocketApp} (event mode) or {@link WebFunctionApp} (web mode), and the outputs users and
 * `npm run test:deployed` read.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, LocalBackend, TerraformOutput, TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import { TencentcloudProvider } from '../.gen/providers/tencentcloud/provider/index';
import type { Target } from '../config/select';
import type { PolicyStatement } from './execution-role';
import { resourceNames } from './names';
import type { AppBundles } from './roles';
import { relativeStackDir, WebFunctionApp } from './web-function-app';
import { WebSocketApp } from './websocket-app';

export interface AppStackProps {
  /** App, stage, region and settings, from `config/`. */
  readonly target: Target;
  /** The app's built zips, from `scripts/bundle`. */
  readonly bundles: AppBundles;
  /** The reverse-push address an earlier deploy learned (the deploy state file). */
  readonly url?: string;
  /** Statements added to the functions' role, beyond the registry's. */
  readonly grants?: readonly PolicyStatement[];
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export class AppStack extends TerraformStack {
  /** The event-mode app; undefined in web mode. */
  readonly app?: WebSocketApp;
  /** The web-mode app; undefined in event mode. */
  readonly web?: WebFunctionApp;

  constructor(scope: Construct, id: string, props: AppStackProps) {
    super(scope, id);
    const { target } = props;

    // Terraform runs in <outdir>/stacks/<name>. Paths relative to it keep the synthesized stack the
    // same on every machine (`../../..` for the default cdktf.out) wherever it is synthesized.
    const stackDir = path.join(App.of(this).outdir, 'stacks', id);
    const projectRoot = path.relative(stackDir, ROOT) || '.';
    new LocalBackend(this, { path: path.join(projectRoot, `terraform.${target.name}.tfstate`) });
    new TencentcloudProvider(this, 'tencentcloud', { region: target.region });

    if (target.settings.mode === 'web') {
      this.web = new WebFunctionApp(this, 'app', { target, bundles: props.bundles, projectRoot, stackDirFromRoot: relativeStackDir(ROOT, stackDir) });
      const { api, fn } = this.web;
      new TerraformOutput(this, 'client_url', { value: api.clientUrl, description: 'WebSocket URL for clients' });
      new TerraformOutput(this, 'service_id', { value: api.service.id });
      new TerraformOutput(this, 'api_id', { value: api.api.id });
      new TerraformOutput(this, 'region', { value: target.region });
      new TerraformOutput(this, 'environment', { value: api.environment });
      new TerraformOutput(this, 'function_name', { value: fn.functionName });
      return;
    }
    this.app = new WebSocketApp(this, 'app', { target, bundles: props.bundles, projectRoot, url: props.url, grants: props.grants });
    const { api, registry } = this.app;

    new TerraformOutput(this, 'client_url', { value: api.clientUrl, description: 'WebSocket URL for clients' });
    new TerraformOutput(this, 'service_id', { value: api.service.id });
    new TerraformOutput(this, 'api_id', { value: api.api.id });
    new TerraformOutput(this, 'bucket', { value: registry.bucketName });
    new TerraformOutput(this, 'region', { value: target.region });
    new TerraformOutput(this, 'environment', { value: api.environment });
    new TerraformOutput(this, 'function_names', { value: resourceNames(target.name).functions });
  }
}
