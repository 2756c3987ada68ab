import { existsSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../../core/package-root.js';

/** The repository root (tests run from `dist/test`, fixtures stay in `test/`). */
export const repositoryRoot = packageRoot;

/** A path under the source `test/` folder, where fixtures live. */
export function testPath(...segments: string[]): string {
  return path.join(repositoryRoot, 'test', ...segments);
}

/** `../shared/data/dsbs` beside the checkout, where the real data lives. */
export const dsbsDirectory = path.resolve(repositoryRoot, '..', 'shared', 'data', 'dsbs');

/**
 * The reason to skip a test that needs the real data, or false when it is there. Tests pass this to
 * `test(name, { skip: sharedDataMissing() }, …)` so the skip message says what is missing.
 */
export function sharedDataMissing(): string | false {
  return existsSync(dsbsDirectory) ? false : `../shared/data/dsbs not found at ${dsbsDirectory}; real-data tests skipped`;
}
