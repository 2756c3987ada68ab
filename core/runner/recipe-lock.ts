import { createHash } from 'node:crypto';
import { lstat } from 'node:fs/promises';
import path from 'node:path';
import type { LoadedPipeline } from '../config/load-pipeline.js';
import { pipelineLimits } from '../config/pipeline-limits.js';
import { readLimitedBytes } from '../config/read-limited-file.js';
import type { RecipeSource } from '../config/recipe-package.js';
import { displayPath } from '../config/source-map.js';
import type { Problem } from '../errors/problem.js';
import { UserError } from '../errors/user-error.js';
import { linkRefused, writeFileNoFollow } from '../files/no-follow-files.js';
import { runDirectoryOf } from './run-directory.js';

/**
 * The recipe provenance of a run: which files of installed recipe packages the pipeline inherited
 * (package, version, sha256 of the bytes), pinned in the run folder's `distill.lock.json` under
 * `recipes` with a copy of each file (its snapshot); the comparison of that list with what the
 * pipeline resolves to now, which guards stage reuse and `distill validate --locked`.
 */

/** One inherited recipe file, as the `recipes` list of `distill.lock.json` pins it. */
export interface LockedRecipe {
  /** The package's `name`. */
  readonly package: string;
  /** The package's `version`. */
  readonly version: string;
  /** The file's path inside the package, with `/` separators. */
  readonly recipe: string;
  /** Lower-case hex SHA-256 of the file's bytes. */
  readonly sha256: string;
  /** Where the run folder keeps a copy of the file (relative to the run folder): `recipes/<package>@<version>/<recipe>`. */
  readonly snapshot: string;
}

/** A recipe file read for the lockfile: its entry, and the bytes its hash and snapshot are of. */
export interface RecipeFile {
  readonly entry: LockedRecipe;
  readonly bytes: Buffer;
}

/** What changed in one inherited recipe file: the locked entry and the current one (null when absent on that side). */
export interface RecipeChange {
  readonly before: LockedRecipe | null;
  readonly after: LockedRecipe | null;
}

/** The lockfile's name in a run folder. */
export const lockfileName = 'distill.lock.json';

/**
 * A lockfile is a page of names and hashes (data files, stages, plugins); a bound far above any
 * real one, so that a huge file put in a run folder is refused rather than parsed.
 */
const maxLockfileBytes = 16 * 1024 * 1024;

/**
 * What a package's name may hold to name a snapshot folder: npm's characters, no separators, so that
 * the folder stays inside the run folder's `recipes/`.
 */
export const packageNamePattern = /^(@[A-Za-z0-9][A-Za-z0-9._~-]*\/)?[A-Za-z0-9][A-Za-z0-9._~-]*$/;
const versionPattern = /^[0-9A-Za-z][0-9A-Za-z.+-]*$/;
const sha256Pattern = /^[0-9a-f]{64}$/;

/** `recipes/<package>@<version>/<recipe>`, or null when a part could name a path outside that folder. */
export function snapshotPath(packageName: string, version: string, recipe: string): string | null {
  const segments = recipe.split('/');
  const safeRecipe = segments.every((segment) => segment !== '' && segment !== '.' && segment !== '..' && !/[\\\0]/.test(segment));
  if (!packageNamePattern.test(packageName) || !versionPattern.test(version) || !safeRecipe) return null;
  return `recipes/${packageName}@${version}/${recipe}`;
}

/**
 * Reads each recipe file of a resolved pipeline (bounded as a pipeline's files are) and makes its
 * lockfile entry: the hash and the snapshot are of the same bytes. A file gone since it was resolved,
 * or a package whose name or version cannot name a snapshot folder, is a {@link UserError}.
 */
export async function readRecipeFiles(sources: readonly RecipeSource[]): Promise<RecipeFile[]> {
  const files: RecipeFile[] = [];
  for (const source of sources) {
    const snapshot = snapshotPath(source.packageName, source.packageVersion, source.recipe);
    if (snapshot === null) {
      throw new UserError({
        file: displayPath(path.join(source.packageRoot, 'package.json')),
        message: `the recipe package's name ${JSON.stringify(source.packageName)} and version ${JSON.stringify(source.packageVersion)} cannot name the folder its recipes are copied to in the run folder`,
        fix: 'a recipe package needs an npm name (@scope/name) and a semantic version (1.2.0); reinstall or fix the package',
      });
    }
    let read;
    try {
      read = await readLimitedBytes(source.file, pipelineLimits.maxBytes);
    } catch (error) {
      throw new UserError({
        file: displayPath(source.file),
        message: `cannot read the recipe ${displayPath(source.file)}: ${(error as Error).message}`,
        fix: 'reinstall the package (`npm install`) and run again',
      });
    }
    if ('tooLarge' in read) {
      throw new UserError({
        file: displayPath(source.file),
        message: `the recipe ${displayPath(source.file)} is larger than ${pipelineLimits.maxBytes} bytes`,
        fix: 'a recipe is a page of settings: keep data in files it names by path',
      });
    }
    const sha256 = createHash('sha256').update(read.buffer).digest('hex');
    files.push({
      entry: { package: source.packageName, version: source.packageVersion, recipe: source.recipe, sha256, snapshot },
      bytes: read.buffer,
    });
  }
  return files;
}

