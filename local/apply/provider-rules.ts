/**
 * What the tencentcloud provider does with a changed argument, per resource type the stack uses:
 * replace (ForceNew), refuse, or update in place. Read from the provider's source
 * (tencentcloudstack/terraform-provider-tencentcloud v1.83.25, `tencentcloud/services/*`; the same
 * since v1.81.23; the web mode's VPC and Redis types from v1.82.97, the vendored schema's), so
 * that a local re-deploy does what `cdktf deploy` would.
 */

/** Arguments marked `ForceNew: true` in each resource's schema. */
export const FORCE_NEW: Readonly<Record<string, readonly string[]>> = {
  // cos/resource_tc_cos_bucket.go
  tencentcloud_cos_bucket: ['bucket', 'multi_az', 'chdfs_ofs', 'cdc_id'],
  // cam/resource_tc_cam_role.go, resource_tc_cam_policy.go
  tencentcloud_cam_role: ['name'],
  tencentcloud_cam_policy: ['name'],
  // cam/resource_tc_cam_role_policy_attachment.go: no Update; its other attributes are computed
  tencentcloud_cam_role_policy_attachment: ['role_id', 'policy_id'],
  // scf/resource_tc_scf_function.go: runtime and handler are updated in place
  tencentcloud_scf_function: ['name', 'namespace', 'async_run_enable'],
  // apigateway/resource_tc_api_gateway_service.go
  tencentcloud_api_gateway_service: ['exclusive_set_name', 'ip_version', 'instance_id'],
  // apigateway/resource_tc_api_gateway_api.go
  tencentcloud_api_gateway_api: ['service_id', 'protocol'],
  // apigateway/resource_tc_api_gateway_service_release.go: no Update at all
  tencentcloud_api_gateway_service_release: ['service_id', 'environment_name', 'release_desc'],
  // Terraform's own: only triggers_replace replaces it; a new input is an update.
  terraform_data: [],
  // v1.82.97, vpc/resource_tc_vpc.go, resource_tc_subnet.go, resource_tc_security_group.go
  tencentcloud_vpc: ['cidr_block'],
  tencentcloud_subnet: ['vpc_id', 'availability_zone', 'cidr_block', 'cdc_id'],
  tencentcloud_security_group: ['project_id'],
  // v1.82.97, crs/resource_tc_redis_instance.go: size, type, replicas, password and name update in place
  tencentcloud_redis_instance: ['availability_zone', 'type', 'auto_renew_flag'],
};

/** Arguments whose change the provider's Update refuses with an error, and its message. */
export const REFUSED_CHANGES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  tencentcloud_scf_function: { func_type: '`func_type` do not support change now.' },
  tencentcloud_api_gateway_api: { target_services: 'argument `target_services` cannot be changed' },
  // release_version is Optional+Computed and not ForceNew, but there is no Update to apply it.
  tencentcloud_api_gateway_service_release: { release_version: "doesn't support update" },
  // The stack never sets operation_network, without which Update refuses a network change.
  tencentcloud_redis_instance: Object.fromEntries([
    ...['vpc_id', 'subnet_id', 'port', 'recycle', 'ip'].map((key) => [
      key,
      'When modifying `vpc_id`, `subnet_id`, `port`, `recycle`, `ip`, the `operation_network` parameter is required',
    ]),
    ...['product_version', 'redis_cluster_id'].map((key) => [key, `tencentcloud_redis_instance update on ${key} is not support yet`]),
  ]),
};

/** Meta-arguments: never compared as a resource's arguments. */
export const META_ARGUMENTS = new Set(['//', 'depends_on', 'count', 'for_each', 'provider', 'lifecycle', 'provisioner', 'connection']);
