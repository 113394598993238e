/**
 * Watches the function sources and calls back (debounced) when they change.
 */
import { watch, type FSWatcher } from 'node:fs';

/** Calls `onChange` once per burst of changes below `dir`; returns a function that stops watching. */
export function watchSources(dir: string, onChange: () => Promise<void>, { debounceMs = 150 } = {}): () => void {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  const fire = () => {
    // A change during a rebuild triggers one more rebuild afterwards, never two at once.
    if (running) {
      again = true;
      return;
    }
    running = onChange().finally(() => {
      running = undefined;
      if (again) {
        again = false;
        fire();
      }
    });
  };
  const watcher: FSWatcher = watch(dir, { recursive: true }, (_event, file) => {
    if (file && !/\.(ts|js|json)$/.test(String(file))) return;
    clearTimeout(timer);
    timer = setTimeout(fire, debounceMs);
  });
  return () => {
    clearTimeout(timer);
    watcher.close();
  };
}
