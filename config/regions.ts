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
