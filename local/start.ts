/**
 * `npm start`: the chat on this machine. Synthesizes the stack, builds the functions, runs them on
 * the local cloud, and serves the chat page.
 *
 *   npm start -- [--app chat] [--stage dev] [--region ap-guangzhou] [--mode event|web]
 *                [--port 3000] [--gateway-port 3001] [--cos-port 3002] [--data-dir .data]
 *                [--max-instances N] [--max-web-instances N] [--limits on|off]
 *                [--rate-limit close|throttle] [--watch]
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalCloud } from './cloud';
import { describeLimits, describeWebLimits, resolveLimits } from './gateway/limits';
import { parseStartArgs, USAGE } from './start-args';
import { watchSources } from './watch';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

async function main(): Promise<void> {
  const args = parseStartArgs(process.argv.slice(2), process.env);
  if (args.help) {
    console.log(USAGE);
    return;
  }
  const cloud = new LocalCloud(args.cloud);
  console.log(`starting ${cloud.target.name} locally${cloud.target.settings.mode === 'web' ? ' in web mode' : ''}...`);
  const endpoints = await cloud.start();
  console.log('');
  // The page in web/ is the chat's: other apps bring their own clients.
  if (cloud.target.app === 'chat') console.log(`  Chat page:    ${endpoints.pageUrl}`);
  console.log(`  WebSocket:    ${endpoints.wsUrl}`);
  if (endpoints.mode === 'web') {
    console.log(`  Web function: one instance (a node process) per connection, on a port of its own`);
    if (endpoints.redis) console.log(`  Redis:        ${endpoints.redis.host}:${endpoints.redis.port}  (redis-server, data in the data folder)`);
  } else {
    console.log(`  Push address: ${endpoints.pushUrl}`);
  }
  console.log(`  Local COS:    ${endpoints.cosEndpoint}  (data in ${path.relative(process.cwd(), cloud.dataDir) || '.'})`);
  console.log(`  Cloud API:    http://${endpoints.cloudApiEndpoint}`);
  console.log('');
  const { settings } = cloud.target;
  const limits = resolveLimits(args.cloud.limits);
  console.log(
    `limits: ${settings.mode === 'web' ? describeWebLimits(limits, settings.idleTimeoutSeconds, settings.web.timeoutSeconds) : describeLimits(limits, settings.idleTimeoutSeconds)}`,
  );

  let stopWatching = () => {};
  if (args.watch) {
    stopWatching = watchSources(path.join(ROOT, 'functions'), async () => {
      try {
        const changed = await cloud.reloadFunctions();
        if (changed.length === 0) console.log('functions unchanged');
      } catch (err) {
        console.error(`rebuild failed, the running functions are unchanged: ${(err as Error).message}`);
      }
    });
    console.log('watching functions/ for changes');
  }
  console.log('Press Ctrl-C to stop.');

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) process.exit(130);
    stopping = true;
    console.log(`\n${signal}: stopping...`);
    stopWatching();
    cloud.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((err: unknown) => {
  console.error(`npm start: ${(err as Error).message}`);
  process.exit(1);
});
