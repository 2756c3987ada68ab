import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, linkSync, lstatSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';

/**
 * The run folder's stable name for the model of its current export: `<run folder>/model`. It is a
 * folder whose files are hard links to the export stage's `model/` (copies where the file system
 * has no hard links), not a symbolic link: distill refuses symbolic links in a run folder (so that
 * nobody can plant one to make it write elsewhere), every loader reads a plain folder, and a copied
 * or moved project (`cp -r` resolves or breaks relative symbolic links) keeps a folder that works.
 * The links take no space of their own.
 */
export const currentModelFolder = 'model';

/** Prefix of the folders a swap of `model/` builds and retires; left over only by a kill during one. */
const swapPrefix = '.model-swap-';

/** Every file under a folder, relative to it, sorted. */
function filesUnder(directory: string): string[] {
  const files: string[] = [];
  const walk = (relative: string) => {
    for (const entry of readdirSync(path.join(directory, relative), { withFileTypes: true })) {
      const child = path.join(relative, entry.name);
      if (entry.isDirectory()) walk(child);
      else if (entry.isFile()) files.push(child);
    }
  };
  walk('');
  return files.sort();
}

/** Whether `mirror` already holds exactly the files of `source`, as hard links to them. */
function linksTo(mirror: string, source: string): boolean {
  if (!existsSync(mirror) || !lstatSync(mirror).isDirectory()) return false;
  const expected = filesUnder(source);
  const present = filesUnder(mirror);
  if (expected.join('\n') !== present.join('\n')) return false;
  return expected.every((file) => {
    const [linked, original] = [lstatSync(path.join(mirror, file)), lstatSync(path.join(source, file))];
    return linked.ino === original.ino && linked.dev === original.dev;
  });
}

/**
 * Points `<run folder>/model` at an exported model folder: builds the new folder of links beside it,
 * then swaps it in with two renames, so that a reader sees the old model or the new one, and a kill
 * leaves at worst a `.model-swap-*` folder that the next call removes. Returns the folder's path.
 */
export function linkCurrentModel(runDirectory: string, exportedDirectory: string): string {
  const current = path.join(runDirectory, currentModelFolder);
  for (const entry of readdirSync(runDirectory)) {
    if (entry.startsWith(swapPrefix)) rmSync(path.join(runDirectory, entry), { recursive: true, force: true });
  }
  if (linksTo(current, exportedDirectory)) return current;
  const staged = path.join(runDirectory, `${swapPrefix}${randomBytes(4).toString('hex')}`);
  mkdirSync(staged);
  for (const file of filesUnder(exportedDirectory)) {
    const target = path.join(staged, file);
    mkdirSync(path.dirname(target), { recursive: true });
    try {
      linkSync(path.join(exportedDirectory, file), target);
    } catch {
      // A file system without hard links (or a run folder across two of them): a copy does the same job.
      copyFileSync(path.join(exportedDirectory, file), target);
    }
  }
  if (existsSync(current)) {
    const retired = path.join(runDirectory, `${swapPrefix}${randomBytes(4).toString('hex')}`);
    renameSync(current, retired);
    renameSync(staged, current);
    rmSync(retired, { recursive: true, force: true });
  } else {
    renameSync(staged, current);
  }
  return current;
}
