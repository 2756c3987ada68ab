import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { UserError } from '../errors/user-error.js';

/**
 * Fails with a {@link UserError} naming the file when it cannot be read, so a wrong data path is
 * reported before any work with what to do about it.
 *
 * @param what - what the file is, for the message (e.g. `data file of split "train"`).
 * @param fix - how to fix it; defaults to checking the path.
 */
export async function assertReadableFile(file: string, what: string, fix?: string): Promise<void> {
  try {
    await access(file);
  } catch {
    throw new UserError({
      message: `${what} not found: ${file}`,
      fix: fix ?? "check the path (relative paths resolve against the pipeline file's folder)",
    });
  }
}

/**
 * Streams the lines of a UTF-8 text file with their 1-based numbers, without loading the file
 * whole: data files run to tens of thousands of lines.
 */
export async function* readLines(file: string): AsyncGenerator<{ readonly text: string; readonly line: number }> {
  const input = createReadStream(file, { encoding: 'utf8' });
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let line = 0;
  try {
    for await (const text of lines) {
      line++;
      yield { text, line };
    }
  } finally {
    lines.close();
    input.destroy();
  }
}
