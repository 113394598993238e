/**
 * The COS SDK client the registry and the app store share: the execution role's credentials, and
 * the local COS store's `Domain` when there is one.
 */
import COS from 'cos-nodejs-sdk-v5';
import type { RegistryConfig } from './config';

export function cosClient(config: RegistryConfig, options: { timeoutMs?: number } = {}): COS {
  return new COS({
    SecretId: config.credentials.secretId,
    SecretKey: config.credentials.secretKey,
    SecurityToken: config.credentials.sessionToken,
    Domain: config.cosDomain,
    Protocol: config.cosDomain?.startsWith('http:') ? 'http:' : undefined,
    Timeout: options.timeoutMs ?? 5000,
    KeepAlive: true,
  });
}

/**
 * One client per configuration, kept across warm invocations with its keep-alive sockets while the
 * configuration is unchanged; role credentials rotate, so they are part of the key.
 */
export function perConfig<T>(make: (config: RegistryConfig) => T): (config: RegistryConfig) => T {
  const cache = new Map<string, T>();
  return (config) => {
    const key = JSON.stringify(config);
    let client = cache.get(key);
    if (!client) {
      if (cache.size >= 4) cache.clear();
      client = make(config);
      cache.set(key, client);
    }
    return client;
  };
}
