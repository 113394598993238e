/**
 * Web-function mode: the same app served by a plain `ws` server, its rooms and sends across
 * instances on Redis pub/sub.
 *
 *   import app from './app';
 *   import { serveWeb } from '../toolkit/web';
 *   const server = await serveWeb(app); // PORT (9000), REDIS_HOST, REDIS_PORT, REDIS_PASSWORD
 */
export { runWebFunction, serveWeb, type WebApp, type WebServer, type WebServerOptions, type WebServerStats } from './server';
export { FAILURE_CLOSE_CODE, GAP_CLOSE_CODE, type GapReport } from './session';
export { DEFAULT_WEB_PORT, WebEnv, type RedisAddress } from './config';
export { RedisKeys } from './keys';
export { RedisStore } from './store';
