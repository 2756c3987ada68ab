import { existsSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors/user-error.js';
import type { PluginRegistry } from '../plugins/plugin-registry.js';
import { assertWritable, writePipelineWithSchema } from './init-pipeline.js';
import { isPackageSpecifier, resolveRecipeSpecifier } from './recipe-package.js';
import { summariseRecipe, type RecipeParamSummary } from './recipe-params-summary.js';

/** Options of {@link initFromRecipe}. */
export interface InitFromRecipeOptions {
  /** `<package>/<recipe>`: a recipe the package declares, or a YAML path inside it. */
  readonly from: string;
  /** File to write; default `pipeline.yaml` in the working directory. */
  readonly output?: string;
  /** Overwrite an existing file. */
  readonly force?: boolean;
  /** The plugins the written schema describes (the composition root's). */
  readonly registry: PluginRegistry;
}

/** What {@link initFromRecipe} wrote. */
export interface InitFromRecipeResult {
  readonly from: string;
  /** The package and version the recipe was found in, and the recipe file inside it. */
  readonly packageName: string;
  readonly packageVersion: string;
  readonly recipe: string;
  /** Absolute path of the new pipeline. */
  readonly output: string;
  readonly schemaFile: string;
  /** The recipe's params: required ones are written under `with:`, optional ones commented out. */
  readonly params: readonly RecipeParamSummary[];
}

/** `# type, required: description` after a param's line. */
function paramComment(param: RecipeParamSummary): string {
  const what = [param.type, param.required ? 'required' : 'optional'].join(', ');
  return `# ${what}${param.description !== undefined ? `: ${param.description.replace(/\s+/g, ' ')}` : ''}`;
}

/**
 * A default as the new pipeline would have to write it: a relative path to an existing file or
 * folder (`../data/train.jsonl`) is relative to the recipe, while a value under `with:` is relative
 * to the pipeline, so such a default is re-pointed from the pipeline's folder; anything else as is.
 */
function defaultFrom(value: unknown, recipeFile: string, outputFolder: string): unknown {
  if (typeof value !== 'string' || !/^\.\.?\//.test(value)) return value;
  const target = path.resolve(path.dirname(recipeFile), value);
  if (!existsSync(target)) return value;
  const relative = path.relative(outputFolder, target).split(path.sep).join('/');
  return relative.startsWith('.') ? relative : `./${relative}`;
}

/**
 * The `with:` block: each required param with a placeholder (the schema's first example, else
 * `null`, which validation reports at that line until it is replaced), each optional one commented
 * out with its default. With no required param the block is all comments: a bare `with:` would be null.
 */
function withBlock(params: readonly RecipeParamSummary[], recipeFile: string, outputFolder: string): string {
  if (params.length === 0) return '# The recipe declares no params.\n';
  const required = params.filter((param) => param.required);
  const lines = [required.length > 0 ? 'with:' : '# with:'];
  for (const param of params) {
    const value = param.required ? (param.example ?? null) : defaultFrom(param.default, recipeFile, outputFolder);
    const entry = `${param.name}: ${JSON.stringify(value)}`;
    lines.push(`${param.required ? '  ' : '  # '}${entry} ${paramComment(param)}`);
  }
  return lines.join('\n') + '\n';
}

/**
 * `distill init --from <package>/<recipe>`: writes a pipeline that extends a recipe of an installed
 * package, found from the new file's folder as its `extends` will be, with the recipe's params under
 * `with:` to fill in. Refuses to overwrite an existing file unless `force` is set; a package that is
 * not installed or a recipe it does not hold fails with the recipes it does offer.
 */
export async function initFromRecipe(options: InitFromRecipeOptions): Promise<InitFromRecipeResult> {
  if (!isPackageSpecifier(options.from)) {
    throw new UserError({
      message: `--from ${JSON.stringify(options.from)} does not name a recipe of a package`,
      fix: 'write <package>/<recipe>, e.g. --from @acme/distill-recipes/nli-zero-shot (`distill recipes` lists what is installed)',
    });
  }
  const output = path.resolve(options.output ?? 'pipeline.yaml');
  assertWritable(output, options.force);
  const resolution = await resolveRecipeSpecifier(output, options.from);
  if ('problem' in resolution) {
    throw new UserError({ message: resolution.problem.message.replace(/^extends names/, '--from names'), fix: resolution.problem.fix });
  }
  const summary = await summariseRecipe(resolution.file);
  const { packageName, packageVersion, recipe } = resolution.source;
  const description = summary.description !== undefined ? `: ${summary.description.replace(/\s+/g, ' ')}` : '';
  const text = [
    `# Extends the recipe ${recipe} of ${packageName}@${packageVersion}${description}`,
    '# `distill recipes` lists its params; `distill diff` shows what an upgrade of the package changes.',
    `extends: ${JSON.stringify(options.from)}`,
    withBlock(summary.params, resolution.file, path.dirname(output)),
  ].join('\n');
  const schemaFile = await writePipelineWithSchema(output, text, options.registry);
  return { from: options.from, packageName, packageVersion, recipe, output, schemaFile, params: summary.params };
}
