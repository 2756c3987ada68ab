import { existsSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors/user-error.js';
import { dsbsDirectoryVariable } from './dsbs-datasets.js';

/**
 * The dsbs data folder: the `root` option resolved against the pipeline's folder, else the
 * `DISTILL_DSBS_DIR` environment variable. A {@link UserError} names both ways when neither is
 * given, and the path when it does not exist.
 *
 * @param plugin - `kind/id` of the plugin asking, for the error.
 */
export function resolveDsbsRoot(
  root: string | undefined,
  baseDirectory: string,
  environment: Readonly<Record<string, string | undefined>>,
  plugin: string,
): string {
  const given = root ?? environment[dsbsDirectoryVariable];
  if (given === undefined || given.trim() === '') {
    throw new UserError({
      message: 'no dsbs data folder given',
      plugin,
      fix: `set the option root (the folder holding anli1/, cqa/, esnli/, svamp/, e.g. ../shared/data/dsbs) or the environment variable ${dsbsDirectoryVariable}`,
    });
  }
  const resolved = path.resolve(baseDirectory, given);
  if (!existsSync(resolved)) {
    throw new UserError({
      message: `dsbs data folder not found: ${resolved}`,
      plugin,
      fix: `check root${root === undefined ? ` (taken from ${dsbsDirectoryVariable})` : ''}; relative paths resolve against the pipeline file's folder`,
    });
  }
  return resolved;
}
