/**
 * The test harness: start an app on a local cloud or name a deployed one, open clients (with
 * admission when the endpoint requires it) and wait for what they receive.
 *
 * @example
 * const endpoint = await openAppEndpoint({ app: 'shout', admissionSecret: newAdmissionSecret() });
 * const client = await TestClient.connect(endpoint.url, { protocols: endpoint.protocols(['shout']) });
 * client.send('hi');
 * await client.nextJson((m) => m.type === 'shout');
 *
 * @example As a named, verified user (needs the endpoint's admission secret: check `verifiesUsers`)
 * const ann = await TestClient.connect(endpoint.url, { protocols: endpoint.protocols(['chat'], { user: { id: 'ann', name: 'Ann' } }) });
 *
 * @example In web mode (one instance per connection, rooms on Redis); CHAT_MODE=web does the same for every suite
 * const endpoint = await openAppEndpoint({ app: 'chat', mode: 'web' });
 * await endpoint.redis!.restart(); // local web mode: Redis restarted under the clients
 */
export { DEFAULT_TIMEOUT_MS, HandshakeRefused, TestClient, WaitFailed, type Closed, type ConnectOptions, type Received } from './client';
export {
  deployedApp,
  endpointFromEnv,
  HarnessError,
  LOCAL_ADMISSION_SECRET_ENV,
  modeFromEnv,
  newAdmissionSecret,
  openAppEndpoint,
  startLocalApp,
  type AppEndpoint,
  type DeployedAppOptions,
  type LocalAppOptions,
  type ProtocolOptions,
  type RedisControl,
} from './endpoint';
export { createAdmissionToken, type TokenUser } from '../../functions/lib/admission';
