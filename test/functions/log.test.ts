import { afterEach, describe, expect, it } from 'vitest';
import { log, logId } from '../../functions/lib/log';
import { captureLog } from './capture-log';

function emitAll(): void {
  log('debug', 'test', 'a debug line');
  log('info', 'test', 'an info line');
  log('warn', 'test', 'a warning');
  log('error', 'test', 'an error');
}

function levelsLoggedAt(logLevel: string | undefined): string[] {
  const logs = captureLog(logLevel);
  try {
    emitAll();
  } finally {
    logs.restore();
  }
  return logs.lines.map((l) => l.level);
}

describe('function logs', () => {
  afterEach(() => {
    delete process.env.LOG_IDS;
  });

  it('LOG_LEVEL drops the lines below it', () => {
    expect(levelsLoggedAt('warn')).toEqual(['warn', 'error']);
    expect(levelsLoggedAt('debug')).toEqual(['debug', 'info', 'warn', 'error']);
    expect(levelsLoggedAt('error')).toEqual(['error']);
    expect(levelsLoggedAt('silent')).toEqual([]);
  });

  it('logs info and above by default, and for a level it does not know', () => {
    expect(levelsLoggedAt(undefined)).toEqual(['info', 'warn', 'error']);
    expect(levelsLoggedAt('')).toEqual(['info', 'warn', 'error']);
    expect(levelsLoggedAt('verbose')).toEqual(['info', 'warn', 'error']);
  });

  it('writes one JSON line per event', () => {
    const logs = captureLog('debug');
    try {
      log('info', 'transport', 'broadcast', { delivered: 3 });
    } finally {
      logs.restore();
    }
    expect(logs.raw).toEqual(['{"level":"info","fn":"transport","msg":"broadcast","delivered":3}']);
  });

  it('shows the first 6 characters of a connection id, unless LOG_IDS=full', () => {
    const id = 'ab+/cd==ef+/gh==ij+/kl==mn+/op==';
    expect(logId(id)).toBe('ab+/cd…');
    expect(logId('short')).toBe('short');
    const logs = captureLog('info');
    try {
      log('info', 'register', 'connected', { id });
      process.env.LOG_IDS = 'full';
      log('info', 'register', 'connected', { id });
    } finally {
      logs.restore();
    }
    expect(logs.lines.map((l) => l.id)).toEqual(['ab+/cd…', id]);
  });
});
