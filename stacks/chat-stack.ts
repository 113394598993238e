/**
 * The whole chat for one stage in one region: registry bucket, execution role, three functions,
 * the WebSocket API with its release, the post-deploy hook, and the outputs.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, LocalBackend, TerraformOutput, TerraformStack, TerraformVariable } from 'cdktf';
import type { Construct } from 'constructs';
import { TencentcloudProvider } from '../.gen/providers/tencentcloud/provider/index';
import type { Target } from '../config/select';
import { Env } from '../functions/lib/config';
import { FUNCTION_NAMES, type BundleInfo, type FunctionName } from '../scripts/bundle';
import { ChatFunction } from './chat-function';
import { ConnectionRegistry } from './connection-registry';
import { ExecutionRole } from './execution-role';
import { resourceNames } from './names';
import { PostDeployHook } from './post-deploy-hook';
import { WebSocketApi } from './websocket-api';

export interface ChatStackProps {
  /** Stage, region and settings, from `config/`. */
  readonly target: Target;
  /** The built function zips, from `scripts/bundle`. */
  readonly bundles: Record<FunctionName, BundleInfo>;
  /**
   * The reverse-push address learned by an earlier deploy (the deploy state file). Absent on the
   * first deploy: the post-deploy step then injects it.
   */
  readonly url?: string;
}

