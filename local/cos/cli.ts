/**
 * Runs the local COS server.
 *
 *   npx tsx local/cos/cli.ts [--port 4568] [--host 127.0.0.1] [--dir .data/cos]
 *                            [--credentials .data/credentials.json] [--bucket NAME]... [--quiet]
 *                            [--headers-timeout MS] [--request-timeout MS]
 *
 * Paths are relative to the current directory. The credentials file holds
 * `{"secretId": "...", "secretKey": "..."}`; when missing, random ones are generated there.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { describeError } from '../coded-error';
import { loadLocalCredentials } from '../credentials';
import { CosServer } from './server';

const USAGE = `Usage: npx tsx local/cos/cli.ts [options]

  --port N            port to listen on (default 4568; 0 picks a free one)
  --host ADDRESS      address to bind (default 127.0.0.1, loopback only)
  --dir PATH          folder holding the objects (default .data/cos)
  --credentials PATH  JSON {secretId, secretKey[, sessionToken]} (default .data/credentials.json;
                      generated with random values when missing)
  --bucket NAME       bucket to create at start, e.g. chat-dev-gz-1250000000 (repeatable)
  --quiet             do not log requests
  --headers-timeout MS  time a client has to send a request's headers (default 10000; 0 = none)
  --request-timeout MS  time a client has to send a whole request, body included (default 60000; 0 = none)
  --help              show this help`;

function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) throw new Error(`--port must be a number from 0 to 65535, got "${text}".`);
  return port;
}

function parseMs(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) throw new Error(`${flag} must be a whole number of milliseconds, got "${text}".`);
  return Number(text);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '4568' },
      host: { type: 'string', default: '127.0.0.1' },
      dir: { type: 'string', default: '.data/cos' },
      credentials: { type: 'string', default: '.data/credentials.json' },
      bucket: { type: 'string', multiple: true, default: [] },
      quiet: { type: 'boolean', default: false },
      'headers-timeout': { type: 'string' },
      'request-timeout': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }

  const directory = resolve(values.dir);
  const credentialsPath = resolve(values.credentials);
  const { credential, created } = await loadLocalCredentials(credentialsPath);
  const server = new CosServer({
    directory,
    host: values.host,
    port: parsePort(values.port),
    credentials: [credential],
    buckets: values.bucket,
    silent: values.quiet,
    timeouts: { headersMs: parseMs('--headers-timeout', values['headers-timeout']), requestMs: parseMs('--request-timeout', values['request-timeout']) },
  });
  await server.start();

  console.log(`Local COS listening on ${server.endpoint}`);
  console.log(`  Domain template: ${server.domain}`);
  console.log(`  Data folder:     ${directory}`);
  console.log(`  Buckets:         ${values.bucket.length > 0 ? values.bucket.join(', ') : '(none created at start)'}`);
  console.log(`  Credentials:     ${credentialsPath}${created ? ' (generated now)' : ''}`);
  console.log(`  SecretId:        ${credential.secretId}`);
  console.log('Press Ctrl-C to stop.');

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) {
      // a second Ctrl-C does not wait for connections to drain
      process.exit(130);
    }
    stopping = true;
    console.log(`\n${signal}: stopping...`);
    server.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

main().catch((err: unknown) => {
  console.error(`local COS: ${describeError(err)}`);
  if (err instanceof TypeError && (err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
    console.error(USAGE);
  }
  process.exit(1);
});
