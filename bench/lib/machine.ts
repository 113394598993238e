/**
 * What a benchmark's figures were measured on: the commit, the open-files limit, the load.
 */
import { execSync } from 'node:child_process';
import os from 'node:os';

/** The commit measured, and how many files under local/ and functions/ differ from it. */
export function codeVersion(): string {
  try {
    const commit = execSync('git rev-parse --short HEAD', { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
    const changed = execSync('git status --porcelain -- local functions', { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
    const count = changed === '' ? 0 : changed.split('\n').length;
    return count === 0 ? commit : `${commit} with ${count} files changed under local/ and functions/`;
  } catch {
    return 'unknown (not a git checkout)';
  }
}

/** `ulimit -n` of this shell. */
export function fdLimit(): string {
  try {
    return execSync('ulimit -n', { shell: '/bin/sh' }).toString().trim();
  } catch {
    return 'unknown';
  }
}

/** The one-minute load average: the machine may be shared, so figures are read beside it. */
export const load = (): number => os.loadavg()[0]!;

/** The three load averages, for a header or footer line. */
export const loads = (): string =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