/** Environment variables the post-deploy step reads. */
export const HookEnv = {
  STACK: 'CHAT_STACK',
  REGION: 'CHAT_REGION',
  SERVICE_ID: 'CHAT_SERVICE_ID',
  API_ID: 'CHAT_API_ID',
  ENVIRONMENT: 'CHAT_ENVIRONMENT',
  NAMESPACE: 'CHAT_NAMESPACE',
  REGISTER_FUNCTION: 'CHAT_REGISTER_FUNCTION',
  TRANSPORT_FUNCTION: 'CHAT_TRANSPORT_FUNCTION',
  CLEANUP_FUNCTION: 'CHAT_CLEANUP_FUNCTION',
  QUALIFIER: 'CHAT_QUALIFIER',
  CLIENT_URL: 'CHAT_CLIENT_URL',
  SCF_FUNCTION_TYPE: 'CHAT_SCF_FUNCTION_TYPE',
} as const;

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export class ChatStack extends TerraformStack {
  readonly registry: ConnectionRegistry;
  readonly role: ExecutionRole;
  readonly functions: Record<FunctionName, ChatFunction>;
  readonly api: WebSocketApi;
  readonly hook: PostDeployHook;

  constructor(scope: Construct, id: string, props: ChatStackProps) {
    super(scope, id);
    const { target } = props;
    const { settings } = target;
    const names = resourceNames(target.name);

    // Terraform runs in <outdir>/stacks/<name>. Paths relative to it keep the synthesized stack the
    // same on every machine (`../../..` for the default cdktf.out) wherever it is synthesized.
    const stackDir = path.join(App.of(this).outdir, 'stacks', id);
    const projectRoot = path.relative(stackDir, ROOT) || '.';
    new LocalBackend(this, { path: path.join(projectRoot, `terraform.${target.name}.tfstate`) });
    new TencentcloudProvider(this, 'tencentcloud', { region: target.region });

    this.registry = new ConnectionRegistry(this, 'registry', {
      namePrefix: names.bucketPrefix,
      region: target.region,
      appId: ConnectionRegistry.appIdOf(this),
      expiryDays: settings.registryExpiryDays,
    });
    this.role = new ExecutionRole(this, 'execution-role', { roleName: names.role, policyName: names.policy });
    this.registry.grantReadWrite(this.role);

    const environment: Record<string, string> = {
      [Env.BUCKET]: this.registry.bucketName,
      [Env.REGION]: target.region,
      [Env.PUSH_CONCURRENCY]: String(settings.push.concurrency),
      [Env.PUSH_TIMEOUT_MS]: String(settings.push.timeoutMs),
      // The transport function keeps live connections' records younger than the expiry rule.
      [Env.REGISTRY_EXPIRY_DAYS]: String(settings.registryExpiryDays),
    };
    if (settings.admission) {
      // The secret is a sensitive variable filled from the environment at deploy time: never in config or synth output.
      const secret = new TerraformVariable(this, settings.admission.secretEnv, {
        type: 'string',
        sensitive: true,
        description: `Admission secret, read from the environment variable ${settings.admission.secretEnv}`,
      });
      environment[Env.ADMISSION_SECRET] = secret.stringValue;
      // So that a function given an empty secret refuses everyone instead of admitting everyone.
      environment[Env.ADMISSION_REQUIRED] = 'true';
    }
    if (props.url) environment[Env.URL] = props.url;

    this.functions = Object.fromEntries(
      FUNCTION_NAMES.map((fn) => [
        fn,
        new ChatFunction(this, fn, {
          functionName: names.functions[fn],
          bundle: props.bundles[fn],
          roleName: this.role.roleName,
          environment,
          memoryMb: settings.functions.memoryMb,
          timeoutSeconds: settings.functions.timeoutSeconds,
          dependsOn: [this.role.attachment],
        }),
      ]),
    ) as Record<FunctionName, ChatFunction>;

    const binding = (fn: FunctionName) => ({ name: this.functions[fn].functionName, namespace: this.functions[fn].namespace });
    this.api = new WebSocketApi(this, 'websocket', {
      serviceName: names.service,
      apiName: names.api,
      register: binding('register'),
      transport: binding('transport'),
      cleanup: binding('cleanup'),
      path: settings.path,
      environment: settings.environment,
      idleTimeoutSeconds: settings.idleTimeoutSeconds,
      // The gateway checks that bound functions exist.
      dependsOn: FUNCTION_NAMES.map((fn) => this.functions[fn].fn),
    });

    this.hook = new PostDeployHook(this, 'post-deploy', {
      workingDir: projectRoot,
      environment: {
        [HookEnv.STACK]: target.name,
        [HookEnv.REGION]: target.region,
        [HookEnv.SERVICE_ID]: this.api.service.id,
        [HookEnv.API_ID]: this.api.api.id,
        [HookEnv.ENVIRONMENT]: this.api.environment,
        [HookEnv.NAMESPACE]: this.functions.transport.namespace,
        [HookEnv.REGISTER_FUNCTION]: this.api.bindings.register.name,
        [HookEnv.TRANSPORT_FUNCTION]: this.api.bindings.transport.name,
        [HookEnv.CLEANUP_FUNCTION]: this.api.bindings.cleanup.name,
        [HookEnv.QUALIFIER]: this.api.bindings.transport.qualifier,
        [HookEnv.CLIENT_URL]: this.api.clientUrl,
        [HookEnv.SCF_FUNCTION_TYPE]: this.api.scfFunctionType,
      },
      // The provider's create and update of the API leave out the WebSocket bindings, and an update
      // of a function replaces its environment (without `url` when the state file was lost): after
      // any change Terraform makes to them, the step runs again. A deploy that changes neither
      // leaves the hook alone.
      replaceTriggeredBy: [this.api.api, ...FUNCTION_NAMES.map((fn) => this.functions[fn].fn)],
      dependsOn: [this.api.release, ...FUNCTION_NAMES.map((fn) => this.functions[fn].fn)],
    });

    new TerraformOutput(this, 'client_url', { value: this.api.clientUrl, description: 'WebSocket URL for clients' });
    new TerraformOutput(this, 'service_id', { value: this.api.service.id });
    new TerraformOutput(this, 'api_id', { value: this.api.api.id });
    new TerraformOutput(this, 'bucket', { value: this.registry.bucketName });
    new TerraformOutput(this, 'region', { value: target.region });
    new TerraformOutput(this, 'environment', { value: this.api.environment });
    new TerraformOutput(this, 'function_names', { value: names.functions });
  }
}
