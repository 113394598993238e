/**
 * One JSON line per log event, so the SCF console and the local runtime can both filter them.
 */
export type Level = 'debug' | 'info' | 'warn' | 'error';

const RANK: Record<Level | 'silent', number> = { debug: 0, info: 1, warn: 2, error: 3, silent: 4 };

/** Characters of a connection id kept in logs by default. */
export const LOGGED_ID_CHARS = 6;

/**
 * A connection id as logs show it: its first characters and `…`, unless `LOG_IDS=full`. The push
 * address takes any id without a signature, so a whole id in a log lets its readers push to or close
 * that connection; the prefix is enough to tell lines apart.
 */
export function logId(id: string, env: Record<string, string | undefined> = process.env): string {
  if (env.LOG_IDS === 'full' || id.length <= LOGGED_ID_CHARS) return id;
  return `${id.slice(0, LOGGED_ID_CHARS)}…`;
}

/**
 * Writes `{level, fn, msg, ...fields}` as one line, unless `LOG_LEVEL` (default info) is higher.
 * A string field named `id` is shortened with {@link logId}.
 */
export function log(level: Level, fn: string, msg: string, fields: Record<string, unknown> = {}): void {
  const threshold = RANK[(process.env.LOG_LEVEL as Level) ?? 'info'] ?? RANK.info;
  if (RANK[level] < threshold) return;
  const shown = typeof fields.id === 'string' ? { ...fields, id: logId(fields.id) } : fields;
  const line = JSON.stringify({ level, fn, msg, ...shown });
  if (level === 'error') console.error(line);
  else if (level === 'warn') console.warn(line);
  else console.log(line);
}
