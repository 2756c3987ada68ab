import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Problem } from '../errors/problem.js';
import { UserError } from '../errors/user-error.js';
import { pipelineLimits } from './pipeline-limits.js';
import { readLimitedFile, unreadablePath } from './read-limited-file.js';
import type { PackageFolder } from './recipe-package.js';
import { displayPath } from './source-map.js';

/** One inherited recipe file as a run's `distill.lock.json` pins it (its `recipes` key, nearest first). */
export interface LockedRecipe {
  /** The package name (`@acme/recipes`). */
  readonly package: string;
  readonly version: string;
  /** The file's path inside the package, `/`-separated. */
  readonly recipe: string;
  /** Hex SHA-256 of the file's bytes. */
  readonly sha256: string;
  /** The run's copy of the file, relative to the run folder (`recipes/@acme/recipes@1.0.0/recipes/nli.yaml`). */
  readonly snapshot: string;
}

/** A run's lockfile and the recipes it pins. */
export interface LockedRecipes {
  /** The lockfile (absolute). */
  readonly lockfile: string;
  /** The run folder holding it; snapshots are relative to it. */
  readonly runDirectory: string;
  readonly recipes: readonly LockedRecipe[];
}

// A lockfile lists plugins, data files and stage signatures: kilobytes. A larger one is not a lockfile.
const maxLockfileBytes = 4 * 1024 * 1024;
/** npm's rules for a package name: optional `@scope/`, then lower-case letters, digits, `-`, `.`, `_`, `~`. */
export const npmPackageName = /^(?:@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/;
const versionText = /^[0-9A-Za-z][0-9A-Za-z.+-]*$/;
const sha256Text = /^[0-9a-f]{64}$/;

/** Whether a `/`-separated path stays inside the folder it is relative to. */
function isInsidePath(text: string): boolean {
  return (
    text !== '' &&
    !text.startsWith('/') &&
    !text.includes('\\') &&
    !text.split('/').some((part) => part === '..' || part === '' || part === '.')
  );
}

/** What is wrong with one entry of `recipes`, or undefined when it has the pinned shape. */
function entryProblem(entry: unknown): string | undefined {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return 'is not an object';
  const fields = entry as Record<string, unknown>;
  for (const key of ['package', 'version', 'recipe', 'sha256', 'snapshot']) {
    if (typeof fields[key] !== 'string') return `has no string "${key}"`;
  }
  const { package: name, version, recipe, sha256, snapshot } = fields as unknown as LockedRecipe;
  if (!npmPackageName.test(name)) return `names no npm package: ${JSON.stringify(name)}`;
  if (!versionText.test(version)) return `has no usable version: ${JSON.stringify(version)}`;
  if (!isInsidePath(recipe)) return `has a recipe path that leaves its package: ${JSON.stringify(recipe)}`;
  if (!sha256Text.test(sha256)) return 'has a sha256 that is not 64 lower-case hex digits';
  if (!isInsidePath(snapshot) || !snapshot.endsWith(`/${recipe}`)) {
    return `has a snapshot path that is not a copy of ${recipe} inside the run folder: ${JSON.stringify(snapshot)}`;
  }
  return undefined;
}

/**
 * Reads the `recipes` a run's `distill.lock.json` pins: size-bounded, JSON only, every entry checked
 * for the shape the runner writes (names, versions, paths that stay inside the package and the run
 * folder). A missing or unreadable lockfile, one without `recipes` (written before recipe packages)
 * or a malformed entry is a {@link UserError} naming the file and the JSON pointer.
 */
export async function readLockedRecipes(lockfile: string): Promise<LockedRecipes> {
  const shown = displayPath(lockfile);
  const fail = (message: string, fix: string, pointer?: string): never => {
    throw new UserError({ file: shown, ...(pointer === undefined ? {} : { pointer }), message, fix });
  };
  const unreadable = await unreadablePath(lockfile);
  if (unreadable) {
    fail(
      unreadable.missing ? `no lockfile at ${shown}` : `cannot read the lockfile ${shown}: ${unreadable.reason}`,
      'run the pipeline once to write its lockfile, or name another with --against <distill.lock.json | run folder | version>',
    );
  }
  const read = await readLimitedFile(lockfile, maxLockfileBytes);
  if ('tooLarge' in read)
    return fail(`${shown} is larger than ${maxLockfileBytes} bytes: not a distill lockfile`, 'name the distill.lock.json of a run');
  let parsed: unknown;
  try {
    parsed = JSON.parse(read.text);
  } catch (error) {
    return fail(`${shown} is not JSON: ${(error as Error).message}`, 'name the distill.lock.json of a run');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    return fail(`${shown} is not a distill lockfile (not an object)`, 'name the distill.lock.json of a run');
  const recipes = (parsed as { recipes?: unknown }).recipes;
  if (recipes === undefined) {
    return fail(
      `${shown} records no recipes: it was written by a distill without recipe packages`,
      'run the pipeline once with this distill to record the recipes it inherits',
      '/recipes',
    );
  }
  if (!Array.isArray(recipes)) return fail(`"recipes" in ${shown} is not a list`, 'name the distill.lock.json of a run', '/recipes');
  const problems: Problem[] = [];
  recipes.forEach((entry, index) => {
    const problem = entryProblem(entry);
    if (problem)
      problems.push({
        file: shown,
        pointer: `/recipes/${index}`,
        message: `the locked recipe ${problem}`,
        fix: 'the lockfile was edited; run the pipeline again to rewrite it',
      });
  });
  if (problems.length > 0) throw new UserError(problems);
  return { lockfile, runDirectory: path.dirname(lockfile), recipes: recipes as LockedRecipe[] };
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
    const size = (await stat(file)).size;
    const sha256 =
      size <= pipelineLimits.maxBytes
        ? createHash('sha256')
            .update(await readFile(file))
            .digest('hex')
        : undefined;
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
