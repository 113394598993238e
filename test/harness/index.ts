/**
 * The test harness: start an app on a local cloud or name a deployed one, open clients (with
 * admission when the endpoint requires it) and wait for what they receive.
 *
 * @example
 * const endpoint = await openAppEndpoint({ app: 'shout', admissionSecret: newAdmissionSecret() });
 * const client = await TestClient.connect(endpoint.url, { protocols: endpoint.protocols(['shout']) });
 * client.send('hi');
 * await client.nextJson((m) => m.type === 'shout');
 */
export { DEFAULT_TIMEOUT_MS, HandshakeRefused, TestClient, WaitFailed, type Closed, type ConnectOptions, type Received } from './client';
export {
  deployedApp,
  endpointFromEnv,
  HarnessError,
  LOCAL_ADMISSION_SECRET_ENV,
  newAdmissionSecret,
  openAppEndpoint,
  startLocalApp,
  type AppEndpoint,
  type DeployedAppOptions,
  type LocalAppOptions,
} from './endpoint';
export { createAdmissionToken } from '../../functions/lib/admission';
