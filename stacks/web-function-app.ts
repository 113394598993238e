/**
 * A WebSocket app in web mode: a private network, Redis in it, the web function in it (created
 * through the Cloud API by `scripts/web-function.ts`), a WEBSOCKET API whose backend is that
 * function, its release, and the step that releases the API again after Terraform changes it.
 */
import path from 'node:path';
import { TerraformVariable } from 'cdktf';
import { Construct } from 'constructs';
import type { Target } from '../config/select';
import { redisZone } from '../config/web-mode';
import { Env } from '../functions/lib/config';
import { resourceNames } from './names';
import { PostDeployHook } from './post-deploy-hook';
import { PrivateNetwork } from './private-network';
import { RedisStore } from './redis-store';
import type { AppBundles } from './roles';
import { WebFunction } from './web-function';
import { WebFunctionApi } from './web-function-api';
import { WEB_FUNCTION_SCRIPT, WebFunctionEnv, WebVariable } from './web-function-contract';

export interface WebFunctionAppProps {
  /** App, stage, region and merged settings (mode `web`), from `config/`. */
  readonly target: Target;
  /** The app's bundles; the web one is used. */
  readonly bundles: AppBundles;
  /** The project root, relative to the folder Terraform runs in (where the provisioners run). */
  readonly projectRoot: string;
  /** The stack's folder, relative to the project root (where the bundle's copy is). */
  readonly stackDirFromRoot: string;
  /** Environment for the function beyond what the toolkit sets. @default the target's `variables` */
  readonly environment?: Record<string, string>;
}

/** One app's resources in web mode. */
export class WebFunctionApp extends Construct {
  readonly network: PrivateNetwork;
  readonly redis: RedisStore;
  readonly fn: WebFunction;
  readonly api: WebFunctionApi;
  readonly releaseStep: PostDeployHook;

  constructor(scope: Construct, id: string, props: WebFunctionAppProps) {
    super(scope, id);
    const { target } = props;
    const { settings } = target;
    const names = resourceNames(target.name);
    const bundle = props.bundles.web;
    if (!bundle) throw new Error(`app "${target.app}" is in web mode but no web bundle was built for it (scripts/bundle.ts builds web-<hash>.zip)`);
    // config/web-mode.ts has refused a web-mode target without one.
    const zone = redisZone(target)!;

    this.network = new PrivateNetwork(scope, 'network', {
      vpcName: names.web.vpc,
      subnetName: names.web.subnet,
      securityGroupName: names.web.securityGroup,
      cidr: settings.vpc.cidr,
      subnetCidr: settings.vpc.subnetCidr,
      zone,
      purpose: `Redis of ${target.name}`,
    });
    this.redis = new RedisStore(scope, 'redis', {
      name: names.web.redis,
      zone,
      typeId: settings.redis.typeId,
      memSizeMb: settings.redis.memSizeMb,
      replicas: settings.redis.replicas,
      passwordEnv: settings.redis.passwordEnv,
      vpcId: this.network.vpc.id,
      subnetId: this.network.subnet.id,
    });

    const environment: Record<string, string> = {
      ...(props.environment ?? target.variables),
      [Env.HISTORY_SIZE]: String(settings.rooms.historySize),
      [Env.PRESENCE_LIMIT]: String(settings.rooms.presenceLimit),
      [WebVariable.REDIS_HOST]: this.redis.host,
      [WebVariable.REDIS_PORT]: this.redis.port,
      [WebVariable.IDLE_TIMEOUT_SECONDS]: String(settings.idleTimeoutSeconds),
    };
    const secrets: Array<{ name: string; env: string; value: string }> = [
      { name: WebVariable.REDIS_PASSWORD, env: settings.redis.passwordEnv, value: this.redis.password.stringValue },
    ];
    if (settings.admission) {
      const secret = new TerraformVariable(scope, settings.admission.secretEnv, {
        type: 'string',
        sensitive: true,
        description: `Admission secret, read from the environment variable ${settings.admission.secretEnv}`,
      });
      secrets.push({ name: Env.ADMISSION_SECRET, env: settings.admission.secretEnv, value: secret.stringValue });
      environment[Env.ADMISSION_REQUIRED] = 'true';
    }

    this.fn = new WebFunction(scope, 'web-function', {
      stack: target.name,
      region: target.region,
      functionName: names.web.function,
      bundle,
      stackDirFromRoot: props.stackDirFromRoot,
      projectRoot: props.projectRoot,
      memoryMb: settings.functions.memoryMb,
      timeoutSeconds: settings.web.timeoutSeconds,
      idleTimeoutSeconds: settings.idleTimeoutSeconds,
      vpcId: this.network.vpc.id,
      subnetId: this.network.subnet.id,
      environment,
      secrets,
      dependsOn: [this.redis.instance],
    });

    this.api = new WebFunctionApi(scope, 'websocket', {
      purpose: target.app,
      serviceName: names.service,
      apiName: names.api,
      function: { name: this.fn.functionName, namespace: this.fn.namespace },
      path: settings.path,
      environment: settings.environment,
      timeoutSeconds: settings.idleTimeoutSeconds,
      dependsOn: [this.fn.resource],
    });

    // The provider updates the API in place (ModifyApi), which takes effect only once released;
    // the release resource never re-releases, so this step does, after any change to the API.
    this.releaseStep = new PostDeployHook(scope, 'release-step', {
      command: `${WEB_FUNCTION_SCRIPT} release`,
      workingDir: props.projectRoot,
      environment: {
        [WebFunctionEnv.STACK]: target.name,
        [WebFunctionEnv.REGION]: target.region,
        [WebFunctionEnv.SERVICE_ID]: this.api.service.id,
        [WebFunctionEnv.API_ID]: this.api.api.id,
        [WebFunctionEnv.ENVIRONMENT]: this.api.environment,
        [WebFunctionEnv.FUNCTION]: this.fn.functionName,
        [WebFunctionEnv.NAMESPACE]: this.fn.namespace,
        [WebFunctionEnv.CLIENT_URL]: this.api.clientUrl,
      },
      replaceTriggeredBy: [this.api.api],
      dependsOn: [this.api.release, this.fn.config],
    });
  }
}

/** The stack folder relative to the project root, with forward slashes (the same on every machine). */
export function relativeStackDir(root: string, stackDir: string): string {
  return path.relative(root, stackDir).split(path.sep).join('/');
}
