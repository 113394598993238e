/**
 * Resource names, all derived from the stack prefix `<app>-<stage>-<region short>` so that stages and
 * regions never collide (CAM roles and policies are global to the account).
 */
import type { Role } from './roles';

export interface ResourceNames {
  /** Bucket name without the app id suffix: the bucket is `<this>-<appid>`. */
  bucketPrefix: string;
  role: string;
  policy: string;
  /** API Gateway names use underscores: the console documents letters, digits and `_`. */
  service: string;
  api: string;
  functions: Record<Role, string>;
  /** Web mode: the one function, its VPC and subnet, the security group and the Redis instance. */
  web: { function: string; vpc: string; subnet: string; securityGroup: string; redis: string };
}

/** Names for the stack with prefix `<app>-<stage>-<region short>`. */
export function resourceNames(prefix: string): ResourceNames {
  const underscored = prefix.replace(/-/g, '_');
  return {
    bucketPrefix: prefix,
    role: `${prefix}-scf`,
    policy: `${prefix}-registry`,
    service: underscored,
    api: `${underscored}_ws`,
    functions: { register: `${prefix}-register`, transport: `${prefix}-transport`, cleanup: `${prefix}-cleanup` },
    web: { function: `${prefix}-web`, vpc: prefix, subnet: `${prefix}-web`, securityGroup: `${prefix}-redis`, redis: prefix },
  };
}
