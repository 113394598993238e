/**
 * (d) Time from `npm start` to ready: cold (a fresh data folder, fresh build output and no provider
 * bindings) and warm (the same again).
 */
import { existsSync, renameSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLocalCloud } from './lib/servers';
import { ms } from './lib/stats';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export async function startupBench(): Promise<void> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'bench-start-'));
  // Cold: the bindings and bundles are moved aside (and put back), the data folder is empty.
  const gen = path.join(ROOT, '.gen');
  const aside = path.join(ROOT, `.gen-bench-${process.pid}`);
  const hadGen = existsSync(gen);
  if (hadGen) renameSync(gen, aside);
  rmSync(path.join(ROOT, 'dist', 'functions'), { recursive: true, force: true });
  let cold: number;
  try {
    const first = await startLocalCloud({ dataDir });
    cold = first.readyMs;
    await first.stop();
  } finally {
    if (hadGen) {
      rmSync(gen, { recursive: true, force: true });
      renameSync(aside, gen);
    }
  }
  const warmRuns: number[] = [];
  for (let i = 0; i < 3; i++) {
    const again = await startLocalCloud({ dataDir });
    warmRuns.push(again.readyMs);
    await again.stop();
  }
  await rm(dataDir, { recursive: true, force: true });
  const warm = [...warmRuns].sort((a, b) => a - b)[1];
  console.log('(d) npm start to ready (process spawn to the printed URLs)');
  console.log(`    cold ${ms(cold)}   warm ${ms(warm)} (median of ${warmRuns.map((r) => r.toFixed(0)).join(', ')} ms)`);
  console.log('    target: warm <= 5 s');
}

if (process.argv[1]?.endsWith('startup.ts')) await startupBench();
