import { existsSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors/user-error.js';

/** A data folder a plugin reads: named by one of its options, else by an environment variable. */
export interface DataFolderRequest {
  /** The option's value, if the pipeline gave it. */
  readonly given: string | undefined;
  /** Name of the option, for the messages (e.g. `root`). */
  readonly option: string;
  /** Environment variable read when the option is not given. */
  readonly variable: string;
  /** What the folder is, for the messages (e.g. `data folder`). */
  readonly what: string;
  /** What the folder holds, for the fix when nothing names it (e.g. `the folder holding train.jsonl`). */
  readonly holds: string;
  /** `kind/id` of the plugin asking, for the error. */
  readonly plugin: string;
}

/**
 * Resolves a plugin's data folder: the option resolved against the pipeline's folder, else the
 * environment variable. A {@link UserError} names both ways when neither is given, and the path when
 * it does not exist, so a wrong data path is reported before any work.
 */
export function resolveDataFolder(
  request: DataFolderRequest,
  baseDirectory: string,
  environment: Readonly<Record<string, string | undefined>>,
): string {
  const given = request.given ?? environment[request.variable];
  if (given === undefined || given.trim() === '') {
    throw new UserError({
      message: `no ${request.what} given`,
      plugin: request.plugin,
      fix: `set the option ${request.option} (${request.holds}) or the environment variable ${request.variable}`,
    });
  }
  const resolved = path.resolve(baseDirectory, given);
  if (!existsSync(resolved)) {
    throw new UserError({
      message: `${request.what} not found: ${resolved}`,
      plugin: request.plugin,
      fix: `check ${request.option}${request.given === undefined ? ` (taken from ${request.variable})` : ''}; relative paths resolve against the pipeline file's folder`,
    });
  }
  return resolved;
}
