import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { pipelineLimits } from '../config/pipeline-limits.js';
import { readLimitedBytes, unreadablePath } from '../config/read-limited-file.js';
import type { PackageFolder } from '../config/recipe-package.js';
import { displayPath } from '../config/source-map.js';
import type { Problem } from '../errors/problem.js';
import { UserError } from '../errors/user-error.js';
import type { LockedRecipe } from './recipe-lock.js';

/** A lockfile's pinned recipes, with where the lockfile is: its snapshots are relative to its folder. */
export interface LockedRecipes {
  /** The lockfile (absolute). */
  readonly lockfile: string;
  /** The run folder holding it. */
  readonly runDirectory: string;
  readonly recipes: readonly LockedRecipe[];
}

/**
 * The folder of each package's snapshot in a run (`<run>/recipes/<package>@<version>/`), by package
 * name, after checking that every snapshot the lockfile lists is there, unchanged (its SHA-256), and
 * that each package has one version. What is missing or altered is a {@link UserError}: the old side
 * of a diff cannot be rebuilt from it.
 */
export async function lockedSnapshotFolders(locked: LockedRecipes): Promise<Map<string, PackageFolder>> {
  const folders = new Map<string, PackageFolder>();
  const problems: Problem[] = [];
  const shown = displayPath(locked.lockfile);
  for (const [index, entry] of locked.recipes.entries()) {
    const where = { file: shown, pointer: `/recipes/${index}` };
    const file = path.join(locked.runDirectory, ...entry.snapshot.split('/'));
    const folder = file.slice(0, file.length - entry.recipe.length - 1);
    const known = folders.get(entry.package);
    if (known && (known.version !== entry.version || known.folder !== folder)) {
      problems.push({
        ...where,
        message: `the lockfile pins ${entry.package} at both ${known.version} and ${entry.version}`,
        fix: 'run the pipeline again to rewrite the lockfile',
      });
      continue;
    }
    folders.set(entry.package, { folder, version: entry.version });
    const unreadable = await unreadablePath(file);
    if (unreadable) {
      problems.push({
        ...where,
        message: `the snapshot of ${entry.package}@${entry.version}/${entry.recipe} is ${unreadable.missing ? 'missing' : 'unreadable'}: ${displayPath(file)}`,
        fix: 'the run folder was pruned or moved without it; compare with another run (--against <run folder>) or run the pipeline again',
      });
      continue;
    }
    // The lockfile hashes the file's bytes; a recipe is small (the bound every pipeline file has).
    const read = await readLimitedBytes(file, pipelineLimits.maxBytes);
    const sha256 = 'tooLarge' in read ? undefined : createHash('sha256').update(read.buffer).digest('hex');
    if (sha256 !== entry.sha256) {
      problems.push({
        ...where,
        message: `the snapshot ${displayPath(file)} is not the file the run used: its SHA-256 differs from the lockfile's`,
        fix: 'it was edited after the run; restore it or compare with another run',
      });
    }
  }
  if (problems.length > 0) throw new UserError(problems);
  return folders;
}

/**
 * The snapshots a run folder holds (`<package>@<version>` under `<run>/recipes/`), for messages that
 * list what `--against <version>` can name. Bounded: a run folder holds a handful.
 */
export async function availableSnapshots(runDirectory: string): Promise<string[]> {
  const root = path.join(runDirectory, 'recipes');
  const found: string[] = [];
  const list = async (folder: string): Promise<string[]> => {
    try {
      return (await readdir(folder, { withFileTypes: true }))
        .filter((entry) => entry.isDirectory())
        .map((entry) => entry.name)
        .slice(0, 1000);
    } catch {
      return [];
    }
  };
  for (const name of await list(root)) {
    if (name.startsWith('@')) for (const inner of await list(path.join(root, name))) found.push(`${name}/${inner}`);
    else found.push(name);
  }
  return found.filter((name) => /.@[^@/]+$/.test(name)).sort();
}
