/**
 * The constructs, for stacks of your own: `AppStack` is one app's stage in a region, made of a
 * `WebSocketApp` (event mode) or a `WebFunctionApp` (web mode) and their parts.
 */
export { AppStack, type AppStackProps } from './app-stack';
export { synthesizeApps, type SynthOptions } from './app';
export { WebSocketApp, type WebSocketAppProps } from './websocket-app';
export { WebSocketApi, type WebSocketApiProps, type FunctionBinding } from './websocket-api';
export { AppFunction, type AppFunctionProps } from './app-function';
export { ConnectionRegistry, type ConnectionRegistryProps } from './connection-registry';
export { ExecutionRole, type ExecutionRoleProps, type PolicyStatement } from './execution-role';
export { PostDeployHook, type PostDeployHookProps } from './post-deploy-hook';
export { ROLES, RUNTIME, type AppBundles, type BundleInfo, type BundleRole, type Role } from './roles';
export { WebFunctionApp, type WebFunctionAppProps } from './web-function-app';
export { WebFunction, type WebFunctionProps } from './web-function';
export { WebFunctionApi, type WebFunctionApiProps } from './web-function-api';
export { PrivateNetwork, type PrivateNetworkProps } from './private-network';
export { RedisStore, type RedisStoreProps } from './redis-store';
