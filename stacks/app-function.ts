/**
 * One SCF function running a bundle (see roles.ts).
 */
import { AssetType, TerraformAsset, type ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import { ScfFunction } from '../.gen/providers/tencentcloud/scf-function/index';
import { RUNTIME, type BundleInfo } from './roles';

export interface AppFunctionProps {
  readonly functionName: string;
  /** The built zip; its content hash is in its file name, so a change uploads a new path. */
  readonly bundle: BundleInfo;
  /** A role *name*: the provider takes names, not ids. */
  readonly roleName: string;
  readonly environment: Record<string, string>;
  /** @default 128 */
  readonly memoryMb?: number;
  /** @default 15 */
  readonly timeoutSeconds?: number;
  /** @default 'default' */
  readonly namespace?: string;
  /** Resources that must exist before the function (its role's policy attachment). */
  readonly dependsOn?: ITerraformDependable[];
}

/** An event function on the Node.js runtime, with public network access for the reverse push. */
export class AppFunction extends Construct {
  readonly fn: ScfFunction;
  readonly functionName: string;
  readonly namespace: string;
  /** The zip's path as the stack references it, relative to the stack's folder. */
  readonly zipPath: string;

  constructor(scope: Construct, id: string, props: AppFunctionProps) {
    super(scope, id);
    this.functionName = props.functionName;
    this.namespace = props.namespace ?? 'default';
    // The asset copies the zip into the synthesized stack, so the stack folder is self-contained.
    const asset = new TerraformAsset(this, 'code', { path: props.bundle.zipPath, type: AssetType.FILE });
    this.zipPath = asset.path;
    this.fn = new ScfFunction(this, 'function', {
      name: props.functionName,
      namespace: this.namespace,
      runtime: RUNTIME,
      handler: 'index.main_handler',
      zipFile: asset.path,
      role: props.roleName,
      memSize: props.memoryMb ?? 128,
      timeout: props.timeoutSeconds ?? 15,
      // Without it the function cannot reach the gateway's push address.
      enablePublicNet: true,
      environment: props.environment,
      dependsOn: props.dependsOn,
    });
  }
}
