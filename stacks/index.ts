/**
 * The constructs, for stacks of your own: `AppStack` is one app's stage in a region, made of a
 * `WebSocketApp` and its parts.
 */
export { AppStack, type AppStackProps } from './app-stack';
export { synthesizeApps, type SynthOptions } from './app';
export { WebSocketApp, type WebSocketAppProps } from './websocket-app';
export { WebSocketApi, type WebSocketApiProps, type FunctionBinding } from './websocket-api';
export { AppFunction, type AppFunctionProps } from './app-function';
export { ConnectionRegistry, type ConnectionRegistryProps } from './connection-registry';
export { ExecutionRole, type ExecutionRoleProps, type PolicyStatement } from './execution-role';
export { PostDeployHook, type PostDeployHookProps } from './post-deploy-hook';
export { ROLES, RUNTIME, type AppBundles, type BundleInfo, type Role } from './roles';
