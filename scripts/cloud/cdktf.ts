/**
 * Runs a cdktf command (`deploy`, `destroy`) on one stack, after the prerequisite checks, with the
 * stack selected for the app and the admission secret handed to Terraform.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { selectionFrom, type Target } from '../../config/select';
import { generateBindings } from '../gen-bindings';
import { checkPrerequisites, selectOne } from './prerequisites';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The stack chosen by --app/--stage/--region (or APP/STAGE/REGION), checked for everything a deploy needs. */
export function preparedTarget(): { target: Target; extraEnv: Record<string, string> } {
  const target = selectOne(selectionFrom());
  const extraEnv = checkPrerequisites(target);
  generateBindings();
  return { target, extraEnv };
}

/** Runs `cdktf <command> <stack> ...args`, output to the terminal; returns its exit code. */
export function runCdktf(command: string, target: Target, extraEnv: Record<string, string>, args: string[] = []): number {
  const result = spawnSync(path.join(ROOT, 'node_modules', '.bin', 'cdktf'), [command, target.name, '--auto-approve', ...args], {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, ...extraEnv, CHECKPOINT_DISABLE: '1', APP: target.app, STAGE: target.stage, REGION: target.region, CHAT_MODE: target.settings.mode },
  });
  return result.status ?? 1;
}

/** Runs a command's main, printing a thrown error's message and exiting with the returned code. */
export function runMain(main: () => number): void {
  try {
    process.exit(main());
  } catch (err) {
    console.error((err as Error).message);
    process.exit(1);
  }
}
