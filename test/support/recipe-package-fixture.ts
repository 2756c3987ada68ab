import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** A recipe package as a test installs it: what `npm install` would leave in `node_modules/<name>`. */
export interface RecipePackageFixture {
  /** The project folder whose `node_modules` receives the package. */
  readonly project: string;
  /** The package's name, e.g. `@acme/recipes`. */
  readonly name: string;
  readonly version: string;
  /** `distill.recipes` of its `package.json`: recipe name → file inside the package. */
  readonly recipes: Readonly<Record<string, string>>;
  /** Every file of the package but `package.json`: path inside the package → text. */
  readonly files: Readonly<Record<string, string>>;
}

/**
 * Writes a recipe package into `<project>/node_modules/<name>`, replacing any version already there
 * (as an upgrade with npm replaces the folder). No npm needed: resolution reads only the files.
 * Returns the package's folder.
 */
export function installRecipePackage(fixture: RecipePackageFixture): string {
  const root = path.join(fixture.project, 'node_modules', ...fixture.name.split('/'));
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  const recipes = Object.fromEntries(
    Object.entries(fixture.recipes).map(([name, file]) => [name, { file, description: `the ${name} recipe` }]),
  );
  const manifest = { name: fixture.name, version: fixture.version, files: ['recipes'], distill: { recipes } };
  writeFileSync(path.join(root, 'package.json'), JSON.stringify(manifest, null, 2) + '\n');
  for (const [file, text] of Object.entries(fixture.files)) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), text);
  }
  return root;
}
