/**
 * `npm run bench`: prints figures. Targets are judged by reading them, never asserted in tests.
 * `npm run bench -- fanout connect` runs only those.
 */
import { broadcastBench } from './broadcast';
import { connectBench } from './connect';
import { echoBench } from './echo';
import { fanoutBench } from './fanout';
import { modesBench } from './modes';
import { roomsBench } from './rooms';
import { startupBench } from './startup';

const benches: Record<string, () => Promise<void>> = {
  broadcast: broadcastBench,
  fanout: fanoutBench,
  connect: connectBench,
  echo: echoBench,
  startup: startupBench,
  rooms: roomsBench,
  modes: modesBench,
};

const chosen = process.argv.slice(2).filter((a) => !a.startsWith('-'));
for (const name of chosen) if (!benches[name]) throw new Error(`unknown bench "${name}"; known: ${Object.keys(benches).join(', ')}`);
console.log(`node ${process.version}, ${(await import('node:os')).cpus().length} cores`);
for (const [name, run] of Object.entries(benches)) {
  if (chosen.length > 0 && !chosen.includes(name)) continue;
  await run();
  console.log('');
}
