/**
 * Web mode's private network: a VPC, the one subnet the web function and Redis share, and a
 * security group.
 *
 * Provider facts (terraform-provider-tencentcloud v1.82.97, tencentcloud/services/vpc/): a VPC's
 * `cidr_block` forces a new VPC; a subnet's `vpc_id`, `availability_zone`, `cidr_block` (and
 * `cdc_id`) force a new subnet; names update in place. A security group's `project_id` forces a new
 * one.
 *
 * The security group is declared but bound to nothing: a group without rules refuses all traffic
 * (Tencent Cloud's security group documentation), and the vendored provider schema has no rule
 * resource (`tencentcloud_security_group_rule_set` or `_lite_rule`) to open the Redis port with.
 * Unbound, Redis takes what its VPC sends, which is what a VPC instance with no security group does
 * ("no need to associate a security group ... open all IPs and ports", TencentDB's security group
 * documentation); nothing outside the VPC reaches it, since it has no public address.
 */
import { Construct } from 'constructs';
import { SecurityGroup } from '../.gen/providers/tencentcloud/security-group/index';
import { Subnet } from '../.gen/providers/tencentcloud/subnet/index';
import { Vpc } from '../.gen/providers/tencentcloud/vpc/index';

export interface PrivateNetworkProps {
  readonly vpcName: string;
  readonly subnetName: string;
  readonly securityGroupName: string;
  /** e.g. `10.0.0.0/16`. */
  readonly cidr: string;
  /** Inside {@link cidr}, e.g. `10.0.1.0/24`. */
  readonly subnetCidr: string;
  /** The subnet's zone, which must be Redis's too. */
  readonly zone: string;
  /** What the network is for, in the security group's description. */
  readonly purpose: string;
}

/** A VPC, its subnet in one zone, and a security group. */
export class PrivateNetwork extends Construct {
  readonly vpc: Vpc;
  readonly subnet: Subnet;
  readonly securityGroup: SecurityGroup;

  constructor(scope: Construct, id: string, props: PrivateNetworkProps) {
    super(scope, id);
    this.vpc = new Vpc(this, 'vpc', { name: props.vpcName, cidrBlock: props.cidr });
    this.subnet = new Subnet(this, 'subnet', {
      name: props.subnetName,
      vpcId: this.vpc.id,
      availabilityZone: props.zone,
      cidrBlock: props.subnetCidr,
    });
    this.securityGroup = new SecurityGroup(this, 'security-group', {
      name: props.securityGroupName,
      description: `${props.purpose}: bind it to Redis once it has an inbound rule for the Redis port from ${props.subnetCidr}`,
    });
  }
}
