import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import path from 'node:path';

/** SHA-256 of a file's bytes, streamed so large data files never sit in memory. */
export async function hashFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** `{absolute file: sha256}` for the files that exist: stage signatures and the lockfile's data hashes. */
export async function hashFiles(files: readonly string[]): Promise<Record<string, string>> {
  const hashes: Record<string, string> = {};
  for (const file of [...new Set(files.map((each) => path.resolve(each)))].sort()) {
    if (existsSync(file)) hashes[file] = await hashFile(file);
  }
  return hashes;
}
