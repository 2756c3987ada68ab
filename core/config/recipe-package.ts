import { existsSync, readdirSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { readLimitedFile, unreadablePath } from './read-limited-file.js';
import { displayPath } from './source-map.js';

/** A recipe file inherited from an installed npm package, as the lockfile pins it. */
export interface RecipeSource {
  /** The recipe file (absolute). */
  readonly file: string;
  /** The package's `name` and `version`, from its `package.json`. */
  readonly packageName: string;
  readonly packageVersion: string;
  /** The package's folder (absolute): files it extends inside this folder are the package's too. */
  readonly packageRoot: string;
  /** The file's path inside the package, with `/` separators. */
  readonly recipe: string;
}

/** A recipe a package declares in the `distill.recipes` field of its `package.json`. */
export interface DeclaredRecipe {
  readonly name: string;
  /** The YAML file, relative to the package root. */
  readonly file: string;
  readonly description?: string;
}

/**
 * A package read from a folder instead of its installed copy: a run folder's snapshot of the version
 * it ran with (`<run folder>/recipes/<name>@<version>/`, recipe files at their paths inside the package).
 */
export interface PackageFolder {
  readonly folder: string;
  /** The version the folder holds (a snapshot has no `package.json` to say it). */
  readonly version: string;
}

/** Options of {@link resolveRecipeSpecifier} (and of `resolveExtends`, which passes them on). */
export interface RecipeResolverOptions {
  /**
   * Packages, by name, whose recipes are read from a folder instead of `node_modules`: `distill diff`
   * rebuilds the configuration a run had from the run's snapshots this way.
   */
  readonly packageFolders?: ReadonlyMap<string, PackageFolder>;
}

/** What an `extends` package specifier resolved to, or what is wrong with it. */
export type RecipeResolution =
  { readonly file: string; readonly source: RecipeSource } | { readonly problem: { message: string; fix: string } };

/**
 * The source of `file` when it lies inside the package `from` came from (a recipe extending a file
 * of its own package by a relative path), else undefined: that file is pinned with the package too.
 */
export function samePackageSource(from: RecipeSource | undefined, file: string): RecipeSource | undefined {
  if (!from) return undefined;
  const inside = path.relative(from.packageRoot, file);
  if (inside === '' || inside === '..' || inside.startsWith(`..${path.sep}`) || path.isAbsolute(inside)) return undefined;
  return { ...from, file, recipe: inside.split(path.sep).join('/') };
}

/** A package's `package.json` is read with this bound: recipe packages are small, and a huge one is not one. */
const maxManifestBytes = 1024 * 1024;

// npm's rules for a name: optional @scope/, then lower-case letters, digits, '-', '.', '_', '~'.
const packageSpecifier = /^(@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*(\/.*)?$/;

/** Whether `text` is a valid npm package name (`acme-recipes`, `@acme/distill-recipes`). */
export function isPackageName(text: string): boolean {
  const match = packageSpecifier.exec(text);
  return match !== null && match[2] === undefined && text.length <= 214;
}

/**
 * Whether `extends` text names a recipe in a package (`@acme/distill-recipes/nli.yaml`,
 * `acme-recipes/nli`) rather than a file: a bare specifier as Node reads one, with a path inside the
 * package. A relative or absolute path is a file.
 */
export function isPackageSpecifier(text: string): boolean {
  if (text.startsWith('.') || path.isAbsolute(text) || text.includes('\\')) return false;
  const match = packageSpecifier.exec(text);
  return match !== null && match[2] !== undefined && match[2].length > 1;
}

/** The package name and the path inside it of a specifier that {@link isPackageSpecifier} accepts. */
function splitSpecifier(specifier: string): { name: string; subpath: string } {
  const parts = specifier.split('/');
  const nameParts = specifier.startsWith('@') ? 2 : 1;
  return { name: parts.slice(0, nameParts).join('/'), subpath: parts.slice(nameParts).join('/') };
}

/**
 * The root folder of an installed package, found as Node finds it: `node_modules/<name>` in the
 * folder of `fromFile` or the nearest one above it that has it. Never runs the package's code.
 */
function packageRoot(fromFile: string, name: string): string | null {
  let directory = path.dirname(fromFile);
  for (;;) {
    const candidate = path.join(directory, 'node_modules', ...name.split('/'));
    if (existsSync(path.join(candidate, 'package.json'))) return candidate;
    const parent = path.dirname(directory);
    if (parent === directory) return null;
    directory = parent;
  }
}

/** The parts of a recipe package's `package.json` that matter here. */
export interface RecipeManifest {
  readonly name: string;
  readonly version: string;
  readonly recipes: readonly DeclaredRecipe[];
}

/**
 * Reads the `package.json` of the package at `root` (size-bounded, data only: never the package's
 * code); a message when it is not usable. Entries of `distill.recipes` without a string `file` are
 * left out.
 */
export async function readManifest(root: string): Promise<RecipeManifest | string> {
  const file = path.join(root, 'package.json');
  let read;
  try {
    read = await readLimitedFile(file, maxManifestBytes);
  } catch (error) {
    return `${displayPath(file)}: ${(error as Error).message}`;
  }
  if ('tooLarge' in read) return `${displayPath(file)} is larger than ${maxManifestBytes} bytes`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(read.text);
  } catch (error) {
    return `${displayPath(file)} is not JSON: ${(error as Error).message}`;
  }
  const manifest = parsed as { name?: unknown; version?: unknown; distill?: { recipes?: unknown } };
  if (typeof manifest.name !== 'string' || typeof manifest.version !== 'string') return `${displayPath(file)} has no name and version`;
  const declared = manifest.distill?.recipes;
  const recipes: DeclaredRecipe[] = [];
  if (declared !== null && typeof declared === 'object' && !Array.isArray(declared)) {
    for (const [name, entry] of Object.entries(declared as Record<string, unknown>)) {
      const value = entry as { file?: unknown; description?: unknown } | null;
      if (value === null || typeof value !== 'object' || typeof value.file !== 'string') continue;
      recipes.push({ name, file: value.file, ...(typeof value.description === 'string' ? { description: value.description } : {}) });
    }
  }
  return { name: manifest.name, version: manifest.version, recipes };
}

/** The recipes a package offers: those it declares, else the YAML files at its root. */
function offeredRecipes(root: string, manifest: RecipeManifest): string[] {
  if (manifest.recipes.length > 0) return manifest.recipes.map((recipe) => `${recipe.name} (${recipe.file})`);
  return readdirSync(root, { withFileTypes: true })
    .filter((entry) => entry.isFile() && /\.ya?ml$/.test(entry.name))
    .map((entry) => entry.name)
    .sort();
}

/**
 * Resolves `extends: <package>/<recipe>` from the file that names it: the installed package (see
 * {@link packageRoot}), then the recipe inside it — a file path (`nli.yaml`, `recipes/nli.yaml`) or
 * the name of a recipe its `package.json` declares (`distill.recipes`). A package that is not
 * installed, a recipe it does not hold, or a path that leaves the package is a problem with a fix.
 * A package named in `options.packageFolders` is read from that folder instead.
 */
export async function resolveRecipeSpecifier(
  fromFile: string,
  specifier: string,
  options: RecipeResolverOptions = {},
): Promise<RecipeResolution> {
  const { name, subpath } = splitSpecifier(specifier);
  const snapshot = options.packageFolders?.get(name);
  if (snapshot) return resolveInFolder(fromFile, name, subpath, snapshot);
  const root = packageRoot(fromFile, name);
  if (!root) {
    return {
      problem: {
        message: `extends names the package ${name}, which is not installed where ${displayPath(fromFile)} can find it (no node_modules/${name} in its folder or above)`,
        fix: `install it (\`npm install ${name}\`), or write a relative path (./${specifier}) for a file of this project`,
      },
    };
  }
  const manifest = await readManifest(root);
  if (typeof manifest === 'string') {
    return { problem: { message: `the package ${name} cannot be read: ${manifest}`, fix: 'reinstall the package (`npm install`)' } };
  }
  const declared = manifest.recipes.find((recipe) => recipe.name === subpath);
  const file = path.resolve(root, path.normalize(declared ? declared.file : subpath));
  const recipeList = offeredRecipes(root, manifest);
  const recipesFix =
    recipeList.length > 0
      ? `name one of its recipes: ${recipeList.join(', ')}`
      : 'the package offers no recipes (no distill.recipes in its package.json, no YAML file at its root)';
  // Through a symbolic link too: what a package offers is what lies inside it.
  const inside = await insidePackage(root, file);
  if (inside === null) {
    return {
      problem: declared
        ? {
            message: `the package ${name}@${manifest.version} declares the recipe ${JSON.stringify(subpath)} at ${JSON.stringify(declared.file)}, outside the package`,
            fix: 'the package is broken (a recipe file must lie inside it): tell its authors, or extend another of its recipes',
          }
        : {
            message: `extends ${JSON.stringify(specifier)} leaves the package ${name}: a recipe is a file inside its package`,
            fix: recipesFix,
          },
    };
  }
  if (inside === undefined || (await unreadablePath(file))) {
    return { problem: { message: `the package ${name}@${manifest.version} has no recipe ${JSON.stringify(subpath)}`, fix: recipesFix } };
  }
  return {
    file,
    source: { file, packageName: manifest.name, packageVersion: manifest.version, packageRoot: root, recipe: inside },
  };
}

/**
 * Resolves a recipe of a package that {@link RecipeResolverOptions.packageFolders} reads from a folder.
 * A snapshot holds recipe files only, so a declared recipe name is looked up in the installed
 * package's `package.json` when there is one; the file itself must be in the folder.
 */
async function resolveInFolder(fromFile: string, name: string, subpath: string, snapshot: PackageFolder): Promise<RecipeResolution> {
  const installed = packageRoot(fromFile, name);
  const manifest = installed ? await readManifest(installed) : undefined;
  const declared = typeof manifest === 'object' ? manifest.recipes.find((recipe) => recipe.name === subpath) : undefined;
  const file = path.resolve(snapshot.folder, path.normalize(declared ? declared.file : subpath));
  const inside = path.relative(snapshot.folder, file);
  if (inside.startsWith('..') || path.isAbsolute(inside) || (await unreadablePath(file))) {
    return {
      problem: {
        message: `the snapshot of ${name}@${snapshot.version} (${displayPath(snapshot.folder)}) has no recipe ${JSON.stringify(subpath)}`,
        fix: 'the run that wrote it did not use that recipe: compare with a run or version that did (--against)',
      },
    };
  }
  return {
    file,
    source: {
      file,
      packageRoot: snapshot.folder,
      packageName: name,
      packageVersion: snapshot.version,
      recipe: inside.split(path.sep).join('/'),
    },
  };
}

/**
 * The path of `file` inside the package at `root` (with `/` separators), null when it lies outside
 * (written with `..`, or reached through a symbolic link), undefined when it does not exist.
 */
async function insidePackage(root: string, file: string): Promise<string | null | undefined> {
  const within = (from: string, to: string): string | null => {
    const relative = path.relative(from, to);
    return relative === '..' || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative) ? null : relative;
  };
  const written = within(root, file);
  if (written === null) return null;
  let real: string | null;
  try {
    real = within(await realpath(root), await realpath(file));
  } catch {
    return undefined;
  }
  return real === null ? null : written.split(path.sep).join('/');
}
