import { existsSync, readdirSync } from 'node:fs';
import { packagePath } from '../package-root.js';

/** Where the built-in recipes live: the package's `pipelines/` folder, read at run time. */
export function recipesDirectory(): string {
  return packagePath('pipelines');
}

/** Names of the recipes in a folder (YAML file names without extension), sorted. */
export function listRecipes(directory: string = recipesDirectory()): string[] {
  if (!existsSync(directory)) return [];
  return readdirSync(directory, { withFileTypes: true })
    .filter((entry) => entry.isFile() && /\.ya?ml$/.test(entry.name))
    .map((entry) => entry.name.replace(/\.ya?ml$/, ''))
    .sort();
}
