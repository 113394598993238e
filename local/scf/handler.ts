/**
 * The SCF handler string: `<file>.<export>`, where `<file>` is a path in the code package without
 * its `.js` suffix (`index.main_handler` runs `main_handler` exported by `index.js`).
 */
import { ScfError } from './errors';

export interface HandlerRef {
  /** Path of the file inside the code package, with its suffix: `index.js`, `src/app.js`. */
  file: string;
  /** Name of the exported function. */
  exportName: string;
}

const EXPORT_NAME = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/**
 * Splits a handler string at its last dot.
 * @throws ScfError `ERR_BAD_HANDLER` when either part is missing, or the file leaves the package.
 */
export function parseHandler(handler: string): HandlerRef {
  const dot = handler.lastIndexOf('.');
  const file = dot > 0 ? handler.slice(0, dot) : '';
  const exportName = dot > 0 ? handler.slice(dot + 1) : '';
  if (!file || !EXPORT_NAME.test(exportName)) {
    throw new ScfError('ERR_BAD_HANDLER', `handler "${handler}" is not <file>.<export>, e.g. index.main_handler`);
  }
  const segments = file.split('/');
  if (file.startsWith('/') || file.includes('\\') || segments.some((s) => s === '' || s === '.' || s === '..')) {
    throw new ScfError('ERR_BAD_HANDLER', `handler "${handler}" must name a file inside the code package`);
  }
  return { file: `${file}.js`, exportName };
}
