/**
 * Loads and validates the app configuration. A bad file is refused before anything is synthesized,
 * naming each field and why.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { z } from 'zod';
import { configSchema, type AppConfig } from './schema';

/** The default configuration file. */
export const DEFAULT_CONFIG_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'app.json');

/** Thrown for a configuration that cannot be used; `problems` lists `field: reason` lines. */
export class ConfigError extends Error {
  readonly code = 'ERR_CONFIG';
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`invalid configuration in ${file}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

function fieldPath(issuePath: PropertyKey[]): string {
  return (
    issuePath
      .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
      .join('')
      .replace(/^\./, '') || '(root)'
  );
}

/** Describes zod issues as `field: reason` lines. */
export function describeIssues(issues: z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') return `${fieldPath(issue.path)}: unknown field(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    // A record key (an app or stage name, a variable name) that fails its own rule: say the rule.
    if (issue.code === 'invalid_key') return `${fieldPath(issue.path)}: ${issue.issues.map((i) => i.message).join('; ')}`;
    return `${fieldPath(issue.path)}: ${issue.message}`;
  });
}

/** Validates an already-parsed configuration object. */
export function parseConfig(raw: unknown, file = '(inline)'): AppConfig {
  const result = configSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(file, describeIssues(result.error.issues));
  return result.data;
}

/** Reads and validates a configuration file. */
export function loadConfig(file = DEFAULT_CONFIG_FILE): AppConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [`cannot read the file: ${(err as Error).message}`]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(file, [`not valid JSON: ${(err as Error).message}`]);
  }
  return parseConfig(raw, file);
}
