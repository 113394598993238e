/**
 * Runs the post-deploy step inside the same `cdktf deploy`: a `terraform_data` resource whose
 * `local-exec` provisioner calls `scripts/post-deploy.ts` once everything else exists.
 * `terraform_data` is built in, so no provider has to be downloaded for it.
 */
import { DataResource, type ITerraformDependable, type TerraformResource } from 'cdktf';
import { Construct } from 'constructs';

export interface PostDeployHookProps {
  /** Passed to the script as its environment; any change re-runs it. */
  readonly environment: Record<string, string>;
  /** Further values whose change re-runs it, without being passed. */
  readonly triggers?: Record<string, string>;
  /** The command to run. @default 'node --import tsx scripts/post-deploy.ts' */
  readonly command?: string;
  /** The project root, relative to the synthesized stack folder terraform runs in. @default '../../..' */
  readonly workingDir?: string;
  /** What must exist before it runs. */
  readonly dependsOn?: ITerraformDependable[];
  /**
   * Resources whose every planned change (create, in-place update or replacement, declared or
   * drift) re-runs it, through Terraform's `replace_triggered_by`.
   */
  readonly replaceTriggeredBy?: TerraformResource[];
}

// node --import tsx rather than npx: one process fewer on every deploy.
export const POST_DEPLOY_COMMAND = 'node --import tsx scripts/post-deploy.ts';

/** A `terraform_data` + `local-exec` that re-runs whenever its environment or a watched resource changes. */
export class PostDeployHook extends Construct {
  readonly resource: DataResource;

  constructor(scope: Construct, id: string, props: PostDeployHookProps) {
    super(scope, id);
    this.resource = new DataResource(this, 'run', {
      triggersReplace: { ...props.environment, ...props.triggers },
      dependsOn: props.dependsOn,
      // Bare addresses: cdktf renders a resource here as "${…}", which Terraform refuses in this
      // meta-argument ("Invalid character").
      lifecycle: props.replaceTriggeredBy?.length
        ? { replaceTriggeredBy: props.replaceTriggeredBy.map((r) => `${r.terraformResourceType}.${r.friendlyUniqueId}`) }
        : undefined,
      provisioners: [
        {
          type: 'local-exec',
          command: props.command ?? POST_DEPLOY_COMMAND,
          workingDir: props.workingDir ?? '../../..',
          environment: props.environment,
        },
      ],
    });
  }
}
