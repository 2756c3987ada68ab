import { existsSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'dotenv';
import { UserError } from '../errors/user-error.js';
import { displayPath } from './source-map.js';
import { readLimitedFile } from './read-limited-file.js';

/** Name of the file of environment variables read from the working directory. */
export const environmentFileName = '.env';

/** A `.env` file is a handful of keys and paths; anything larger is not one. */
const maxEnvironmentFileBytes = 64 * 1024;

/** What {@link loadEnvironmentFile} read. */
export interface LoadedEnvironmentFile {
  /** Absolute path of the file. */
  readonly file: string;
  /** Names of the variables it set (those already set in the environment are not among them). */
  readonly variables: readonly string[];
}

/**
 * Reads `.env` from a folder (the working directory) into the environment, never replacing a
 * variable that is already set, so the shell always wins. Only `KEY=value` lines are read (dotenv's
 * syntax); nothing in the file is executed. Returns null when there is no such file.
 */
export async function loadEnvironmentFile(
  directory: string = process.cwd(),
  environment: Record<string, string | undefined> = process.env,
): Promise<LoadedEnvironmentFile | null> {
  const file = path.resolve(directory, environmentFileName);
  if (!existsSync(file)) return null;
  let read;
  try {
    read = await readLimitedFile(file, maxEnvironmentFileBytes);
  } catch (error) {
    throw new UserError({
      file: displayPath(file),
      message: `cannot read ${environmentFileName}: ${(error as Error).message}`,
      fix: `make ${environmentFileName} a file of KEY=value lines, or remove it`,
    });
  }
  if ('tooLarge' in read) {
    throw new UserError({
      file: displayPath(file),
      message: `${environmentFileName} is larger than ${maxEnvironmentFileBytes / 1024} KiB`,
      fix: `keep only KEY=value lines in ${environmentFileName}`,
    });
  }
  const variables: string[] = [];
  for (const [name, value] of Object.entries(parse(read.text))) {
    if (environment[name] !== undefined) continue;
    environment[name] = value;
    variables.push(name);
  }
  return { file, variables };
}

/**
 * The lines that say, at the top of a run's resolved config, what came from outside the pipeline
 * files: each `--set` and the variables read from `.env` (names only; their values appear where the
 * pipeline uses them, secrets redacted).
 */
export function provenanceComment(overrides: readonly string[], environmentFile: LoadedEnvironmentFile | null | undefined): string {
  const lines = overrides.map((argument) => `# --set ${argument}`);
  if (environmentFile && environmentFile.variables.length > 0) {
    lines.push(`# from ${environmentFile.file}: ${environmentFile.variables.join(', ')}`);
  }
  return lines.map((line) => line.replaceAll('\n', ' ') + '\n').join('');
}
