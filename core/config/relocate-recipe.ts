import path from 'node:path';
import { isMap, isScalar, isSeq, parseDocument, type Node } from 'yaml';
import { isUserError } from '../errors/user-error.js';
import type { JsonSchema } from '../plugins/json-schema.js';
import { loadExternalPlugins } from '../plugins/load-external-plugins.js';
import { PluginRegistry } from '../plugins/plugin-registry.js';
import { isPlainObject } from './merge-documents.js';
import { pluginSteps } from './pipeline-config.js';
import { resolveExtends } from './resolve-extends.js';
import { childPointer } from './source-map.js';

// `${NAME:-default}`: the default part may be a path too.
const defaultedReference = /\$\{([A-Za-z_][A-Za-z0-9_]*):-([^}]*)\}/g;

function isRelativeSpecifier(specifier: string): boolean {
  return specifier.startsWith('./') || specifier.startsWith('../');
}

/** A path relative to `fromDirectory`, re-expressed from `toDirectory`. */
function movePath(written: string, fromDirectory: string, toDirectory: string, dotted: boolean): string {
  if (written === '' || path.isAbsolute(written)) return written;
  const target = path.resolve(fromDirectory, written);
  const moved = path.relative(toDirectory, target).split(path.sep).join('/');
  // A short relative path survives moving the project (node_modules/distill/…); a long climb out
  // of it is clearer, and no less portable, as an absolute path.
  if (moved.startsWith('../../../')) return target;
  return dotted && !moved.startsWith('.') ? `./${moved}` : moved || '.';
}

/** Moves a path option, or the defaults of the `${VAR:-path}` references in it. */
function movePathOption(written: string, fromDirectory: string, toDirectory: string): string {
  if (!written.includes('${')) return movePath(written, fromDirectory, toDirectory, false);
  return written.replace(
    defaultedReference,
    (_whole, name: string, fallback: string) => `\${${name}:-${movePath(fallback, fromDirectory, toDirectory, false)}}`,
  );
}

/**
 * Visits the string values of an options node that its plugin's schema marks `existingPath`
 * (through `properties`, `additionalProperties` and `items`, which is how path options are written).
 */
function visitPathOptions(node: unknown, schema: unknown, visit: (scalar: { value: unknown }) => void): void {
  if (typeof schema !== 'object' || schema === null) return;
  const shape = schema as JsonSchema;
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      const properties = shape.properties as Record<string, unknown> | undefined;
      const child = properties?.[key] ?? (typeof shape.additionalProperties === 'object' ? shape.additionalProperties : undefined);
      if ((child as JsonSchema | undefined)?.existingPath === true && isScalar(pair.value) && typeof pair.value.value === 'string')
        visit(pair.value);
      else visitPathOptions(pair.value, child, visit);
    }
  } else if (isSeq(node)) {
    const items = shape.items;
    for (const item of node.items) {
      if ((items as JsonSchema | undefined)?.existingPath === true && isScalar(item) && typeof item.value === 'string') visit(item);
      else visitPathOptions(item, items, visit);
    }
  }
}

/**
 * A recipe's text for a new home: the relative paths it writes — `extends`, `plugins:` entries and
 * options its plugins' schemas mark `existingPath` (also as `${VAR:-default}` defaults) — are
 * rewritten so that they still reach the recipe's files from `toDirectory`. Comments and layout are
 * kept; the text comes back unchanged when nothing needs rewriting. Paths in the files it extends
 * need nothing: they resolve from the file that writes them.
 */
export async function relocateRecipe(file: string, text: string, toDirectory: string, base: PluginRegistry): Promise<string> {
  const fromDirectory = path.dirname(path.resolve(file));
  if (fromDirectory === path.resolve(toDirectory)) return text;
  // A step may take its `use` from the recipe it extends and only set options here.
  const resolved = await resolveExtends(path.resolve(file), process.env);
  const merged = resolved.value;
  const document = parseDocument(text, { merge: true });
  let rewrites = 0;
  const rewrite = (scalar: { value: unknown }, moved: string): void => {
    if (moved !== scalar.value) {
      scalar.value = moved;
      rewrites += 1;
    }
  };

  const extendsNode = document.get('extends', true);
  if (isScalar(extendsNode) && typeof extendsNode.value === 'string' && !extendsNode.value.includes('${')) {
    rewrite(extendsNode, movePath(extendsNode.value, fromDirectory, toDirectory, true));
  }
  // The plugins of the whole chain may define path options; each resolves from its own file.
  const registry = new PluginRegistry(base.list());
  const chainPlugins = isPlainObject(resolved.value) && Array.isArray(resolved.value.plugins) ? resolved.value.plugins : [];
  for (const [index, specifier] of chainPlugins.entries()) {
    const writtenIn = resolved.sourceMap.get(childPointer('/plugins', index))?.value.file;
    if (typeof specifier !== 'string' || writtenIn === undefined) continue;
    try {
      for (const descriptor of await loadExternalPlugins([{ specifier, baseDirectory: path.dirname(path.resolve(writtenIn)) }]))
        registry.register(descriptor);
    } catch (error) {
      if (!isUserError(error)) throw error; // validating the new pipeline will report it
    }
  }
  const plugins = document.get('plugins', true);
  if (isSeq(plugins)) {
    for (const item of plugins.items) {
      if (isScalar(item) && typeof item.value === 'string' && isRelativeSpecifier(item.value)) {
        rewrite(item, movePath(item.value, fromDirectory, toDirectory, true));
      }
    }
  }
  for (const { pointer, kind, list } of pluginSteps) {
    const value = document.get(pointer.slice(1), true) as Node | undefined;
    const steps = list ? (isSeq(value) ? value.items : []) : [value];
    for (const step of steps) {
      if (!isMap(step)) continue;
      const inherited = isPlainObject(merged) && !list ? merged[pointer.slice(1)] : undefined;
      const use = step.get('use') ?? (isPlainObject(inherited) ? inherited.use : undefined);
      if (typeof use !== 'string' || !registry.has(kind, use)) continue;
      visitPathOptions(step.get('options', true), registry.get(kind, use).optionsSchema, (scalar) =>
        rewrite(scalar, movePathOption(scalar.value as string, fromDirectory, toDirectory)),
      );
    }
  }
  // lineWidth 0: never fold long strings, so the copy reads like the recipe.
  return rewrites > 0 ? document.toString({ lineWidth: 0 }) : text;
}
