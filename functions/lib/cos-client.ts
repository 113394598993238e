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
