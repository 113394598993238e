/**
 * Web mode's Redis: a TencentDB for Redis instance in the stack's subnet, whose pub/sub carries the
 * rooms across web function instances. The password is a sensitive Terraform variable, filled from
 * the environment at deploy, so it is in neither the configuration nor the synthesized stack.
 *
 * Provider facts (terraform-provider-tencentcloud v1.82.97, crs/resource_tc_redis_instance.go):
 * - `availability_zone` forces a new instance (so does the deprecated `type` and `auto_renew_flag`);
 *   `mem_size`, `type_id`, `redis_replicas_num`, `password`, `name` update in place.
 * - `vpc_id` and `subnet_id` are required in practice ("Basic Network Instance is no longer
 *   supported"); changing them, `port` or `ip` is refused unless `operation_network` says how.
 * - `password`: 8-64 characters (`ValidateMysqlPassword`), required unless `no_auth`.
 * - `redis_replicas_num` defaults to 1 (1-5); the standard architecture needs no `redis_shard_num`.
 * - `port` defaults to 6379 and `ip` is read back from the instance's private address
 *   (`DescribeInstances` → `WanIp`), which is what the function connects to.
 * - Delete isolates a pay-as-you-go instance (`DestroyPostpaidInstance`); only with `force_delete`
 *   does it also `CleanUpInstance`, which the stack asks for: an isolated instance would stay in
 *   the recycle bin, and in its subnet, which then could not be deleted.
 * The smallest instance is the SDK's: `MemSize` "must be a multiple of 1024" MB, so 1024.
 */
import { TerraformVariable, Token } from 'cdktf';
import { Construct } from 'constructs';
import { RedisInstance } from '../.gen/providers/tencentcloud/redis-instance/index';

export interface RedisStoreProps {
  readonly name: string;
  readonly zone: string;
  /** A standard-architecture type id (config/schema.ts `REDIS_STANDARD_TYPES`). */
  readonly typeId: number;
  readonly memSizeMb: number;
  readonly replicas: number;
  /** The environment variable (and Terraform variable) holding the password. */
  readonly passwordEnv: string;
  readonly vpcId: string;
  readonly subnetId: string;
}

/** A standard-architecture Redis instance in a VPC, with its password variable. */
export class RedisStore extends Construct {
  readonly instance: RedisInstance;
  readonly password: TerraformVariable;

  constructor(scope: Construct, id: string, props: RedisStoreProps) {
    super(scope, id);
    // In the stack's own scope, named as the environment variable, as the admission secret's is.
    this.password = new TerraformVariable(scope, props.passwordEnv, {
      type: 'string',
      sensitive: true,
      description: `Redis password, read from the environment variable ${props.passwordEnv}`,
    });
    this.instance = new RedisInstance(this, 'instance', {
      name: props.name,
      availabilityZone: props.zone,
      typeId: props.typeId,
      memSize: props.memSizeMb,
      redisReplicasNum: props.replicas,
      password: this.password.stringValue,
      vpcId: props.vpcId,
      subnetId: props.subnetId,
      forceDelete: true,
    });
  }

  /** The private address the function connects to, as a token until apply. */
  get host(): string {
    return this.instance.ip;
  }

  /** The port (6379 unless declared), as a token until apply. */
  get port(): string {
    return Token.asString(this.instance.port);
  }
}
