/**
 * The web function: an SCF function of type HTTP with `ProtocolType: "WS"`, which no provider
 * version can create (PLATFORM 3), created through the Cloud API by `scripts/web-function.ts` and
 * held in Terraform's life cycle by two `terraform_data` resources:
 *
 * - `function`: what cannot change in place (name, namespace, region, runtime, and the protocol,
 *   which `UpdateFunctionConfiguration` cannot change). Its create-time provisioner creates the
 *   function, or adopts one of that name, bringing it to the declared code and configuration; its
 *   destroy-time provisioner deletes it. A change to any of these replaces it: delete, then create.
 * - `config`: everything that can change in place (the bundle's hash, memory, timeouts, the idle
 *   timeout, the VPC, the variables). Any change replaces this resource alone, whose create-time
 *   provisioner runs `update`: `UpdateFunctionCode` for a new bundle and `UpdateFunctionConfiguration`
 *   (with `ProtocolParams.WSParams.IdleTimeOut` for the idle timeout) for the rest, so the function
 *   is never recreated for them. It has no destroy-time provisioner: replacing it deletes nothing.
 *
 * terraform_data has no Read: a function changed or deleted outside Terraform is noticed only by
 * the next `update` (which re-creates a missing one), or by `npm run deploy` after `-replace`.
 */
import { AssetType, TerraformAsset, type ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import { DataResource } from 'cdktf';
import { RUNTIME, type BundleInfo } from './roles';
import { FUNCTION_VARIABLE_PREFIX, SECRET_VARIABLE_PREFIX, WEB_FUNCTION_SCRIPT, WebFunctionEnv } from './web-function-contract';

export interface WebFunctionProps {
  readonly stack: string;
  readonly region: string;
  readonly functionName: string;
  /** @default 'default' */
  readonly namespace?: string;
  /** The built web bundle (`web-<hash>.zip`). */
  readonly bundle: BundleInfo;
  /** The zip's path seen from the project root is `<stackDirFromRoot>/<asset path>`. */
  readonly stackDirFromRoot: string;
  /** The project root, relative to the stack's folder (where Terraform runs the provisioners). */
  readonly projectRoot: string;
  readonly memoryMb: number;
  /** The execution timeout: the longest a connection lasts. */
  readonly timeoutSeconds: number;
  /** `WSParams.IdleTimeOut`. */
  readonly idleTimeoutSeconds: number;
  readonly vpcId: string;
  readonly subnetId: string;
  /** Plain variables. */
  readonly environment: Record<string, string>;
  /**
   * Secret variables: the function variable, the environment variable the script reads it from,
   * and its value in the stack (a sensitive Terraform variable), so that a new value updates it.
   */
  readonly secrets?: ReadonlyArray<{ name: string; env: string; value: string }>;
  /** What must exist before the function (its subnet, Redis). */
  readonly dependsOn?: ITerraformDependable[];
}

/** The web function as two `terraform_data` resources around `scripts/web-function.ts`. */
export class WebFunction extends Construct {
  readonly functionName: string;
  readonly namespace: string;
  /** The function's life: created (or adopted) and deleted. */
  readonly resource: DataResource;
  /** Its code and configuration: replaced, and the function updated in place, when they change. */
  readonly config: DataResource;

  constructor(scope: Construct, id: string, props: WebFunctionProps) {
    super(scope, id);
    this.functionName = props.functionName;
    this.namespace = props.namespace ?? 'default';
    const asset = new TerraformAsset(this, 'code', { path: props.bundle.zipPath, type: AssetType.FILE });

    const identity = {
      [WebFunctionEnv.STACK]: props.stack,
      [WebFunctionEnv.REGION]: props.region,
      [WebFunctionEnv.FUNCTION]: props.functionName,
      [WebFunctionEnv.NAMESPACE]: this.namespace,
      [WebFunctionEnv.RUNTIME]: RUNTIME,
    };
    const configuration = {
      [WebFunctionEnv.CODE]: `${props.stackDirFromRoot}/${asset.path}`,
      [WebFunctionEnv.CODE_HASH]: props.bundle.hash,
      [WebFunctionEnv.MEMORY_MB]: String(props.memoryMb),
      [WebFunctionEnv.TIMEOUT_SECONDS]: String(props.timeoutSeconds),
      [WebFunctionEnv.IDLE_TIMEOUT_SECONDS]: String(props.idleTimeoutSeconds),
      [WebFunctionEnv.VPC_ID]: props.vpcId,
      [WebFunctionEnv.SUBNET_ID]: props.subnetId,
      ...Object.fromEntries(Object.entries(props.environment).map(([k, v]) => [`${FUNCTION_VARIABLE_PREFIX}${k}`, v])),
      ...Object.fromEntries((props.secrets ?? []).map((s) => [`${SECRET_VARIABLE_PREFIX}${s.name}`, s.env])),
    };
    const environment = { ...identity, ...configuration };
    const run = (command: string) => `${WEB_FUNCTION_SCRIPT} ${command}`;

    this.resource = new DataResource(this, 'function', {
      triggersReplace: identity,
      dependsOn: props.dependsOn,
      provisioners: [
        { type: 'local-exec', command: run('create'), workingDir: props.projectRoot, environment },
        {
          type: 'local-exec',
          when: 'destroy',
          command: run('delete'),
          workingDir: props.projectRoot,
          // A destroy-time provisioner may refer to nothing but self.
          environment: Object.fromEntries(Object.keys(identity).map((key) => [key, `\${self.triggers_replace.${key}}`])),
        },
      ],
    });

    this.config = new DataResource(this, 'config', {
      // The secrets' values, so that a new one updates the function; they stay out of the
      // provisioner's environment, which would silence its output.
      // The code by its hash alone: the zip's path depends on where the stack was synthesized.
      triggersReplace: {
        ...Object.fromEntries(Object.entries(configuration).filter(([key]) => key !== WebFunctionEnv.CODE)),
        ...Object.fromEntries((props.secrets ?? []).map((s) => [`${SECRET_VARIABLE_PREFIX}${s.name}`, s.value])),
      },
      dependsOn: [this.resource],
      provisioners: [{ type: 'local-exec', command: run('update'), workingDir: props.projectRoot, environment }],
    });
  }
}
