import { describe, expect, it } from 'vitest';
import { UNKNOWN, changedArguments, planResource, RefusedChangeError, sameValue, type PlanInput, type PlannedChange } from '../../local/apply/plan';
import { FORCE_NEW } from '../../local/apply/provider-rules';
import type { ResourceState } from '../../local/apply/state';

const prior = (type: string, args: Record<string, unknown>, configKeys = Object.keys(args)): ResourceState => ({
  type,
  args,
  configKeys,
  attributes: { id: 'x', ...args },
});

function plan(partial: Partial<PlanInput> & Pick<PlanInput, 'type' | 'wanted'>): PlannedChange {
  return planResource({ address: `${partial.type}.it`, replaceTriggeredBy: [], sensitive: new Set(), prior: undefined, planned: new Map(), ...partial });
}

const API = {
  service_id: 'service-1',
  protocol: 'WEBSOCKET',
  api_name: 'chat_dev_gz_ws',
  service_config_timeout: 600,
  enable_cors: false,
  service_config_websocket_register_function_name: 'chat-dev-gz-register',
};

describe('planResource', () => {
  it('creates what the state does not hold', () => {
    expect(plan({ type: 'tencentcloud_api_gateway_api', wanted: API }).action).toBe('create');
  });

  it('leaves alone what matches, whatever the key order', () => {
    const reordered = Object.fromEntries(Object.entries(API).reverse());
    expect(plan({ type: 'tencentcloud_api_gateway_api', wanted: reordered, prior: prior('tencentcloud_api_gateway_api', API) })).toMatchObject({
      action: 'no-op',
      reasons: [],
    });
  });

  it('updates the API in place for a new idle timeout, naming the argument and both values', () => {
    const change = plan({
      type: 'tencentcloud_api_gateway_api',
      wanted: { ...API, service_config_timeout: 900 },
      prior: prior('tencentcloud_api_gateway_api', API),
    });
    expect(change).toMatchObject({ action: 'update', reasons: ['service_config_timeout: 600 -> 900'] });
  });

  it('updates in place when the live API lost its bindings (drift found by the refresh)', () => {
    const live = prior('tencentcloud_api_gateway_api', { ...API, service_config_websocket_register_function_name: '' });
    expect(plan({ type: 'tencentcloud_api_gateway_api', wanted: API, prior: live }).action).toBe('update');
  });

  it('replaces where the provider forces a new resource', () => {
    expect(
      plan({ type: 'tencentcloud_api_gateway_api', wanted: { ...API, protocol: 'HTTP' }, prior: prior('tencentcloud_api_gateway_api', API) }),
    ).toMatchObject({
      action: 'replace',
      reasons: ['protocol: "WEBSOCKET" -> "HTTP" forces replacement'],
    });
    const fn = { name: 'chat-dev-gz-transport', namespace: 'default', mem_size: 128 };
    expect(plan({ type: 'tencentcloud_scf_function', wanted: { ...fn, mem_size: 256 }, prior: prior('tencentcloud_scf_function', fn) }).action).toBe('update');
    expect(plan({ type: 'tencentcloud_scf_function', wanted: { ...fn, namespace: 'other' }, prior: prior('tencentcloud_scf_function', fn) }).action).toBe(
      'replace',
    );
    const release = { service_id: 'service-1', environment_name: 'release', release_desc: 'a' };
    expect(
      plan({
        type: 'tencentcloud_api_gateway_service_release',
        wanted: { ...release, release_desc: 'b' },
        prior: prior('tencentcloud_api_gateway_service_release', release),
      }).action,
    ).toBe('replace');
  });

  it('counts an unknown value as a change, and a dropped argument too', () => {
    expect(
      plan({ type: 'tencentcloud_api_gateway_api', wanted: { ...API, service_id: UNKNOWN }, prior: prior('tencentcloud_api_gateway_api', API) }),
    ).toMatchObject({
      action: 'replace',
      reasons: ['service_id: "service-1" -> (known after apply) forces replacement'],
    });
    const { enable_cors: _, ...withoutCors } = API;
    expect(changedArguments(withoutCors, prior('tencentcloud_api_gateway_api', API))).toEqual(['enable_cors']);
    // An argument the configuration never set (computed, or a default) is not compared.
    expect(changedArguments(API, prior('tencentcloud_api_gateway_api', { ...API, update_time: 'now' }, Object.keys(API)))).toEqual([]);
  });

  it('refuses what the provider refuses to change', () => {
    const fn = { name: 'f', func_type: 'Event' };
    expect(() => plan({ type: 'tencentcloud_scf_function', wanted: { ...fn, func_type: 'HTTP' }, prior: prior('tencentcloud_scf_function', fn) })).toThrow(
      RefusedChangeError,
    );
  });

  it('never prints a sensitive argument', () => {
    const fn = { name: 'f', environment: { ADMISSION_SECRET: 'old-secret' } };
    const change = plan({
      type: 'tencentcloud_scf_function',
      wanted: { ...fn, environment: { ADMISSION_SECRET: 'new-secret' } },
      prior: prior('tencentcloud_scf_function', fn),
      sensitive: new Set(['environment']),
    });
    expect(change.action).toBe('update');
    expect(change.reasons.join()).not.toMatch(/secret/);
    expect(change.reasons).toEqual(['environment: (sensitive) -> (sensitive)']);
  });

  describe('terraform_data', () => {
    const hook = { triggers_replace: { CHAT_API_ID: 'api-1', CHAT_CLIENT_URL: 'wss://127.0.0.1:3001/release/' } };
    const triggeredBy = ['tencentcloud_api_gateway_api.websocket_api', 'tencentcloud_scf_function.transport'];
    const planned = (action: PlannedChange['action']) =>
      new Map<string, PlannedChange>([
        [
          'tencentcloud_api_gateway_api.websocket_api',
          { address: 'tencentcloud_api_gateway_api.websocket_api', type: 'tencentcloud_api_gateway_api', action, reasons: [] },
        ],
        [
          'tencentcloud_scf_function.transport',
          { address: 'tencentcloud_scf_function.transport', type: 'tencentcloud_scf_function', action: 'no-op', reasons: [] },
        ],
      ]);

    it('is left alone when its triggers and the resources it watches are unchanged', () => {
      expect(
        plan({ type: 'terraform_data', wanted: hook, prior: prior('terraform_data', hook), replaceTriggeredBy: triggeredBy, planned: planned('no-op') }).action,
      ).toBe('no-op');
    });

    it('is replaced when a watched resource is updated in place, saying which', () => {
      const change = plan({
        type: 'terraform_data',
        wanted: hook,
        prior: prior('terraform_data', hook),
        replaceTriggeredBy: triggeredBy,
        planned: planned('update'),
      });
      expect(change).toMatchObject({
        action: 'replace',
        reasons: ['replace_triggered_by tencentcloud_api_gateway_api.websocket_api, which is planned to update in place'],
      });
    });

    it('is replaced when a trigger changes, naming it with both values', () => {
      const moved = { triggers_replace: { ...hook.triggers_replace, CHAT_CLIENT_URL: 'wss://127.0.0.1:4001/release/' } };
      const change = plan({
        type: 'terraform_data',
        wanted: moved,
        prior: prior('terraform_data', hook),
        replaceTriggeredBy: triggeredBy,
        planned: planned('no-op'),
      });
      expect(change).toMatchObject({
        action: 'replace',
        reasons: ['triggers_replace.CHAT_CLIENT_URL: "wss://127.0.0.1:3001/release/" -> "wss://127.0.0.1:4001/release/"'],
      });
    });

    it('updates in place for a new input only', () => {
      expect(plan({ type: 'terraform_data', wanted: { ...hook, input: 'b' }, prior: prior('terraform_data', { ...hook, input: 'a' }) }).action).toBe('update');
    });
  });
});

