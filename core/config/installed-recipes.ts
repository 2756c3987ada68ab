import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { readManifest } from './recipe-package.js';
import { summariseRecipe, type RecipeParamSummary } from './recipe-params-summary.js';
import { listRecipes, recipesDirectory } from './recipes.js';
import { displayPath } from './source-map.js';

/** At most this many package folders are looked at: a `node_modules` tree is large, a listing must stay quick. */
export const maxScannedPackages = 2000;

/** One recipe `distill recipes` lists. */
export interface ListedRecipe {
  readonly name: string;
  /** What to write after `extends:` (a package's recipe) or `--recipe` (a built-in). */
  readonly reference: string;
  /** The YAML file (absolute). */
  readonly file: string;
  readonly description?: string;
  readonly params: readonly RecipeParamSummary[];
  /** Why the recipe could not be read in full, or undefined. */
  readonly problem?: string;
}

/** An installed package that declares recipes (`distill.recipes` in its `package.json`). */
export interface InstalledRecipePackage {
  readonly name: string;
  readonly version: string;
  /** The package's folder (absolute). */
  readonly folder: string;
  readonly recipes: readonly ListedRecipe[];
}

/** What {@link availableRecipes} found. */
export interface RecipeListing {
  /** distill's own recipes (`distill init --recipe <name>`). */
  readonly builtIn: readonly ListedRecipe[];
  /** Recipe packages, nearest `node_modules` first; a name shadowed by a nearer install is left out, as Node would. */
  readonly packages: readonly InstalledRecipePackage[];
  /** Package folders whose `package.json` could not be read, with why. */
  readonly skipped: readonly string[];
  /** True when the scan stopped at {@link maxScannedPackages} folders. */
  readonly truncated: boolean;
}

/** The package folders of one `node_modules` (`name` and `@scope/name`), in name order. */
async function packageFolders(modules: string): Promise<{ name: string; folder: string }[]> {
  const folders: { name: string; folder: string }[] = [];
  const entries = await readdir(modules, { withFileTypes: true }).catch(() => []);
  for (const entry of entries.sort((left, right) => left.name.localeCompare(right.name))) {
    if (entry.name.startsWith('.') || !(entry.isDirectory() || entry.isSymbolicLink())) continue;
    if (!entry.name.startsWith('@')) {
      folders.push({ name: entry.name, folder: path.join(modules, entry.name) });
      continue;
    }
    const scoped = await readdir(path.join(modules, entry.name), { withFileTypes: true }).catch(() => []);
    for (const inner of scoped.sort((left, right) => left.name.localeCompare(right.name))) {
      if (inner.isDirectory() || inner.isSymbolicLink())
        folders.push({ name: `${entry.name}/${inner.name}`, folder: path.join(modules, entry.name, inner.name) });
    }
  }
  return folders;
}

/** Every `node_modules` folder from `directory` up to the file system's root, nearest first. */
function modulesFolders(directory: string): string[] {
  const found: string[] = [];
  for (let current = path.resolve(directory); ; current = path.dirname(current)) {
    const modules = path.join(current, 'node_modules');
    if (existsSync(modules)) found.push(modules);
    if (path.dirname(current) === current) return found;
  }
}

/** The recipes a package declares, each with its description and params read from its file. */
async function declaredRecipes(folder: string, packageName: string, declared: readonly { name: string; file: string }[]) {
  const recipes: ListedRecipe[] = [];
  for (const recipe of declared) {
    const file = path.resolve(folder, recipe.file);
    const inside = path.relative(folder, file);
    const summary =
      inside.startsWith('..') || path.isAbsolute(inside)
        ? { params: [], problem: `its file ${recipe.file} is outside the package` }
        : existsSync(file)
          ? await summariseRecipe(file)
          : { params: [], problem: `its file ${recipe.file} is missing` };
    recipes.push({ name: recipe.name, reference: `${packageName}/${recipe.name}`, file, ...summary });
  }
  return recipes;
}

