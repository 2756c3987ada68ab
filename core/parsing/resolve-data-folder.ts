import { existsSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors/user-error.js';
import type { RequiredPath, RequirementContext } from '../plugins/plugin-requirements.js';

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
 * Where a data folder is, or null when neither the option nor the variable names it. The option
 * resolves against the pipeline's folder (it is written in the pipeline); the variable against the
 * working directory (it is typed in a shell, where `DATA_DIR=data/mine` means the folder
 * beside the user).
 */
export function dataFolderPath(
  request: DataFolderRequest,
  baseDirectory: string,
  environment: Readonly<Record<string, string | undefined>>,
  workingDirectory: string = process.cwd(),
): string | null {
  if (request.given !== undefined) return request.given.trim() === '' ? null : path.resolve(baseDirectory, request.given);
  const fromVariable = environment[request.variable];
  return fromVariable === undefined || fromVariable.trim() === '' ? null : path.resolve(workingDirectory, fromVariable);
}

/** How to name a data folder: the variable (in the shell or `.env`) or the option. */
function dataFolderFix(request: DataFolderRequest): string {
  return (
    `set ${request.variable} to ${request.holds}: export ${request.variable}=/path/to/it, or put ${request.variable}=/path/to/it ` +
    `in a .env file (a relative path resolves against the working directory); or set the option ${request.option} (relative to the pipeline file)`
  );
}

/** A data folder as a plugin's requirement (see `PluginDescriptor.requirements`), checked before a run. */
export function dataFolderRequirement(request: DataFolderRequest, context: RequirementContext, inside = ''): RequiredPath {
  const folder = dataFolderPath(request, context.baseDirectory, context.environment, context.workingDirectory);
  return {
    what: request.what,
    path: folder === null ? null : path.join(folder, inside),
    option: request.option,
    fix: dataFolderFix(request),
  };
}

/**
 * Resolves a plugin's data folder (see {@link dataFolderPath}). A {@link UserError} names both ways
 * when neither is given, and the path when it does not exist, so a wrong data path is reported before
 * any work.
 */
export function resolveDataFolder(
  request: DataFolderRequest,
  baseDirectory: string,
  environment: Readonly<Record<string, string | undefined>>,
): string {
  const resolved = dataFolderPath(request, baseDirectory, environment);
  if (resolved === null) {
    throw new UserError({ message: `no ${request.what} given`, plugin: request.plugin, fix: dataFolderFix(request) });
  }
  if (!existsSync(resolved)) {
    throw new UserError({
      message: `${request.what} not found: ${resolved}`,
      plugin: request.plugin,
      fix:
        request.given === undefined
          ? `${request.variable} names it: ${dataFolderFix(request)}`
          : `check the option ${request.option}; a path in the pipeline resolves against the pipeline file's folder`,
    });
  }
  return resolved;
}
