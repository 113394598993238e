/**
 * Captures what the functions log (one JSON line per event on console.log/warn/error) while
 * `LOG_LEVEL` is set to the given level; `restore` puts both back.
 */
import { vi } from 'vitest';

export interface LogLine {
  level: string;
  fn: string;
  msg: string;
  [field: string]: unknown;
}

export function captureLog(logLevel: string | undefined): { lines: LogLine[]; raw: string[]; restore(): void } {
  const raw: string[] = [];
  const saved = process.env.LOG_LEVEL;
  if (logLevel === undefined) delete process.env.LOG_LEVEL;
  else process.env.LOG_LEVEL = logLevel;
  const spies = (['log', 'warn', 'error'] as const).map((method) =>
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      raw.push(args.map(String).join(' '));
    }),
  );
  return {
    raw,
    get lines() {
      return raw.map((line) => JSON.parse(line) as LogLine);
    },
    restore() {
      for (const spy of spies) spy.mockRestore();
      if (saved === undefined) delete process.env.LOG_LEVEL;
      else process.env.LOG_LEVEL = saved;
    },
  };
}
