import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import path from 'node:path';

/** SHA-256 of a file's bytes, streamed so large data files never sit in memory. */
export async function hashFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The deepest folder that holds every one of some absolute files. */
function commonFolder(files: readonly string[]): string {
  let common = path.dirname(files[0]!);
  for (const file of files) {
    while (path.relative(common, file).startsWith('..')) common = path.dirname(common);
  }
  return common;
}

/**
 * `{file: sha256}` for the files that exist: stage signatures and the lockfile's data hashes. Each
 * file is named relative to the deepest folder holding them all (`reviews/test.jsonl`), with `/`
 * separators: what the data is, not where it lies, so a project copied or moved with its data (or
 * data moved on its own) keeps its dataset stage.
 */
export async function hashFiles(files: readonly string[]): Promise<Record<string, string>> {
  const present = [...new Set(files.map((each) => path.resolve(each)))].filter((file) => existsSync(file)).sort();
  if (present.length === 0) return {};
  const folder = commonFolder(present);
  // The parent of the common folder too, so that a one-file dataset keeps its folder's name.
  const base = path.dirname(folder);
  const hashes: Record<string, string> = {};
  for (const file of present) hashes[path.relative(base, file).split(path.sep).join('/')] = await hashFile(file);
  return hashes;
}
