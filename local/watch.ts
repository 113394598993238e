/**
 * Watches the function sources and calls back (debounced) when they change.
 */
import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';

/**
 * Calls `onChange` once per burst of changes below `dir`, with the source files changed in it
 * (relative, `/`-separated, sorted); returns a function that stops watching.
 */
export function watchSources(dir: string, onChange: (files: string[]) => Promise<void>, { debounceMs = 150 } = {}): () => void {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let changed = new Set<string>();
  const fire = () => {
    // A change during a rebuild triggers one more rebuild afterwards, never two at once.
    if (running) {
      again = true;
      return;
    }
    const files = [...changed].sort();
    changed = new Set();
    running = onChange(files).finally(() => {
      running = undefined;
      if (again) {
        again = false;
        fire();
      }
    });
  };
  const watcher: FSWatcher = watch(dir, { recursive: true }, (_event, file) => {
    if (file && !/\.(ts|js|json)$/.test(String(file))) return;
    if (file) changed.add(String(file).split(path.sep).join('/'));
    clearTimeout(timer);
    timer = setTimeout(fire, debounceMs);
  });
  return () => {
    clearTimeout(timer);
    watcher.close();
  };
}
