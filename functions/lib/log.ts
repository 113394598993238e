/**
 * One JSON line per log event, so the SCF console and the local runtime can both filter them.
 */
export type Level = 'info' | 'warn' | 'error';

/** Writes `{level, fn, msg, ...fields}` as one line. */
export function log(level: Level, fn: string, msg: string, fields: Record<string, unknown> = {}): void {
  const line = JSON.stringify({ level, fn, msg, ...fields });
  if (level === 'error') console.error(line);
  else if (level === 'warn') console.warn(line);
  else console.log(line);
}
