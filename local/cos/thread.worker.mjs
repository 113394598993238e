// Entry of the COS store's worker thread: loads the TypeScript sources through tsx, then runs them.
import { register } from 'tsx/esm/api';

register();
await import('./thread-main.ts');
