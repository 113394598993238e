import { describe, expect, it } from 'vitest';
import { DEFAULT_PUSH_CONCURRENCY, Env, readAdmissionSecret, readPushConfig, readRegistryConfig } from '../../functions/lib/config';

const base = {
  bucket: 'chat-dev-gz-1250000000',
  region: 'ap-guangzhou',
  TENCENTCLOUD_SECRETID: 'id',
  TENCENTCLOUD_SECRETKEY: 'key',
};

describe('function configuration', () => {
  it('reads the registry settings and the role credentials', () => {
    const config = readRegistryConfig({ ...base, TENCENTCLOUD_SESSIONTOKEN: 'tok', LOCAL_COS_DOMAIN: 'http://127.0.0.1:1/{Bucket}' });
    expect(config).toEqual({
      bucket: base.bucket,
      region: base.region,
      credentials: { secretId: 'id', secretKey: 'key', sessionToken: 'tok' },
      cosDomain: 'http://127.0.0.1:1/{Bucket}',
    });
  });

  it('names the missing variable', () => {
    for (const name of ['bucket', 'region', 'TENCENTCLOUD_SECRETID', 'TENCENTCLOUD_SECRETKEY']) {
      const env: Record<string, string> = { ...base };
      delete env[name];
      expect(() => readRegistryConfig(env)).toThrow(new RegExp(`missing environment variable ${name}\\b`));
    }
    expect(() => readPushConfig({})).toThrow(/missing environment variable url/);
  });

  it('takes credentials only from the role variables, never from custom ones', () => {
    expect(() => readRegistryConfig({ bucket: 'b-1', region: 'r', secret_id: 'x', secret_key: 'y' })).toThrow(/TENCENTCLOUD_SECRETID/);
  });

  it('uses no reserved prefix for its own variables', () => {
    const own = Object.values(Env).filter((n) => !['TENCENTCLOUD_SECRETID', 'TENCENTCLOUD_SECRETKEY', 'TENCENTCLOUD_SESSIONTOKEN'].includes(n));
    for (const name of own) {
      expect(name).toMatch(/^[A-Za-z][A-Za-z0-9_]{1,63}$/);
      expect(name).not.toMatch(/^(TENCENTCLOUD_|SCF_|QCLOUD_)/i);
    }
  });

  it('defaults and validates push settings', () => {
    expect(readPushConfig({ url: 'http://push.example/api-1' })).toEqual({ url: 'http://push.example/api-1', concurrency: DEFAULT_PUSH_CONCURRENCY, timeoutMs: 3000 });
    expect(readPushConfig({ url: 'http://x/api', PUSH_CONCURRENCY: '8', PUSH_TIMEOUT_MS: '500' })).toMatchObject({ concurrency: 8, timeoutMs: 500 });
    expect(() => readPushConfig({ url: 'http://x/api', PUSH_CONCURRENCY: 'lots' })).toThrow(/PUSH_CONCURRENCY must be an integer/);
    expect(() => readPushConfig({ url: 'set-websocket.example/api' })).toThrow(/must be an http\(s\) address/);
  });

  it('treats an empty admission secret as open admission', () => {
    expect(readAdmissionSecret({ ADMISSION_SECRET: '' })).toBeUndefined();
    expect(readAdmissionSecret({ ADMISSION_SECRET: 's3cret' })).toBe('s3cret');
  });
});
