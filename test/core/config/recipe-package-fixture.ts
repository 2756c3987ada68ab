import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** A package to place in a `node_modules` folder: its manifest and its files (path → text). */
export interface FixturePackage {
  readonly manifest: Record<string, unknown>;
  readonly files?: Readonly<Record<string, string>>;
}

/**
 * Writes a package into `<directory>/node_modules/<name>` as `npm install` would lay it out (its
 * `package.json` and files), without npm: what the recipe listing and `init --from` read.
 */
export function installFixturePackage(directory: string, fixture: FixturePackage): string {
  const name = fixture.manifest.name;
  if (typeof name !== 'string') throw new Error('a fixture package needs a name');
  const folder = path.join(directory, 'node_modules', ...name.split('/'));
  mkdirSync(folder, { recursive: true });
  writeFileSync(path.join(folder, 'package.json'), JSON.stringify(fixture.manifest, null, 2));
  for (const [file, text] of Object.entries(fixture.files ?? {})) {
    mkdirSync(path.dirname(path.join(folder, file)), { recursive: true });
    writeFileSync(path.join(folder, file), text);
  }
  return folder;
}

/**
 * `@acme/recipes@1.2.0`: a recipe `nli` with a required param `data` (with an example) and an
 * optional `alpha`, extending the package's `base.yaml`, which declares `max_steps`; and a recipe
 * `broken` whose file is missing.
 */
export const acmeRecipes: FixturePackage = {
  manifest: {
    name: '@acme/recipes',
    version: '1.2.0',
    distill: {
      recipes: {
        nli: { file: 'recipes/nli.yaml', description: 'NLI, zero-shot.' },
        broken: { file: 'recipes/gone.yaml' },
      },
    },
  },
  files: {
    'recipes/base.yaml': `params:
  max_steps: { type: integer, default: 100, description: Training steps. }
trainer:
  use: torch
  options: { max_steps: "\${params.max_steps}" }
`,
    'recipes/nli.yaml': `extends: ./base.yaml
name: nli
description: Natural language inference from a zero-shot teacher. Second sentence.
params:
  data:
    type: string
    description: The data folder.
    examples: [./data]
  alpha:
    type: number
    default: 0.5
loss:
  use: constant
  options: { alpha: "\${params.alpha}" }
`,
  },
};