/**
 * Copies each recipe file into the run folder at its entry's `snapshot`, with the run folder's
 * writers (never through a link, a whole file or nothing), so that the values a run used can be
 * shown after the package was upgraded.
 */
export function writeRecipeSnapshots(runDirectory: string, files: readonly RecipeFile[]): void {
  for (const file of files) writeFileNoFollow(path.join(runDirectory, ...file.entry.snapshot.split('/')), file.bytes);
}

/**
 * The entries that differ between the lockfile's list and the current one, paired by package and
 * file: a new version or new bytes, a file newly inherited, a file no longer inherited. Empty when
 * both lists pin the same files.
 */
export function recipeChanges(locked: readonly LockedRecipe[], current: readonly LockedRecipe[]): RecipeChange[] {
  const changes: RecipeChange[] = [];
  const unpaired = [...locked];
  for (const after of current) {
    const index = unpaired.findIndex((before) => before.package === after.package && before.recipe === after.recipe);
    const before = index >= 0 ? unpaired.splice(index, 1)[0]! : null;
    if (before === null || before.version !== after.version || before.sha256 !== after.sha256) changes.push({ before, after });
  }
  for (const before of unpaired) changes.push({ before, after: null });
  return changes;
}

/** One line for a change: `@acme/recipes recipes/nli.yaml 1.0.0 → 1.1.0`. */
export function describeRecipeChange({ before, after }: RecipeChange): string {
  const { package: name, recipe } = (after ?? before)!;
  if (!before) return `${name} ${recipe} ${after!.version}: newly inherited (the lockfile does not pin it)`;
  if (!after) return `${name} ${recipe} ${before.version}: no longer inherited`;
  const bytes = `sha256 ${before.sha256.slice(0, 12)}… → ${after.sha256.slice(0, 12)}…`;
  if (before.version === after.version) return `${name} ${recipe} ${before.version}: its content changed under the same version (${bytes})`;
  return `${name} ${recipe} ${before.version} → ${after.version}${before.sha256 === after.sha256 ? ' (same content)' : ''}`;
}

/** The shape problems of a lockfile's `recipes` value, each at its JSON pointer. */
function lockedRecipesProblems(value: unknown, file: string): Problem[] {
  if (!Array.isArray(value)) return [{ file, pointer: '/recipes', message: '"recipes" must be a list', fix: lockfileFix }];
  const problems: Problem[] = [];
  for (const [index, entry] of value.entries()) {
    const pointer = `/recipes/${index}`;
    const fields = entry as Partial<Record<keyof LockedRecipe, unknown>> | null;
    if (fields === null || typeof fields !== 'object' || Array.isArray(fields)) {
      problems.push({ file, pointer, message: 'a recipe entry must be an object', fix: lockfileFix });
      continue;
    }
    const { package: name, version, recipe, sha256, snapshot } = fields;
    for (const [key, text] of Object.entries({ package: name, version, recipe, sha256, snapshot })) {
      if (typeof text !== 'string')
        problems.push({ file, pointer: `${pointer}/${key}`, message: `"${key}" must be a string`, fix: lockfileFix });
    }
    if (typeof sha256 === 'string' && !sha256Pattern.test(sha256)) {
      problems.push({ file, pointer: `${pointer}/sha256`, message: '"sha256" must be 64 lower-case hex digits', fix: lockfileFix });
    }
    // The snapshot is read back by `distill diff`: only the one path the run writes is accepted.
    if ([name, version, recipe, snapshot].every((text) => typeof text === 'string')) {
      const expected = snapshotPath(name as string, version as string, recipe as string);
      if (snapshot !== expected) {
        const message =
          expected === null
            ? 'the entry names a package, version or file that cannot lie in the run folder'
            : `"snapshot" must be ${JSON.stringify(expected)}`;
        problems.push({ file, pointer: `${pointer}/snapshot`, message, fix: lockfileFix });
      }
    }
  }
  return problems;
}

const lockfileFix = 'the lockfile was not written by distill: delete it, and the next run writes a new one (stored stages stay)';

