/**
 * One JSON line per log event, so the SCF console and the local runtime can both filter them.
 */
export type Level = 'info' | 'warn' | 'error';

const RANK: Record<Level | 'silent', number> = { info: 0, warn: 1, error: 2, silent: 3 };

/** Writes `{level, fn, msg, ...fields}` as one line, unless `LOG_LEVEL` (default info) is higher. */
export function log(level: Level, fn: string, msg: string, fields: Record<string, unknown> = {}): void {
  const threshold = RANK[(process.env.LOG_LEVEL as Level) ?? 'info'] ?? 0;
  if (RANK[level] < threshold) return;
  const line = JSON.stringify({ level, fn, msg, ...fields });
  if (level === 'error') console.error(line);
  else if (level === 'warn') console.warn(line);
  else console.log(line);
}
