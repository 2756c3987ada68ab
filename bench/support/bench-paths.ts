import path from 'node:path';
import { packageRoot } from '../../core/package-root.js';
import { defaultVirtualenvPython, pythonEnvironmentVariable } from '../../core/python/python-interpreter.js';

/** The repository root; benches run from `dist/bench`, their Python programs stay in `bench/`. */
export const repositoryRoot = packageRoot;

/** A path under the source `bench/` folder (Python programs, results). */
export function benchPath(...segments: string[]): string {
  return path.join(repositoryRoot, 'bench', ...segments);
}

/** Where every bench writes its JSON result. */
export const resultsDirectory = benchPath('results');

/**
 * The real Distilling Step-by-Step data, read where it lies (`../shared/data/dsbs` beside the
 * checkout, or `$DISTILL_DSBS_DIR`); it is never copied into the project.
 */
export const dsbsDirectory = process.env.DISTILL_DSBS_DIR
  ? path.resolve(process.env.DISTILL_DSBS_DIR)
  : path.resolve(repositoryRoot, '..', 'shared', 'data', 'dsbs');

/** The Python that runs the trainer worker and the reference loop: `$DISTILL_PYTHON`, else the project virtualenv. */
export const pythonInterpreter = process.env[pythonEnvironmentVariable] ?? defaultVirtualenvPython;
