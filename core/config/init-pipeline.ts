import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { didYouMeanPhrase } from '../errors/did-you-mean.js';
import { UserError } from '../errors/user-error.js';
import type { PluginRegistry } from '../plugins/plugin-registry.js';
import { combinedSchema } from './combined-schema.js';
import { listRecipes, recipesDirectory } from './recipes.js';
import { relocateRecipe } from './relocate-recipe.js';
import { displayPath } from './source-map.js';

/** Options of {@link initPipeline}. */
export interface InitPipelineOptions {
  /** Recipe name (file name without `.yaml`); default: `quickstart`, else the first in name order. */
  readonly recipe?: string;
  /** File to write; default `<recipe>.yaml` in the working directory. */
  readonly output?: string;
  /** Overwrite an existing file. */
  readonly force?: boolean;
  /** Folder of recipes; default the package's `pipelines/`. */
  readonly recipesDirectory?: string;
  /** The plugins the recipe's paths and the written schema are read against (the composition root's). */
  readonly registry: PluginRegistry;
}

/** What {@link initPipeline} wrote. */
export interface InitPipelineResult {
  readonly recipe: string;
  /** Absolute path of the new pipeline. */
  readonly output: string;
  /** Absolute path of the combined schema written beside it, which the pipeline's first line names. */
  readonly schemaFile: string;
}

/** The recipe `init` starts from when none is named (else the first in name order). */
export const defaultRecipe = 'quickstart';

/** File name of the combined schema `init` writes beside a new pipeline. */
export const schemaFileName = 'distill.schema.json';

const languageServerLine = /^# yaml-language-server:.*\r?\n/;

/**
 * `distill init`: writes a new pipeline from a built-in recipe, its first line pointing editors at
 * the combined schema (written beside it as `distill.schema.json`). Refuses to overwrite an
 * existing pipeline unless `force` is set; an unknown recipe fails with a did-you-mean.
 */
export async function initPipeline(options: InitPipelineOptions): Promise<InitPipelineResult> {
  const directory = options.recipesDirectory ?? recipesDirectory();
  const recipes = listRecipes(directory);
  if (recipes.length === 0) {
    throw new UserError({ message: `no recipes found in ${displayPath(directory)}`, fix: 'reinstall distill, or pass a recipes folder' });
  }
  const recipe = options.recipe ?? (recipes.includes(defaultRecipe) ? defaultRecipe : recipes[0]!);
  if (!recipes.includes(recipe)) {
    throw new UserError({
      message: `unknown recipe "${recipe}"`,
      fix: `${didYouMeanPhrase(recipe, recipes)}available recipes: ${recipes.join(', ')}`,
    });
  }
  const output = path.resolve(options.output ?? `${recipe}.yaml`);
  assertWritable(output, options.force);
  const source = path.join(directory, existsSync(path.join(directory, `${recipe}.yaml`)) ? `${recipe}.yaml` : `${recipe}.yml`);
  const recipeText = readFileSync(source, 'utf8').replace(languageServerLine, '');
  const text = await relocateRecipe(source, recipeText, path.dirname(output), options.registry);
  const schemaFile = await writePipelineWithSchema(output, text, options.registry);
  return { recipe, output, schemaFile };
}

/** Refuses to overwrite an existing pipeline file unless `force` is set (`init`'s `--force`). */
export function assertWritable(output: string, force: boolean | undefined): void {
  if (existsSync(output) && !force) {
    throw new UserError({
      file: displayPath(output),
      message: 'the file already exists; not overwriting it',
      fix: 'pass --force to overwrite it, or --output to write elsewhere',
    });
  }
}

/**
 * Writes a new pipeline file whose first line points editors at the combined schema, and that schema
 * beside it (`distill.schema.json`); returns the schema file's path.
 */
export async function writePipelineWithSchema(output: string, text: string, registry: PluginRegistry): Promise<string> {
  const schemaFile = path.join(path.dirname(output), schemaFileName);
  await mkdir(path.dirname(output), { recursive: true });
  await writeFile(output, `# yaml-language-server: $schema=./${schemaFileName}\n${text}`);
  await writeFile(schemaFile, JSON.stringify(combinedSchema(registry), null, 2) + '\n');
  return schemaFile;
}
