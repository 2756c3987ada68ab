import { Flags } from '@oclif/core';
import type { InitPipelineResult } from '../../core/config/init-pipeline.js';
import { listRecipes } from '../../core/config/recipes.js';
import { displayPath } from '../../core/config/source-map.js';
import { BaseCommand } from './base-command.js';

/** `distill init`: start a pipeline from a built-in recipe. */
export default class InitCommand extends BaseCommand {
  static override summary = 'Write a new pipeline file from a built-in recipe.';
  static override description =
    'The file starts with a yaml-language-server line, so editors complete and check it against distill.schema.json.\n\n' +
    `Recipes (--recipe): ${listRecipes().join(', ')}.`;
  static override examples = [
    '<%= config.bin %> init',
    '<%= config.bin %> init --recipe anli1-zero-shot-openai --output my-pipeline.yaml',
    '<%= config.bin %> init --output pipeline.yaml --force',
  ];
  static override flags = {
    recipe: Flags.string({
      char: 'r',
      description: 'Recipe to start from (a file name in the package’s pipelines/ folder, without .yaml).',
    }),
    output: Flags.string({ char: 'o', description: 'File to write (default: <recipe>.yaml).' }),
    force: Flags.boolean({ char: 'f', description: 'Overwrite the file if it exists.', default: false }),
    'recipes-directory': Flags.string({ description: 'Folder of recipes to choose from.', hidden: true }),
  };

  async run(): Promise<InitPipelineResult> {
    const { flags } = await this.parse(InitCommand);
    const [{ builtinRegistry }, { initPipeline }] = await Promise.all([
      import('../../plugins/composition-root.js'),
      import('../../core/config/init-pipeline.js'),
    ]);
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
