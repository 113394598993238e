import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../config/load';
import { Env, readAdmissionSecret, readPushConfig, readRegistryConfig, readRegistryExpiryDays } from '../../functions/lib/config';

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
    expect(readPushConfig({ url: 'http://push.example/api-1' })).toEqual({ url: 'http://push.example/api-1', concurrency: 32, timeoutMs: 3000 });
    expect(readPushConfig({ url: 'http://x/api', PUSH_CONCURRENCY: '8', PUSH_TIMEOUT_MS: '500' })).toMatchObject({ concurrency: 8, timeoutMs: 500 });
    expect(() => readPushConfig({ url: 'http://x/api', PUSH_CONCURRENCY: 'lots' })).toThrow(/PUSH_CONCURRENCY must be an integer/);
    expect(() => readPushConfig({ url: 'set-websocket.example/api' })).toThrow(/must be an http\(s\) address/);
  });

  it('defaults push concurrency to the documented 32, in the function and in config/app.json', () => {
    // The README documents it twice: "PUSH_CONCURRENCY | transport | ... (default 32)" and
    // `"push": { "concurrency": 32, ... }` in the configuration example. Checked against that literal.
    const readme = readFileSync(path.resolve(__dirname, '..', '..', 'README.md'), 'utf8');
    expect(readme).toMatch(/\| `PUSH_CONCURRENCY` \| transport \| [^|\n]*\(default 32\) \|/);
    expect(readme).toMatch(/"push": \{ "concurrency": 32,/);
    expect(readPushConfig({ url: 'http://x/api' }).concurrency).toBe(32);
    expect(readPushConfig({ url: 'http://x/api', PUSH_CONCURRENCY: '' }).concurrency).toBe(32);
    expect(loadConfig().defaults.push.concurrency).toBe(32);
  });

  it('reads the registry expiry in days: positive, fractions allowed, 1 by default, anything else named', () => {
    expect(readRegistryExpiryDays({})).toBe(1);
    expect(readRegistryExpiryDays({ REGISTRY_EXPIRY_DAYS: '' })).toBe(1);
    expect(readRegistryExpiryDays({ REGISTRY_EXPIRY_DAYS: '7' })).toBe(7);
    expect(readRegistryExpiryDays({ REGISTRY_EXPIRY_DAYS: '0.25' })).toBe(0.25);
    for (const bad of ['0', '-2', 'soon', 'NaN', 'Infinity', '1d']) {
      expect(() => readRegistryExpiryDays({ REGISTRY_EXPIRY_DAYS: bad })).toThrow(
        expect.objectContaining({
          code: 'MISCONFIGURED',
          message: `environment variable REGISTRY_EXPIRY_DAYS must be a positive number of days, got "${bad}"`,
        }),
      );
    }
  });

  it('admission fails closed: an empty, blank or short secret is refused with the reason, never read as open', () => {
    expect(readAdmissionSecret({})).toBeUndefined();
    expect(readAdmissionSecret({ ADMISSION_SECRET: 'sixteen-bytes-ok' })).toBe('sixteen-bytes-ok');
    const refusal = (env: Record<string, string>) => {
      try {
        readAdmissionSecret(env);
      } catch (err) {
        expect(err).toMatchObject({ code: 'MISCONFIGURED', errNo: 500 });
        return (err as Error).message;
      }
      throw new Error(`expected ${JSON.stringify(env)} to be refused`);
    };
    expect(refusal({ ADMISSION_SECRET: '' })).toMatch(/^admission is configured but ADMISSION_SECRET is empty: .*every connection is refused/);
    expect(refusal({ ADMISSION_SECRET: '   ' })).toMatch(/ADMISSION_SECRET is empty/);
    expect(refusal({ ADMISSION_SECRET: 'fifteen-bytes!!' })).toMatch(/ADMISSION_SECRET is 15 bytes, fewer than the 16/);
    // Where the stack says admission is required, a secret the platform dropped is refused too.
    expect(refusal({ ADMISSION_REQUIRED: 'true' })).toMatch(/ADMISSION_SECRET is not set/);
    expect(readAdmissionSecret({ ADMISSION_REQUIRED: 'true', ADMISSION_SECRET: 'a-long-enough-secret' })).toBe('a-long-enough-secret');
  });
});