/**
 * The `recipes` a run folder's `distill.lock.json` pins, or null when the run folder has no
 * lockfile. The file is data: read without following a link, bounded in size, parsed as JSON and
 * checked entry by entry (each problem at its JSON pointer) — never executed. A lockfile written
 * before recipe packages existed has no `recipes`: it pinned none.
 */
export async function readLockedRecipes(runDirectory: string): Promise<LockedRecipe[] | null> {
  return readLockfileRecipes(path.join(runDirectory, lockfileName));
}

/** The `recipes` of a `distill.lock.json` anywhere (`distill diff --against <lockfile>`), as {@link readLockedRecipes} reads them; null when there is no such file. */
export async function readLockfileRecipes(file: string): Promise<LockedRecipe[] | null> {
  const shown = displayPath(file);
  try {
    if ((await lstat(file)).isSymbolicLink()) throw linkRefused(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const read = await readLimitedBytes(file, maxLockfileBytes);
  if ('tooLarge' in read)
    throw new UserError({ file: shown, message: `${shown} is larger than ${maxLockfileBytes} bytes`, fix: lockfileFix });
  let parsed: unknown;
  try {
    parsed = JSON.parse(read.buffer.toString('utf8'));
  } catch (error) {
    throw new UserError({ file: shown, message: `${shown} is not JSON: ${(error as Error).message}`, fix: lockfileFix });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new UserError({ file: shown, pointer: '', message: `${shown} must hold a JSON object`, fix: lockfileFix });
  }
  const recipes = (parsed as { recipes?: unknown }).recipes ?? [];
  const problems = lockedRecipesProblems(recipes, shown);
  if (problems.length > 0) throw new UserError(problems);
  return recipes as LockedRecipe[];
}

/**
 * Why a run may not reuse the stages of its run folder as it is: when the folder's lockfile pins
 * other recipe files than the pipeline inherits now (`current`: a package upgraded, its file edited),
 * the stored stages were made from other recipes, and reusing them silently would mix the two. One
 * problem per change; empty when nothing changed or the folder has no lockfile yet.
 */
export async function recipeChangeProblems(
  loaded: LoadedPipeline,
  runDirectory: string,
  current: readonly LockedRecipe[],
): Promise<Problem[]> {
  const locked = await readLockedRecipes(runDirectory);
  if (locked === null) return [];
  const file = displayPath(path.join(runDirectory, lockfileName));
  const pipeline = displayPath(loaded.file);
  return recipeChanges(locked, current).map((change) => ({
    file,
    message: `an inherited recipe changed since the run folder's last run: ${describeRecipeChange(change)}`,
    fix: `review it with \`distill diff ${pipeline}\`, then rerun with --accept-recipe-changes: the stages that do not depend on a changed value are reused`,
  }));
}

/**
 * The stage-reuse guard of `distill run`, `teach` and `train`: throws a {@link UserError} listing
 * each of the {@link recipeChangeProblems}, before any stage runs, unless `accept`: then the run goes
 * on and reuses every stage whose signature is unchanged (signatures follow the resolved values, so
 * only the stages that depend on a changed value run again).
 */
export async function assertRecipesUnchanged(
  loaded: LoadedPipeline,
  runDirectory: string,
  current: readonly LockedRecipe[],
  accept: boolean,
): Promise<void> {
  if (accept) return;
  const problems = await recipeChangeProblems(loaded, runDirectory, current);
  if (problems.length > 0) throw new UserError(problems);
}

/**
 * What `distill validate --locked` reports for a valid pipeline: each difference between the
 * recipe files it inherits now and those its run folder's lockfile pins, or that there is no
 * lockfile yet. Empty when they agree.
 */
export async function lockedRecipeProblems(loaded: LoadedPipeline): Promise<Problem[]> {
  const runDirectory = runDirectoryOf(loaded);
  const file = displayPath(path.join(runDirectory, lockfileName));
  const locked = await readLockedRecipes(runDirectory);
  if (locked === null) {
    return [
      {
        file: displayPath(loaded.file),
        message: `--locked: the run folder has no lockfile to check the recipes against (${file} does not exist)`,
        fix: `run it once (\`distill run ${displayPath(loaded.file)}\`), or drop --locked`,
      },
    ];
  }
  const current = (await readRecipeFiles(loaded.recipeSources)).map((recipeFile) => recipeFile.entry);
  return recipeChanges(locked, current).map((change) => ({
    file,
    message: `the resolved recipes differ from the lockfile: ${describeRecipeChange(change)}`,
    fix: change.before
      ? `install the locked version (\`npm install ${change.before.package}@${change.before.version}\`), or review the change with \`distill diff ${displayPath(loaded.file)}\` and run with --accept-recipe-changes to lock it`
      : `review it with \`distill diff ${displayPath(loaded.file)}\` and run with --accept-recipe-changes to lock it`,
  }));
}
