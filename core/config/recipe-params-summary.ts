import { isPlainObject } from './merge-documents.js';
import { pipelineLimits } from './pipeline-limits.js';
import { readYamlFile } from './read-yaml-file.js';
import { resolveExtends } from './resolve-extends.js';

/** One input a recipe declares under `params:`, as `distill recipes` and `distill init --from` show it. */
export interface RecipeParamSummary {
  readonly name: string;
  /** Required when its schema has no `default`. */
  readonly required: boolean;
  /** The schema's `type` (`string`, `number | string`), or `enum` / `const` / `any` when it names none. */
  readonly type: string;
  readonly description?: string;
  /** The schema's `default`, for an optional param. */
  readonly default?: unknown;
  /** The schema's first `examples` value, if it gives one: what `init --from` writes for a required param. */
  readonly example?: unknown;
}

/** What a recipe file says about itself: its `description` and the params of its whole `extends` chain. */
export interface RecipeSummary {
  readonly description?: string;
  readonly params: readonly RecipeParamSummary[];
  /** Why the recipe could not be read in full (a syntax error, a broken `extends`), or undefined. */
  readonly problem?: string;
}

/** The type of a param's schema, in words. */
function schemaType(schema: Record<string, unknown>): string {
  if (typeof schema.type === 'string') return schema.type;
  if (Array.isArray(schema.type)) return schema.type.filter((entry) => typeof entry === 'string').join(' | ');
  if (Array.isArray(schema.enum)) return `one of ${schema.enum.map((value) => JSON.stringify(value)).join(', ')}`;
  if ('const' in schema) return `const ${JSON.stringify(schema.const)}`;
  return 'any';
}

/** The params a `params:` mapping declares, in its order; entries that are not a schema mapping are left out. */
function paramsOf(value: unknown): RecipeParamSummary[] {
  if (!isPlainObject(value) || !isPlainObject(value.params)) return [];
  return Object.entries(value.params).flatMap(([name, schema]) => {
    if (!isPlainObject(schema)) return [];
    const example = Array.isArray(schema.examples) && schema.examples.length > 0 ? { example: schema.examples[0] as unknown } : {};
    return [
      {
        name,
        required: !('default' in schema),
        type: schemaType(schema),
        ...(typeof schema.description === 'string' ? { description: schema.description } : {}),
        ...('default' in schema ? { default: schema.default } : {}),
        ...example,
      },
    ];
  });
}

/**
 * Reads a recipe file's `description` and the params declared along its `extends` chain, merged as
 * `extends` merges them (a file's own declaration over its parent's, key by key: the schema a run
 * validates with), size- and time-bounded as any pipeline file is. Nothing is validated or run: this
 * is what listing and scaffolding show, and a recipe that cannot be read says why in `problem` rather
 * than failing the whole listing.
 */
export async function summariseRecipe(file: string): Promise<RecipeSummary> {
  const resolved = await resolveExtends(file, {});
  const problem = resolved.problems[0]?.message;
  const document = isPlainObject(resolved.value) ? resolved.value : {};
  // Listed nearest first (the recipe's own params before those it inherits), as a reader of the
  // recipe meets them; each with its merged schema.
  const order: string[] = [];
  for (const source of resolved.sourceFiles) {
    const yamlFile = await readYamlFile(source, pipelineLimits);
    if (yamlFile.problems.length > 0 || !isPlainObject(yamlFile.value) || !isPlainObject(yamlFile.value.params)) continue;
    for (const name of Object.keys(yamlFile.value.params)) if (!order.includes(name)) order.push(name);
  }
  const merged = paramsOf(document);
  return {
    ...(typeof document.description === 'string' ? { description: document.description } : {}),
    params: order.flatMap((name) => merged.filter((param) => param.name === name)),
    ...(problem !== undefined ? { problem } : {}),
  };
}
