/**
 * `npm start`'s command line: parsed and checked here, apart from starting anything, so it can be
 * tested. A bad argument throws {@link StartArgsError} naming the flag and what it takes.
 */
import { parseArgs } from 'node:util';
import { CodedError } from './coded-error';
import { DEFAULT_PORTS, type LocalCloudOptions } from './cloud';
import type { GatewayLimits } from './gateway/limits';
import { MODES, type Mode } from '../config/schema';
import { DEFAULT_MAX_INSTANCES, DEFAULT_MAX_WEB_INSTANCES } from './scf/runtime';

/** Thrown for an argument `npm start` cannot use; `code` is always `ERR_INVALID_ARG`. */
export class StartArgsError extends CodedError<'ERR_INVALID_ARG'> {
  constructor(message: string) {
    super('ERR_INVALID_ARG', `${message} (see npm start -- --help)`);
  }
}

export const USAGE = `Usage: npm start -- [options]

  --app NAME           app of config/app.json to run (default: the first, chat; env APP)
  --stage NAME         stage of config/app.json to run (default: the first, dev)
  --region REGION      region of that stage (default: its first)
  --mode event|web     event: three functions behind the gateway's events; web: one web
                       function instance (a process) per connection, rooms over a local
                       redis-server (default: what config/app.json says, event; env CHAT_MODE)
  --port N             chat page port (default ${DEFAULT_PORTS.page}; env PORT)
  --gateway-port N     WebSocket and reverse-push port (default ${DEFAULT_PORTS.gateway}; env GATEWAY_PORT)
  --cos-port N         local COS port (default ${DEFAULT_PORTS.cos}; env COS_PORT)
  --cloud-api-port N   local Cloud API port (default ${DEFAULT_PORTS.cloudApi}; env CLOUD_API_PORT)
  --data-dir PATH      where objects and build output live (default .data)
  --max-instances N    instances of one function running at once (default ${DEFAULT_MAX_INSTANCES}: twice the cores, at least 4)
  --max-web-instances N
                       web mode: instances (processes, one per connection) at once; a
                       connection beyond them is refused with 503 (default ${DEFAULT_MAX_WEB_INSTANCES}, by memory)
  --limits on|off      off: no messages/s or bytes/s limit per connection, for load tests
                       (default on: 10 msg/s and 128 KB/s); the 256 KB message limit stays
  --rate-limit close|throttle
                       beyond the rate: close the connection with 1008 (default), or hold
                       frames back until the rate allows them
  --watch              rebuild a changed function and swap its instances; connections stay open
  --quiet              no line per connection or invocation (functions log warnings only)
  --help               show this help`;

/** What the command line asks for. */
export interface StartArgs {
  help: boolean;
  watch: boolean;
  /** Options for {@link LocalCloud}, apart from the configuration and log. */
  cloud: Pick<LocalCloudOptions, 'app' | 'stage' | 'region' | 'mode' | 'dataDir' | 'quiet' | 'maxInstancesPerFunction' | 'maxWebInstances' | 'ports'> & {
    /** The gateway limits that differ from the defaults (seed 002's numbers). */
    limits: Partial<GatewayLimits>;
  };
}

function port(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new StartArgsError(`${name} must be a port number from 0 to 65535, got "${value}"`);
  return n;
}

function count(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new StartArgsError(`${name} must be a whole number from 1, got "${value}"`);
  return Number(value);
}

function oneOf<T extends string>(name: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) throw new StartArgsError(`${name} must be ${allowed.join(' or ')}, got "${value}"`);
  return value as T;
}

/** Gateway limits from `--limits` and `--rate-limit`. */
function limitsFrom(limits: 'on' | 'off' | undefined, rateLimit: 'close' | 'throttle' | undefined): Partial<GatewayLimits> {
  if (limits === 'off') {
    if (rateLimit !== undefined) throw new StartArgsError(`--rate-limit ${rateLimit} has no effect with --limits off: there is no rate to go beyond`);
    return { rateLimits: false };
  }
  return rateLimit === undefined ? {} : { rateLimitAction: rateLimit };
}

/**
 * Parses `npm start`'s arguments; the variables of `env` (PORT, GATEWAY_PORT, COS_PORT,
 * CLOUD_API_PORT, APP, STAGE, REGION, CHAT_MODE) stand in for flags not given.
 * @throws StartArgsError for an unknown flag or a bad value
 */
export function parseStartArgs(argv: string[], env: NodeJS.ProcessEnv = {}): StartArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        app: { type: 'string' },
        stage: { type: 'string' },
        region: { type: 'string' },
        mode: { type: 'string' },
        port: { type: 'string' },
        'gateway-port': { type: 'string' },
        'cos-port': { type: 'string' },
        'cloud-api-port': { type: 'string' },
        'data-dir': { type: 'string' },
        'max-instances': { type: 'string' },
        'max-web-instances': { type: 'string' },
        limits: { type: 'string' },
        'rate-limit': { type: 'string' },
        watch: { type: 'boolean', default: false },
        quiet: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new StartArgsError((err as Error).message);
  }
  const limits = limitsFrom(
    oneOf('--limits', values.limits, ['on', 'off'] as const),
    oneOf('--rate-limit', values['rate-limit'], ['close', 'throttle'] as const),
  );
  return {
    help: values.help ?? false,
    watch: values.watch ?? false,
    cloud: {
      app: values.app ?? (env.APP || undefined),
      stage: values.stage ?? (env.STAGE || undefined),
      region: values.region ?? (env.REGION || undefined),
      mode: oneOf<Mode>('--mode', values.mode ?? (env.CHAT_MODE || undefined), MODES),
      dataDir: values['data-dir'],
      quiet: values.quiet ?? false,
      maxInstancesPerFunction: count('--max-instances', values['max-instances'], DEFAULT_MAX_INSTANCES),
      maxWebInstances: count('--max-web-instances', values['max-web-instances'], DEFAULT_MAX_WEB_INSTANCES),
      ports: {
        page: port('--port', values.port ?? env.PORT, DEFAULT_PORTS.page),
        gateway: port('--gateway-port', values['gateway-port'] ?? env.GATEWAY_PORT, DEFAULT_PORTS.gateway),
        cos: port('--cos-port', values['cos-port'] ?? env.COS_PORT, DEFAULT_PORTS.cos),
        cloudApi: port('--cloud-api-port', values['cloud-api-port'] ?? env.CLOUD_API_PORT, DEFAULT_PORTS.cloudApi),
      },
      limits,
    },
  };
}
