import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../errors/user-error.js';
import { packagePath, packageRoot } from '../package-root.js';
import { recipeFixtureFiles } from './recipe-package-fixture.js';
import { isPackageName } from './recipe-package.js';
import { displayPath } from './source-map.js';

/** Options of {@link scaffoldRecipePackage}. */
export interface ScaffoldRecipePackageOptions {
  /** The folder to create (or an empty one to fill). */
  readonly folder: string;
  /** The npm package name; default: the folder's name, lower-cased. */
  readonly name?: string;
  /** Write into a folder that is not empty, overwriting the scaffold's files there. */
  readonly force?: boolean;
}

/** What {@link scaffoldRecipePackage} wrote. */
export interface ScaffoldRecipePackageResult {
  readonly folder: string;
  readonly name: string;
  /** The recipe's name, as `extends: <name>/<recipe>` names it. */
  readonly recipe: string;
  /** Every file written, relative to `folder`. */
  readonly files: readonly string[];
}

/** The recipe the scaffold writes. */
export const scaffoldRecipeName = 'nli-zero-shot';

/** Where the scaffold's template files live in distill's package (shipped with it: `files` in package.json). */
export function recipePackageTemplateFolder(): string {
  return packagePath('templates', 'recipe-package');
}

/** The package name a folder's name suggests: lower case, characters npm refuses replaced by `-`. */
function nameFromFolder(folder: string): string {
  return path
    .basename(folder)
    .toLowerCase()
    .replace(/[^a-z0-9._~-]+/g, '-')
    .replace(/^[._~-]+/, '');
}

/** The scaffold's `package.json`: the recipe declared, the files that ship, the smoke test as `npm test`. */
function manifestText(name: string): string {
  const distillVersion = (JSON.parse(readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
  const manifest = {
    name,
    version: '0.1.0',
    description: 'Distillation recipes for distill: extend one with `extends:` and set its params under `with:`.',
    type: 'module',
    keywords: ['distill', 'distill-recipes'],
    files: ['recipes/', 'data/', 'README.md'],
    distill: {
      recipes: {
        [scaffoldRecipeName]: {
          file: `recipes/${scaffoldRecipeName}.yaml`,
          description: 'Natural language inference distilled offline from recorded teacher answers into a tiny T5.',
        },
      },
    },
    scripts: { test: 'node --test test/recipe.test.mjs' },
    // distill is needed to test the recipes, not to install them: a pipeline's project has its own.
    devDependencies: { distill: `^${distillVersion}` },
  };
  return JSON.stringify(manifest, null, 2) + '\n';
}

/** A template file with `{{package}}` and `{{recipe}}` filled in. */
function template(file: string, name: string): string {
  const source = path.join(recipePackageTemplateFolder(), file);
  if (!existsSync(source)) {
    throw new UserError({
      file: displayPath(source),
      message: 'distill’s template of a recipe package is missing from its install',
      fix: 'reinstall distill (`npm install distill`)',
    });
  }
  return readFileSync(source, 'utf8').replaceAll('{{package}}', name).replaceAll('{{recipe}}', scaffoldRecipeName);
}

/**
 * `distill init --recipe-package <folder>`: writes a recipe package ready to test and publish — its
 * `package.json` declaring one recipe, the recipe (with `params`), a tiny synthetic fixture dataset
 * with recorded teacher answers so the recipe runs offline, a smoke test (`npm test`) and a README on
 * consuming, versioning and publishing it. Refuses a folder that is not empty unless `force` is set,
 * and a name npm would refuse.
 */
export async function scaffoldRecipePackage(options: ScaffoldRecipePackageOptions): Promise<ScaffoldRecipePackageResult> {
  const folder = path.resolve(options.folder);
  const name = options.name ?? nameFromFolder(folder);
  if (!isPackageName(name)) {
    throw new UserError({
      message: `${JSON.stringify(name)} is not an npm package name`,
      fix: 'pass --name with a lower-case name such as acme-recipes or @acme/distill-recipes',
    });
  }
  if (existsSync(folder) && readdirSync(folder).length > 0 && !options.force) {
    throw new UserError({
      file: displayPath(folder),
      message: 'the folder is not empty; not writing a recipe package into it',
      fix: 'name a new folder, or pass --force to write the scaffold’s files into this one',
    });
  }
  const files: Record<string, string> = {
    'package.json': manifestText(name),
    [`recipes/${scaffoldRecipeName}.yaml`]: template('recipe.yaml', name),
    'test/recipe.test.mjs': template('recipe.test.mjs', name),
    'README.md': template('README.md', name),
    ...Object.fromEntries(Object.entries(recipeFixtureFiles()).map(([file, text]) => [`data/${file}`, text])),
  };
  for (const [file, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(folder, file)), { recursive: true });
    await writeFile(path.join(folder, file), text);
  }
  return { folder, name, recipe: scaffoldRecipeName, files: Object.keys(files) };
}
