/**
 * A WebSocket app on API Gateway + SCF + COS: the registry bucket, the execution role, the three
 * functions built from the app's module, the WEBSOCKET API bound to them with its release, and the
 * post-deploy hook that binds them for real and injects the push address.
 */
import { TerraformVariable } from 'cdktf';
import { Construct } from 'constructs';
import type { Target } from '../config/select';
import { Env } from '../functions/lib/config';
import { AppFunction } from './app-function';
import { ConnectionRegistry } from './connection-registry';
import { ExecutionRole, type PolicyStatement } from './execution-role';
import { resourceNames } from './names';
import { PostDeployHook } from './post-deploy-hook';
import { HookEnv } from './post-deploy-contract';
import { ROLES, type AppBundles, type Role } from './roles';
import { WebSocketApi } from './websocket-api';

export interface WebSocketAppProps {
  /** App, stage, region and merged settings, from `config/`. */
  readonly target: Target;
  /** The app's three built zips, from `scripts/bundle`. */
  readonly bundles: AppBundles;
  /** The project root, relative to the folder Terraform runs in (where the hook runs). */
  readonly projectRoot: string;
  /**
   * The reverse-push address learned by an earlier deploy (the deploy state file). Absent on the
   * first deploy: the post-deploy step then injects it.
   */
  readonly url?: string;
  /** Environment for the functions beyond what the toolkit sets. @default the target's `variables` */
  readonly environment?: Record<string, string>;
  /** Statements added to the execution role's policy (the registry's own is always there). */
  readonly grants?: readonly PolicyStatement[];
}

/** One app's resources. */
export class WebSocketApp extends Construct {
  readonly registry: ConnectionRegistry;
  readonly role: ExecutionRole;
  readonly functions: Record<Role, AppFunction>;
  readonly api: WebSocketApi;
  readonly hook: PostDeployHook;

  constructor(scope: Construct, id: string, props: WebSocketAppProps) {
    super(scope, id);
    const { target } = props;
    const { settings } = target;
    const names = resourceNames(target.name);

    this.registry = new ConnectionRegistry(scope, 'registry', {
      namePrefix: names.bucketPrefix,
      region: target.region,
      appId: ConnectionRegistry.appIdOf(scope),
      expiryDays: settings.registryExpiryDays,
      historyExpiryDays: settings.rooms.historyExpiryDays,
    });
    this.role = new ExecutionRole(scope, 'execution-role', { roleName: names.role, policyName: names.policy });
    this.registry.grantReadWrite(this.role);
    for (const statement of props.grants ?? []) this.role.addStatement(statement);

    const environment: Record<string, string> = {
      ...(props.environment ?? target.variables),
      [Env.BUCKET]: this.registry.bucketName,
      [Env.REGION]: target.region,
      [Env.PUSH_CONCURRENCY]: String(settings.push.concurrency),
      [Env.PUSH_TIMEOUT_MS]: String(settings.push.timeoutMs),
      // The transport function keeps live connections' records younger than the expiry rule.
      [Env.REGISTRY_EXPIRY_DAYS]: String(settings.registryExpiryDays),
      [Env.HISTORY_SIZE]: String(settings.rooms.historySize),
      [Env.PRESENCE_LIMIT]: String(settings.rooms.presenceLimit),
    };
    if (settings.admission) {
      // The secret is a sensitive variable filled from the environment at deploy time: never in config or synth output.
      const secret = new TerraformVariable(scope, settings.admission.secretEnv, {
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
      ROLES.map((role) => [
        role,
        new AppFunction(scope, role, {
          functionName: names.functions[role],
          bundle: props.bundles[role],
          roleName: this.role.roleName,
          environment,
          memoryMb: settings.functions.memoryMb,
          timeoutSeconds: settings.functions.timeoutSeconds,
          dependsOn: [this.role.attachment],
        }),
      ]),
    ) as Record<Role, AppFunction>;

    const binding = (role: Role) => ({ name: this.functions[role].functionName, namespace: this.functions[role].namespace });
    this.api = new WebSocketApi(scope, 'websocket', {
      serviceName: names.service,
      apiName: names.api,
      purpose: target.app,
      register: binding('register'),
      transport: binding('transport'),
      cleanup: binding('cleanup'),
      path: settings.path,
      environment: settings.environment,
      idleTimeoutSeconds: settings.idleTimeoutSeconds,
      // The gateway checks that bound functions exist.
      dependsOn: ROLES.map((role) => this.functions[role].fn),
    });

    this.hook = new PostDeployHook(scope, 'post-deploy', {
      workingDir: props.projectRoot,
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
      replaceTriggeredBy: [this.api.api, ...ROLES.map((role) => this.functions[role].fn)],
      dependsOn: [this.api.release, ...ROLES.map((role) => this.functions[role].fn)],
    });
  }
}
