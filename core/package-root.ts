import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The folder holding distill's own package.json, found by walking up from this module, so that the
 * same code finds `schemas/` and `pipelines/` whether it runs from `dist/` or an installed package.
 */
export const packageRoot: string = (() => {
  let directory = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(directory, 'package.json')) || path.basename(directory) === 'dist') {
    const parent = path.dirname(directory);
    if (parent === directory) throw new Error('distill: cannot find its package.json');
    directory = parent;
  }
  return directory;
})();

/** A path inside the package, e.g. `packagePath('schemas', 'pipeline.schema.json')`. */
export function packagePath(...segments: string[]): string {
  return path.join(packageRoot, ...segments);
}
