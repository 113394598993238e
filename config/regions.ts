/**
 * Short region names, used in resource names so that every region gets its own.
 * A region outside this table is refused, which also catches typos before anything is created.
 */
export const REGION_SHORT_NAMES: Record<string, string> = {
  'ap-guangzhou': 'gz',
  'ap-shanghai': 'sh',
  'ap-nanjing': 'nj',
  'ap-beijing': 'bj',
  'ap-chengdu': 'cd',
  'ap-chongqing': 'cq',
  'ap-hongkong': 'hk',
  'ap-singapore': 'sg',
  'ap-jakarta': 'jkt',
  'ap-seoul': 'kr',
  'ap-tokyo': 'tyo',
  'ap-bangkok': 'th',
  'ap-mumbai': 'in',
  'na-siliconvalley': 'usw',
  'na-ashburn': 'use',
  'na-toronto': 'ca',
  'sa-saopaulo': 'sao',
  'eu-frankfurt': 'fra',
};

/** The short name of a known region; throws for unknown ones. */
export function regionShortName(region: string): string {
  const short = REGION_SHORT_NAMES[region];
  if (!short) throw new Error(`unknown region "${region}"; known regions: ${Object.keys(REGION_SHORT_NAMES).join(', ')}`);
  return short;
}

/**
 * The availability zone a web-mode stack puts its subnet and Redis in, per region, when the
 * configuration names none (`redis.zones`). Only regions with a zone known to sell TencentDB for
 * Redis are here: `ap-guangzhou-3` is the zone of the provider's own Redis acceptance tests
 * (terraform-provider-tencentcloud v1.82.97, `acctest.DefaultAZone` and
 * `crs/resource_tc_redis_instance_test.go`). Elsewhere the configuration must name one; the data
 * source `tencentcloud_redis_zone_config` (or the console) lists the zones that sell each type.
 */
export const DEFAULT_REDIS_ZONES: Readonly<Record<string, string>> = {
  'ap-guangzhou': 'ap-guangzhou-3',
};
