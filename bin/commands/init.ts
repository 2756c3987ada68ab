import { Flags } from '@oclif/core';
import type { InitFromRecipeResult } from '../../core/config/init-from-recipe.js';
import type { InitPipelineResult } from '../../core/config/init-pipeline.js';
import { listRecipes } from '../../core/config/recipes.js';
import type { ScaffoldRecipePackageResult } from '../../core/config/scaffold-recipe-package.js';
import { displayPath } from '../../core/config/source-map.js';
import { BaseCommand } from './base-command.js';

/** `distill init`: start a pipeline from a built-in recipe or an installed package's, or scaffold a recipe package. */
export default class InitCommand extends BaseCommand {
  static override summary =
    'Write a new pipeline file from a built-in recipe or an installed recipe package, or scaffold a recipe package.';
  static override description =
    'The file starts with a yaml-language-server line, so editors complete and check it against distill.schema.json.\n\n' +
    `Recipes (--recipe): ${listRecipes().join(', ')}.\n\n` +
    '--from <package>/<recipe> writes a pipeline (default pipeline.yaml) that extends a recipe of an installed package, with its params under with: (`distill recipes` lists them). ' +
    '--recipe-package <folder> writes a new recipe package to publish: package.json, a recipe with params, a tiny fixture dataset, a smoke test (npm test) and a README (docs/recipe-packages.md).';
  static override examples = [
    '<%= config.bin %> init',
    '<%= config.bin %> init --recipe anli1-zero-shot-openai --output my-pipeline.yaml',
    '<%= config.bin %> init --output pipeline.yaml --force',
    '<%= config.bin %> init --from @acme/distill-recipes/nli-zero-shot --output nli.yaml',
    '<%= config.bin %> init --recipe-package ./acme-recipes --name @acme/distill-recipes',
  ];
  static override flags = {
    recipe: Flags.string({
      char: 'r',
      description: 'Recipe to start from (a file name in the package’s pipelines/ folder, without .yaml).',
      exclusive: ['from', 'recipe-package'],
    }),
    from: Flags.string({
      description:
        'A recipe of an installed package to extend: <package>/<recipe> (a declared recipe name or a YAML path inside the package).',
      exclusive: ['recipe', 'recipe-package'],
    }),
    'recipe-package': Flags.string({
      description: 'Scaffold a recipe package in this folder (new or empty) instead of writing a pipeline.',
      exclusive: ['recipe', 'from', 'output'],
    }),
    name: Flags.string({ description: 'npm name of the scaffolded package (default: the folder’s name).', dependsOn: ['recipe-package'] }),
    output: Flags.string({ char: 'o', description: 'File to write (default: <recipe>.yaml, or pipeline.yaml with --from).' }),
    force: Flags.boolean({
      char: 'f',
      description: 'Overwrite the file (or write into a folder that is not empty) if it exists.',
      default: false,
    }),
    'recipes-directory': Flags.string({ description: 'Folder of recipes to choose from.', hidden: true }),
  };

  async run(): Promise<InitPipelineResult | InitFromRecipeResult | ScaffoldRecipePackageResult> {
    const { flags } = await this.parse(InitCommand);
    if (flags['recipe-package'] !== undefined) {
      const { scaffoldRecipePackage } = await import('../../core/config/scaffold-recipe-package.js');
      const result = await scaffoldRecipePackage({ folder: flags['recipe-package'], name: flags.name, force: flags.force });
      if (!this.jsonEnabled()) {
        this.log(`wrote the recipe package ${result.name} in ${displayPath(result.folder)}: ${result.files.join(', ')}`);
        this.log(`next: cd ${displayPath(result.folder)} && npm install && npm test   (then npm pack, or npm publish)`);
      }
      return result;
    }
    const { builtinRegistry } = await import('../../plugins/composition-root.js');
    if (flags.from !== undefined) {
      const { initFromRecipe } = await import('../../core/config/init-from-recipe.js');
      const result = await initFromRecipe({ from: flags.from, output: flags.output, force: flags.force, registry: builtinRegistry() });
      if (!this.jsonEnabled()) {
        this.log(`wrote ${displayPath(result.output)}: extends ${result.from} (${result.packageName}@${result.packageVersion})`);
        const required = result.params.filter((param) => param.required).map((param) => param.name);
        if (required.length > 0) this.log(`set its required params under with: ${required.join(', ')}`);
        this.log(`wrote ${displayPath(result.schemaFile)} for editors`);
      }
      return result;
    }
    const { initPipeline } = await import('../../core/config/init-pipeline.js');
    const result = await initPipeline({
      recipe: flags.recipe,
      output: flags.output,
      force: flags.force,
      recipesDirectory: flags['recipes-directory'],
      registry: builtinRegistry(),
    });
    if (!this.jsonEnabled()) {
      this.log(`wrote ${displayPath(result.output)} from recipe ${result.recipe}`);
      this.log(`wrote ${displayPath(result.schemaFile)} for editors`);
    }
    return result;
  }
}
