import { BaseCommand } from './base-command.js';
import type { RecipeListing } from '../../core/config/installed-recipes.js';

/** `distill recipes`: the recipes a pipeline here can start from or extend. */
export default class RecipesCommand extends BaseCommand {
  static override summary = 'List the built-in recipes and the recipes of the recipe packages installed here, with their params.';
  static override description =
    'Installed packages are found as `extends:` finds them: in node_modules from the working directory up (at most 2,000 package folders are looked at; only package.json files and recipe YAML are read, never package code). A package declares its recipes in the distill.recipes field of its package.json; each is listed with its description and params (required ones, and optional ones with their defaults).';
  static override examples = ['<%= config.bin %> recipes', '<%= config.bin %> recipes --json'];

  async run(): Promise<RecipeListing> {
    await this.parse(RecipesCommand);
    const { availableRecipes, recipeListingText } = await import('../../core/config/installed-recipes.js');
    const listing = await availableRecipes(process.cwd());
    if (!this.jsonEnabled()) this.log(recipeListingText(listing));
    return listing;
  }
}