describe('planResource for a web-mode stack', () => {
  const redis = {
    name: 'chat-dev-gz',
    availability_zone: 'ap-guangzhou-3',
    type_id: 15,
    mem_size: 1024,
    redis_replicas_num: 1,
    vpc_id: 'vpc-1',
    subnet_id: 'subnet-1',
  };

  it('resizes, re-versions and re-passwords Redis in place, and replaces it for another zone', () => {
    const was = prior('tencentcloud_redis_instance', redis);
    expect(plan({ type: 'tencentcloud_redis_instance', wanted: { ...redis, mem_size: 2048, type_id: 17, password: 'b' }, prior: was }).action).toBe('update');
    expect(plan({ type: 'tencentcloud_redis_instance', wanted: { ...redis, availability_zone: 'ap-guangzhou-6' }, prior: was })).toMatchObject({
      action: 'replace',
      reasons: ['availability_zone: "ap-guangzhou-3" -> "ap-guangzhou-6" forces replacement'],
    });
  });

  it('refuses moving Redis to another VPC or subnet, as the provider does without operation_network', () => {
    expect(() =>
      plan({ type: 'tencentcloud_redis_instance', wanted: { ...redis, subnet_id: 'subnet-2' }, prior: prior('tencentcloud_redis_instance', redis) }),
    ).toThrow(/the `operation_network` parameter is required/);
  });

  it('replaces a subnet for another zone or block, and a VPC for another block; renames in place', () => {
    const subnet = { name: 'a', vpc_id: 'vpc-1', availability_zone: 'ap-guangzhou-3', cidr_block: '10.0.1.0/24' };
    const was = prior('tencentcloud_subnet', subnet);
    expect(plan({ type: 'tencentcloud_subnet', wanted: { ...subnet, name: 'b' }, prior: was }).action).toBe('update');
    expect(plan({ type: 'tencentcloud_subnet', wanted: { ...subnet, availability_zone: 'ap-guangzhou-6' }, prior: was }).action).toBe('replace');
    expect(plan({ type: 'tencentcloud_subnet', wanted: { ...subnet, cidr_block: '10.0.2.0/24' }, prior: was }).action).toBe('replace');
    const vpc = { name: 'a', cidr_block: '10.0.0.0/16' };
    expect(plan({ type: 'tencentcloud_vpc', wanted: { ...vpc, cidr_block: '10.1.0.0/16' }, prior: prior('tencentcloud_vpc', vpc) }).action).toBe('replace');
    expect(plan({ type: 'tencentcloud_vpc', wanted: { ...vpc, name: 'b' }, prior: prior('tencentcloud_vpc', vpc) }).action).toBe('update');
  });

  it('hides a secret in a terraform_data trigger, naming only which one changed', () => {
    const was = prior('terraform_data', { triggers_replace: { CHAT_WEB_CODE_HASH: 'a', CHAT_WEB_SECRET_REDIS_PASSWORD: 'old-secret' } });
    const change = plan({
      type: 'terraform_data',
      wanted: { triggers_replace: { CHAT_WEB_CODE_HASH: 'a', CHAT_WEB_SECRET_REDIS_PASSWORD: 'new-secret' } },
      prior: was,
      sensitive: new Set(['triggers_replace']),
    });
    expect(change).toMatchObject({ action: 'replace', reasons: ['triggers_replace.CHAT_WEB_SECRET_REDIS_PASSWORD: (sensitive) -> (sensitive)'] });
  });
});

describe('provider rules', () => {
  it('know every resource type the local cloud applies', async () => {
    const { RESOURCE_TYPES } = await import('../../local/apply/resources');
    expect(Object.keys(FORCE_NEW).sort()).toEqual(Object.keys(RESOURCE_TYPES).sort());
  });

  it('compare values deeply and never equal an unknown', () => {
    expect(sameValue({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] })).toBe(true);
    expect(sameValue({ a: [1, { b: 2 }] }, { a: [1, { b: 3 }] })).toBe(false);
    expect(sameValue(UNKNOWN, UNKNOWN)).toBe(false);
  });
});