/**
 * `distill recipes`: distill's built-in recipes, and the recipes declared by every package installed
 * in a `node_modules` folder from `directory` up (what `extends: <package>/<recipe>` there can name),
 * each with its description and params. Only `package.json` files and recipe YAML are read, each
 * size-bounded, and at most {@link maxScannedPackages} package folders are looked at.
 */
export async function availableRecipes(directory: string, builtInDirectory: string = recipesDirectory()): Promise<RecipeListing> {
  const builtIn: ListedRecipe[] = [];
  for (const name of listRecipes(builtInDirectory)) {
    const yaml = path.join(builtInDirectory, `${name}.yaml`);
    const file = existsSync(yaml) ? yaml : path.join(builtInDirectory, `${name}.yml`);
    builtIn.push({ name, reference: name, file, ...(await summariseRecipe(file)) });
  }
  const packages: InstalledRecipePackage[] = [];
  const skipped: string[] = [];
  const seen = new Set<string>();
  let scanned = 0;
  for (const modules of modulesFolders(directory)) {
    for (const { name, folder } of await packageFolders(modules)) {
      if (scanned >= maxScannedPackages) return { builtIn, packages, skipped, truncated: true };
      scanned += 1;
      if (seen.has(name) || !existsSync(path.join(folder, 'package.json'))) continue;
      seen.add(name);
      const manifest = await readManifest(folder);
      if (typeof manifest === 'string') {
        skipped.push(manifest);
        continue;
      }
      if (manifest.recipes.length === 0) continue;
      const recipes = await declaredRecipes(folder, manifest.name, manifest.recipes);
      packages.push({ name: manifest.name, version: manifest.version, folder, recipes });
    }
  }
  return { builtIn, packages, skipped, truncated: false };
}

/** A param in a line: `data (required, string)`, `alpha (number, default 0.5)`. */
function paramText(param: RecipeParamSummary): string {
  const details = param.required ? ['required', param.type] : [param.type, `default ${JSON.stringify(param.default)}`];
  return `${param.name} (${details.join(', ')})`;
}

/** The first sentence of a description, at most 100 characters, for a one-line listing. */
function shortDescription(description: string | undefined): string {
  if (description === undefined) return '';
  const sentence = /^.*?[.!?](?=\s|$)/.exec(description)?.[0] ?? description;
  return sentence.length > 100 ? `${sentence.slice(0, 99)}…` : sentence;
}

/** A listing as `distill recipes` prints it. */
export function recipeListingText(listing: RecipeListing): string {
  const lines: string[] = ['Built-in recipes (distill init --recipe <name>):'];
  const width = Math.max(0, ...listing.builtIn.map((recipe) => recipe.name.length)) + 2;
  for (const recipe of listing.builtIn) lines.push(`  ${recipe.name.padEnd(width)}${shortDescription(recipe.description)}`);
  lines.push('', 'Installed recipe packages (extends: <package>/<recipe>, or distill init --from <package>/<recipe>):');
  if (listing.packages.length === 0)
    lines.push('  none found in node_modules from this folder up (install one with `npm install <package>`)');
  for (const entry of listing.packages) {
    lines.push(`  ${entry.name}@${entry.version}  (${displayPath(entry.folder)})`);
    for (const recipe of entry.recipes) {
      lines.push(`    ${recipe.reference}  ${shortDescription(recipe.description)}`.trimEnd());
      if (recipe.params.length > 0) lines.push(`      params: ${recipe.params.map(paramText).join(', ')}`);
      if (recipe.problem !== undefined) lines.push(`      cannot be read in full: ${recipe.problem}`);
    }
  }
  for (const reason of listing.skipped) lines.push(`  skipped: ${reason}`);
  if (listing.truncated) lines.push(`  (stopped after ${maxScannedPackages} package folders; run it from the project's folder)`);
  return lines.join('\n');
}
