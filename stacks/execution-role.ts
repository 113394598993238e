/**
 * The role the functions run as: SCF assumes it and hands its temporary credentials to the code.
 */
import { Lazy } from 'cdktf';
import { Construct } from 'constructs';
import { CamPolicy } from '../.gen/providers/tencentcloud/cam-policy/index';
import { CamRolePolicyAttachment } from '../.gen/providers/tencentcloud/cam-role-policy-attachment/index';
import { CamRole } from '../.gen/providers/tencentcloud/cam-role/index';

/** One statement of a CAM policy document. */
export interface PolicyStatement {
  effect: 'allow' | 'deny';
  action: string[];
  resource: string[];
}

export interface ExecutionRoleProps {
  readonly roleName: string;
  readonly policyName: string;
  /** @default 'scf.qcloud.com' */
  readonly trustedService?: string;
}

/** A CAM role trusted by SCF, with one inline-managed policy that grants add statements to. */
export class ExecutionRole extends Construct {
  readonly role: CamRole;
  readonly policy: CamPolicy;
  readonly attachment: CamRolePolicyAttachment;
  private readonly statements: PolicyStatement[] = [];

  constructor(scope: Construct, id: string, props: ExecutionRoleProps) {
    super(scope, id);
    this.role = new CamRole(this, 'role', {
      name: props.roleName,
      document: JSON.stringify({
        version: '2.0',
        // The provider compares parsed documents and supports only arrays where either is allowed.
        statement: [{ action: ['name/sts:AssumeRole'], effect: 'allow', principal: { service: [props.trustedService ?? 'scf.qcloud.com'] } }],
      }),
    });
    // Statements are added by grants after construction, so the document is produced at synth.
    this.policy = new CamPolicy(this, 'policy', {
      name: props.policyName,
      document: Lazy.stringValue({ produce: () => JSON.stringify({ version: '2.0', statement: this.statements }) }),
    });
    this.attachment = new CamRolePolicyAttachment(this, 'attachment', { roleId: this.role.id, policyId: this.policy.id });
  }

  /** The role's name, which is what `tencentcloud_scf_function.role` takes. */
  get roleName(): string {
    return this.role.name;
  }

  /** Adds a statement to the role's policy. */
  addStatement(statement: PolicyStatement): void {
    this.statements.push(statement);
  }
}
