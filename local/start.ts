/**
 * `npm start`: the chat on this machine. Synthesizes the stack, builds the functions, runs them on
 * the local cloud, and serves the chat page.
 *
 *   npm start -- [--stage dev] [--region ap-guangzhou] [--port 3000] [--gateway-port 3001]
 *                [--cos-port 3002] [--data-dir .data] [--max-instances N] [--watch]
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { LocalCloud, DEFAULT_PORTS } from './cloud';
import { DEFAULT_MAX_INSTANCES } from './scf/runtime';
import { watchSources } from './watch';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const USAGE = `Usage: npm start -- [options]

  --stage NAME         stage of config/app.json to run (default: the first, dev)
  --region REGION      region of that stage (default: its first)
  --port N             chat page port (default ${DEFAULT_PORTS.page}; env PORT)
  --gateway-port N     WebSocket and reverse-push port (default ${DEFAULT_PORTS.gateway}; env GATEWAY_PORT)
  --cos-port N         local COS port (default ${DEFAULT_PORTS.cos}; env COS_PORT)
  --cloud-api-port N   local Cloud API port (default ${DEFAULT_PORTS.cloudApi}; env CLOUD_API_PORT)
  --data-dir PATH      where objects and build output live (default .data)
  --max-instances N    instances of one function running at once (default ${DEFAULT_MAX_INSTANCES}: twice the cores, at least 4)
  --watch              rebuild a changed function and swap its instances; connections stay open
  --quiet              no line per connection or invocation (functions log warnings only)
  --help               show this help`;

function port(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new Error(`${name} must be a port number from 0 to 65535, got "${value}"`);
  return n;
}

function count(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new Error(`${name} must be a whole number from 1, got "${value}"`);
  return Number(value);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      stage: { type: 'string' },
      region: { type: 'string' },
      port: { type: 'string' },
      'gateway-port': { type: 'string' },
      'cos-port': { type: 'string' },
      'cloud-api-port': { type: 'string' },
      'data-dir': { type: 'string' },
      'max-instances': { type: 'string' },
      watch: { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const cloud = new LocalCloud({
    stage: values.stage ?? (process.env.STAGE || undefined),
    region: values.region ?? (process.env.REGION || undefined),
    dataDir: values['data-dir'],
    quiet: values.quiet,
    maxInstancesPerFunction: count('--max-instances', values['max-instances'], DEFAULT_MAX_INSTANCES),
    ports: {
      page: port('--port', values.port ?? process.env.PORT, DEFAULT_PORTS.page),
      gateway: port('--gateway-port', values['gateway-port'] ?? process.env.GATEWAY_PORT, DEFAULT_PORTS.gateway),
      cos: port('--cos-port', values['cos-port'] ?? process.env.COS_PORT, DEFAULT_PORTS.cos),
      cloudApi: port('--cloud-api-port', values['cloud-api-port'] ?? process.env.CLOUD_API_PORT, DEFAULT_PORTS.cloudApi),
    },
  });
  console.log(`starting ${cloud.target.name} locally...`);
  const endpoints = await cloud.start();
  console.log('');
  console.log(`  Chat page:    ${endpoints.pageUrl}`);
  console.log(`  WebSocket:    ${endpoints.wsUrl}`);
  console.log(`  Push address: ${endpoints.pushUrl}`);
  console.log(`  Local COS:    ${endpoints.cosEndpoint}  (data in ${path.relative(process.cwd(), cloud.dataDir) || '.'})`);
  console.log(`  Cloud API:    http://${endpoints.cloudApiEndpoint}`);
  console.log('');

  let stopWatching = () => {};
  if (values.watch) {
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
