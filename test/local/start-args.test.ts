import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PORTS } from '../../local/cloud';
import { describeLimits, describeWebLimits, resolveLimits } from '../../local/gateway/limits';
import { DEFAULT_MAX_INSTANCES, DEFAULT_MAX_WEB_INSTANCES } from '../../local/scf/runtime';
import { parseStartArgs, StartArgsError, USAGE } from '../../local/start-args';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The error parseStartArgs throws for `argv`. */
function refusal(argv: string[]): StartArgsError {
  try {
    parseStartArgs(argv);
  } catch (err) {
    return err as StartArgsError;
  }
  throw new Error(`${argv.join(' ')} was accepted`);
}

describe('npm start arguments', () => {
  it('defaults to the documented limits, ports and instance count', () => {
    const args = parseStartArgs([]);
    expect(args).toEqual({
      help: false,
      watch: false,
      cloud: {
        app: undefined,
        stage: undefined,
        region: undefined,
        dataDir: undefined,
        quiet: false,
        maxInstancesPerFunction: DEFAULT_MAX_INSTANCES,
        maxWebInstances: DEFAULT_MAX_WEB_INSTANCES,
        ports: DEFAULT_PORTS,
        limits: {},
      },
    });
    expect(describeLimits(resolveLimits(args.cloud.limits), 600)).toBe(
      '256 KB per message (close 1009); 10 msg/s and 128 KB/s per connection (close 1008); 4 MB unread per connection (close 1008); idle 600 s; max 7200 s',
    );
  });

  it('chooses the app with --app or APP', () => {
    expect(parseStartArgs(['--app', 'board']).cloud.app).toBe('board');
    expect(parseStartArgs([], { APP: 'board' }).cloud.app).toBe('board');
    expect(parseStartArgs(['--app=chat'], { APP: 'board' }).cloud.app).toBe('chat');
  });

  it('chooses the mode with --mode or CHAT_MODE, and the configuration decides when neither is given', () => {
    expect(parseStartArgs([]).cloud.mode).toBeUndefined();
    expect(parseStartArgs(['--mode', 'web']).cloud.mode).toBe('web');
    expect(parseStartArgs([], { CHAT_MODE: 'web' }).cloud.mode).toBe('web');
    expect(parseStartArgs(['--mode=event'], { CHAT_MODE: 'web' }).cloud.mode).toBe('event');
    expect(parseStartArgs(['--max-web-instances', '50']).cloud.maxWebInstances).toBe(50);
    expect(USAGE).toMatch(/--mode event\|web/);
    // web mode's limits line: the function's idle timeout and timeout, with their status codes
    expect(describeWebLimits(resolveLimits(parseStartArgs(['--mode', 'web']).cloud.limits), 600, 900)).toBe(
      '256 KB per message either way (close 1009); 10 msg/s and 128 KB/s from each client (close 1008); idle 600 s (status 455); max 900 s (status 433)',
    );
  });

  it('switches the rate limits off with --limits off, keeping the frame limit', () => {
    const args = parseStartArgs(['--limits', 'off']);
    expect(args.cloud.limits).toEqual({ rateLimits: false });
    const limits = resolveLimits(args.cloud.limits);
    expect(limits).toMatchObject({ rateLimits: false, maxMessageBytes: 256 * 1024 });
    expect(describeLimits(limits, 600)).toBe(
      '256 KB per message (close 1009); no rate limits; 4 MB unread per connection (close 1008); idle 600 s; max 7200 s',
    );
    expect(parseStartArgs(['--limits=on']).cloud.limits).toEqual({});
  });

  it('chooses what happens beyond the rate with --rate-limit', () => {
    expect(parseStartArgs(['--rate-limit', 'throttle']).cloud.limits).toEqual({ rateLimitAction: 'throttle' });
    expect(parseStartArgs(['--limits', 'on', '--rate-limit', 'close']).cloud.limits).toEqual({ rateLimitAction: 'close' });
    expect(describeLimits(resolveLimits(parseStartArgs(['--rate-limit', 'throttle']).cloud.limits), 600)).toContain(
      '10 msg/s and 128 KB/s per connection (throttled; close 1008 past 100 waiting)',
    );
  });

  it('refuses bad values with a clear error naming the flag', () => {
    const cases: Array<[string[], RegExp]> = [
      [['--limits', 'maybe'], /^--limits must be on or off, got "maybe" \(see npm start -- --help\)$/],
      [['--rate-limit', 'drop'], /^--rate-limit must be close or throttle, got "drop"/],
      [['--limits', 'off', '--rate-limit', 'throttle'], /^--rate-limit throttle has no effect with --limits off/],
      [['--port', '70000'], /^--port must be a port number from 0 to 65535, got "70000"/],
      [['--max-instances', '0'], /^--max-instances must be a whole number from 1, got "0"/],
      [['--max-web-instances', 'many'], /^--max-web-instances must be a whole number from 1, got "many"/],
      [['--mode', 'sse'], /^--mode must be event or web, got "sse"/],
      [['--limit', 'off'], /Unknown option '--limit'/],
      [['--limits'], /--limits.*argument missing/],
      [['extra'], /Unexpected argument 'extra'/],
    ];
    for (const [argv, message] of cases) {
      const err = refusal(argv);
      expect(err, argv.join(' ')).toBeInstanceOf(StartArgsError);
      expect(err.code).toBe('ERR_INVALID_ARG');
      expect(err.message, argv.join(' ')).toMatch(message);
    }
  });

  it('takes ports and the stage from the environment when no flag gives them', () => {
    const args = parseStartArgs(['--gateway-port', '4001'], { PORT: '4000', GATEWAY_PORT: '5001', STAGE: 'prod' });
    expect(args.cloud.ports).toEqual({ ...DEFAULT_PORTS, page: 4000, gateway: 4001 });
    expect(args.cloud.stage).toBe('prod');
    expect(() => parseStartArgs([], { COS_PORT: 'x' })).toThrow(/--cos-port must be a port number/);
  });

  it('documents the switches in --help', () => {
    expect(parseStartArgs(['--help']).help).toBe(true);
    expect(USAGE).toMatch(/--limits on\|off/);
    expect(USAGE).toMatch(/--rate-limit close\|throttle/);
  });

  it('npm start ends with the error and status 1 on a bad flag, before starting anything', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'local', 'start.ts'), '--limits', 'maybe'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr.trim()).toBe('npm start: --limits must be on or off, got "maybe" (see npm start -- --help)');
    expect(run.stdout).not.toContain('starting');
  });
});
