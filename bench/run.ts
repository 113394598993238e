/**
 * `npm run bench`: prints figures. Targets are judged by reading them, never asserted in tests.
 */
import { broadcastBench } from './broadcast';

await broadcastBench();
