/**
 * The local cloud, as a library: run any app's synthesized stack on this machine (what
 * `npm start` does), for tools and tests of your own.
 */
export { DEFAULT_PORTS, LocalCloud, type LocalCloudOptions, type LocalEndpoints } from './cloud';
export type { GatewayLimits } from './gateway/limits';
