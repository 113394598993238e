/**
 * `npm run test:deployed -- --app NAME --stage S --region R [vitest options]`: the app's integration
 * suites, `test/integration/<app>.test.ts` and `test/integration/<app>-*.test.ts`, against the endpoint the last deploy of that stack wrote
 * to its outputs file. The suite gets it as `WS_URL` and `APP` (and `ADMISSION_SECRET` when the
 * stage requires admission and its secret variable is set), which the harness's
 * `openAppEndpoint` reads. Other arguments go to vitest, e.g. `-t 'binary'` for one test.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { selectionFrom } from '../config/select';
import { deployedApp, HarnessError } from '../test/harness/endpoint';
import { runMain } from './cloud/cdktf';
import { selectOne } from './cloud/prerequisites';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SELECTION_FLAGS = ['app', 'stage', 'region'];

/** Where an app's integration suite must be for this command to find it. */
function suitePath(app: string): string {
  return path.join('test', 'integration', `${app}.test.ts`);
}

/** The app's suite and its companions (`<app>-<part>.test.ts`, e.g. the chat's rooms). */
function suitesOf(app: string): string[] {
  const dir = path.join(ROOT, 'test', 'integration');
  const companions = readdirSync(dir)
    .filter((f) => f.startsWith(`${app}-`) && f.endsWith('.test.ts'))
    .sort()
    .map((f) => path.join('test', 'integration', f));
  return [suitePath(app), ...companions];
}

/** The arguments that are not the selection's flags: vitest's. */
function vitestArgs(argv: string[]): string[] {
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const flag = SELECTION_FLAGS.find((name) => argv[i] === `--${name}` || argv[i].startsWith(`--${name}=`));
    if (!flag) rest.push(argv[i]);
    else if (argv[i] === `--${flag}`) i++;
  }
  return rest;
}

runMain(() => {
  const argv = process.argv.slice(2);
  const target = selectOne(selectionFrom(argv));
  const suite = suitePath(target.app);
  if (!existsSync(path.join(ROOT, suite))) {
    console.error(
      `app ${target.app} has no integration suite: write ${suite} (on the harness in test/harness, reading the endpoint with openAppEndpoint) to test it with npm run test:deployed`,
    );
    return 1;
  }
  let url: string;
  let secret: string | undefined;
  try {
    ({ url, admissionSecret: secret } = deployedApp({ app: target.app, stage: target.stage, region: target.region }));
  } catch (err) {
    if (!(err instanceof HarnessError)) throw err;
    console.error(err.message);
    return 1;
  }
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    WS_URL: url,
    APP: target.app,
    // So that the suites know the deployed stack's mode.
    CHAT_MODE: target.settings.mode,
    ...(secret ? { ADMISSION_SECRET: secret } : {}),
  };
  console.log(`${target.app} suite against ${url}${secret ? ' (with admission)' : ''}`);
  const result = spawnSync(path.join(ROOT, 'node_modules', '.bin', 'vitest'), ['run', ...suitesOf(target.app), ...vitestArgs(argv)], {
    cwd: ROOT,
    stdio: 'inherit',
    env,
  });
  return result.status ?? 1;
});
