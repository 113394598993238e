/**
 * Lines a suite reports to its reader whether or not its tests pass (e.g. reordering seen on a
 * deployed endpoint, or a scenario it could not exercise).
 *
 * vitest.config.ts has `silent: 'passed-only'`, which hides `console.*` of passing tests; these
 * lines go to the process's stdout directly, which vitest passes through in every case.
 */
export function report(suite: string, line: string): void {
  process.stdout.write(`[${suite}] ${line.replace(/\n/g, `\n[${suite}]   `)}\n`);
}
