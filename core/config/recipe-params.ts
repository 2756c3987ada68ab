import path from 'node:path';
import type { ValidateFunction } from 'ajv';
import { didYouMean } from '../errors/did-you-mean.js';
import type { Problem } from '../errors/problem.js';
import { createAjv } from './create-ajv.js';
import { isPlainObject } from './merge-documents.js';
import { pipelineLimits } from './pipeline-limits.js';
import { readYamlFile } from './read-yaml-file.js';
import type { RecipeSource } from './recipe-package.js';
import type { ResolvedDocument } from './resolve-extends.js';
import { schemaProblems } from './schema-problems.js';
import { childPointer, displayPath, locate, type NodeLocation, type SourceMap, type SourcePosition } from './source-map.js';

/** A pipeline document with its recipes' params filled in (or what stopped them). */
export interface ParamsApplied {
  /** The document without `params` and `with`, every `${params.NAME}` replaced. */
  readonly value: unknown;
  /** Positions of the values; a filled-in value keeps the position of the place it was written. */
  readonly sourceMap: SourceMap;
  /** Bad declarations, values and references; when any is present the value is not usable. */
  readonly problems: Problem[];
}

/** One param a recipe declares, with its compiled schema. */
interface Declaration {
  readonly name: string;
  readonly schema: Record<string, unknown>;
  readonly validate: ValidateFunction;
}

/** Where a param's value comes from: the pointer of a `with:` entry or of the declaration's `default`. */
interface ParamValue {
  readonly value: unknown;
  readonly from: string;
}

const paramName = /^[A-Za-z_][A-Za-z0-9_]*$/;
// `$${` is a literal `${` for the `${VAR}` pass that follows, so it is left as written.
const referencePattern = /\$\$\{|\$\{params\.([^}]*)\}/g;

/** Keys and values in a value, counted as the pipeline's limit counts them. */
function countNodes(value: unknown): number {
  if (Array.isArray(value)) return value.reduce<number>((total, item) => total + countNodes(item), 1);
  if (isPlainObject(value)) return Object.values(value).reduce<number>((total, item) => total + 1 + countNodes(item), 1);
  return 1;
}

/** `file:line:col` of a position, for messages. */
function shown(position: SourcePosition | undefined): string {
  return position ? `${position.file}:${position.line}:${position.column}` : 'the pipeline';
}

/** What a schema takes, in a few words: `<integer>`, `<one of "a", "b">`, `<value>`. */
function placeholder(schema: Record<string, unknown>): string {
  if (Array.isArray(schema.enum)) return `<one of ${schema.enum.map((item) => JSON.stringify(item)).join(', ')}>`;
  if (typeof schema.type === 'string') return `<${schema.type}>`;
  if (Array.isArray(schema.type)) return `<${schema.type.join(' or ')}>`;
  return '<value>';
}

/** The fix for a name no param has: the closest declared name, and all of them. */
function declaredParamsFix(name: string, declarations: ReadonlyMap<string, Declaration>): string {
  const suggestion = didYouMean(name, declarations.keys());
  const declared = [...declarations.keys()];
  const list = declared.length > 0 ? `declared params: ${declared.join(', ')}` : 'the recipes of this pipeline declare no params';
  return `${suggestion ? `did you mean "${suggestion}"? ` : ''}${list}`;
}

/** How a recipe file is named: `@acme/recipes@1.0.0/recipes/nli.yaml` for a package's, else its path. */
function recipeName(file: string | undefined, recipeSources: readonly RecipeSource[]): string {
  if (file === undefined) return 'a recipe';
  const source = recipeSources.find((candidate) => candidate.file === path.resolve(file));
  return source ? `${source.packageName}@${source.packageVersion}/${source.recipe}` : file;
}

/**
 * Reads the `params:` block: each name must be a plain identifier and each declaration a JSON
 * Schema that ajv compiles (strict, as plugin schemas are), with a `default` that passes it.
 */
function readDeclarations(document: Record<string, unknown>, sourceMap: SourceMap, problems: Problem[]): Map<string, Declaration> {
  const declarations = new Map<string, Declaration>();
  if (!('params' in document)) return declarations;
  const block = document.params;
  if (!isPlainObject(block)) {
    problems.push({
      ...locate(sourceMap, '/params'),
      pointer: '/params',
      message: 'params must be a mapping of param name → JSON Schema',
      fix: 'write e.g. params: { data_file: { type: string, description: "Training data" } }',
    });
    return declarations;
  }
  // One ajv for the pipeline's params: a schema `$id` stays unique among them.
  const ajv = createAjv();
  for (const [name, schema] of Object.entries(block)) {
    const pointer = childPointer('/params', name);
    if (!paramName.test(name)) {
      problems.push({
        ...locate(sourceMap, pointer, true),
        pointer,
        message: `"${name}" is not a param name`,
        fix: 'name a param with letters, digits and _ (not starting with a digit), as ${params.NAME} refers to it',
      });
      continue;
    }
    if (!isPlainObject(schema)) {
      problems.push({
        ...locate(sourceMap, pointer),
        pointer,
        message: `the param "${name}" must be declared by a JSON Schema mapping`,
        fix: 'write e.g. { type: number, minimum: 0, default: 0.5, description: "…" }',
      });
      continue;
    }
    let validate: ValidateFunction;
    try {
      validate = ajv.compile(schema);
    } catch (error) {
      problems.push({
        ...locate(sourceMap, pointer),
        pointer,
        message: `the schema of the param "${name}" is not a valid JSON Schema: ${(error as Error).message}`,
        fix: 'use draft-07 keywords (type, enum, minimum, pattern, items, properties, default, description)',
      });
      continue;
    }
    // An asynchronous schema's validator answers a promise, which would pass every value.
    if ((validate as { $async?: unknown }).$async === true) {
      problems.push({ ...locate(sourceMap, pointer), pointer, message: `the param "${name}" has an $async schema`, fix: 'remove $async' });
      continue;
    }
    declarations.set(name, { name, schema, validate });
  }
  return declarations;
}

/** Problems of `value` against a param's schema, located below `pointer` (a `with:` entry or a default). */
function valueProblems(declaration: Declaration, value: unknown, pointer: string, sourceMap: SourceMap): Problem[] {
  // A copy: the validator may not touch the document, and ajv's errors quote the data.
  if (declaration.validate(structuredClone(value))) return [];
  const declared = shown(locate(sourceMap, childPointer('/params', declaration.name), true));
  const description = typeof declaration.schema.description === 'string' ? `: ${declaration.schema.description}` : '';
  return schemaProblems(declaration.validate.errors, { pointerPrefix: pointer, sourceMap }).map((problem) => ({
    ...problem,
    message: `param "${declaration.name}": ${problem.message}`,
    fix: `${problem.fix ? `${problem.fix}; ` : ''}the param is declared at ${declared}${description}`,
  }));
}

/**
 * The value of each declared param: its `with:` entry, else its default. A `with:` key nobody
 * declares, a value or default its schema refuses, and a required param nothing sets are problems
 * (the last returned apart: it is reported where the pipeline extends the recipe).
 */
function paramValues(
  document: Record<string, unknown>,
  declarations: ReadonlyMap<string, Declaration>,
  sourceMap: SourceMap,
  problems: Problem[],
): { values: Map<string, ParamValue>; unset: Declaration[] } {
  const values = new Map<string, ParamValue>();
  const given = document.with;
  if ('with' in document && !isPlainObject(given)) {
    problems.push({
      ...locate(sourceMap, '/with'),
      pointer: '/with',
      message: 'with must be a mapping of param name → value',
      fix: 'write e.g. with: { data_file: data/train.jsonl }',
    });
  }
  const entries = isPlainObject(given) ? given : {};
  for (const [name, value] of Object.entries(entries)) {
    const pointer = childPointer('/with', name);
    const declaration = declarations.get(name);
    if (!declaration) {
      problems.push({
        ...locate(sourceMap, pointer, true),
        pointer,
        message: `with sets "${name}", which no recipe this pipeline extends declares as a param`,
        fix: declaredParamsFix(name, declarations),
      });
      continue;
    }
    const wrong = valueProblems(declaration, value, pointer, sourceMap);
    problems.push(...wrong);
    if (wrong.length === 0) values.set(name, { value, from: pointer });
  }
  const unset: Declaration[] = [];
  for (const declaration of declarations.values()) {
    if (Object.hasOwn(entries, declaration.name)) continue;
    if (!('default' in declaration.schema)) {
      unset.push(declaration);
      continue;
    }
    const pointer = `${childPointer('/params', declaration.name)}/default`;
    const wrong = valueProblems(declaration, declaration.schema.default, pointer, sourceMap);
    problems.push(
      ...wrong.map((problem) => ({
        ...problem,
        fix: `the recipe's default is wrong: fix it there, or set the param under with:; ${problem.fix}`,
      })),
    );
    if (wrong.length === 0) values.set(declaration.name, { value: declaration.schema.default, from: pointer });
  }
  return { values, unset };
}

/**
 * A required param left unset, located at the pipeline's `extends:` (where the recipe comes in and
 * where the user adds `with:`), or at the declaration when the pipeline declares it itself.
 */
async function unsetProblems(unset: readonly Declaration[], resolved: ResolvedDocument, sourceMap: SourceMap): Promise<Problem[]> {
  if (unset.length === 0) return [];
  const pipelineFile = resolved.sourceFiles[0]!;
  // resolveExtends drops `/extends` from the merged positions; this error path reads it again.
  const extendsLine = await readYamlFile(pipelineFile, pipelineLimits).then(
    (pipeline) => pipeline.sourceMap.get('/extends')?.value,
    // Gone since it was read: the declaration is the place left to point at.
    () => undefined,
  );
  return unset.map((declaration) => {
    const declarationPointer = childPointer('/params', declaration.name);
    const declaredAt = locate(sourceMap, declarationPointer, true);
    const declaredHere = declaredAt === undefined || path.resolve(declaredAt.file) === pipelineFile;
    const description = typeof declaration.schema.description === 'string' ? ` (${declaration.schema.description})` : '';
    return {
      ...(declaredHere || !extendsLine ? declaredAt : extendsLine),
      pointer: childPointer('/with', declaration.name),
      message: `the recipe ${recipeName(declaredAt?.file, resolved.recipeSources)} requires the param "${declaration.name}", and nothing sets it`,
      fix: `add "${declaration.name}: ${placeholder(declaration.schema)}" under with: in ${displayPath(pipelineFile)}${description}${declaredHere ? ', or give the param a default' : ''}`,
    };
  });
}

/** What is wrong with writing a list, a mapping or null inside a longer text. */
function notTextProblem(name: string, value: unknown): { message: string; fix: string } {
  return {
    message: `\${params.${name}} is ${Array.isArray(value) ? 'a list' : value === null ? 'null' : 'a mapping'}, which cannot be written inside text`,
    fix: `use it as a whole value (key: \${params.${name}}), or declare the param as a string, number or boolean`,
  };
}

/**
 * Positions of each param value's subtree, by the pointer it was written at (`/with/NAME`,
 * `/params/NAME/default`), relative to it: one pass over the map, so that filling a value in costs
 * its size, not the document's.
 */
function valuePositions(sourceMap: SourceMap, values: ReadonlyMap<string, ParamValue>): Map<string, [string, NodeLocation][]> {
  const roots = new Set([...values.values()].map((value) => value.from));
  const positions = new Map<string, [string, NodeLocation][]>([...roots].map((root) => [root, []]));
  for (const [pointer, location] of sourceMap) {
    const segments = pointer.split('/');
    const root = segments[1] === 'with' ? segments.slice(0, 3).join('/') : segments[1] === 'params' ? segments.slice(0, 4).join('/') : '';
    if (root !== '' && roots.has(root)) positions.get(root)!.push([pointer.slice(root.length), location]);
  }
  return positions;
}

/**
 * Replaces each `${params.NAME}` in the document's strings (not in `params` or `with`): a string that
 * is exactly one reference becomes the value itself (a number, a list, a mapping), with the
 * positions of where the value was written; inside a longer string a scalar value is written as
 * text, and the string keeps its own position unless it starts with the reference (a path
 * `${params.data_folder}/train.jsonl` is anchored where the folder was written). Values are filled
 * in, never read for references again, and the document may not grow past the pipeline's limit.
 */
function fillReferences(
  document: Record<string, unknown>,
  declarations: ReadonlyMap<string, Declaration>,
  values: ReadonlyMap<string, ParamValue>,
  sourceMap: SourceMap,
  problems: Problem[],
): Record<string, unknown> {
  const positions = valuePositions(sourceMap, values);
  let nodes = countNodes(document);
  let tooLarge = false;
  const place = (pointer: string, from: string): void => {
    for (const [suffix, location] of positions.get(from) ?? []) sourceMap.set(pointer + suffix, location);
  };
  const undeclared = (name: string, pointer: string): void => {
    problems.push({
      ...locate(sourceMap, pointer),
      pointer,
      message: paramName.test(name) ? `\${params.${name}} names no declared param` : `"\${params.${name}}" is not a param reference`,
      fix: declaredParamsFix(name, declarations),
    });
  };
  const fillString = (text: string, pointer: string): unknown => {
    const whole = /^\$\{params\.([^}]*)\}$/.exec(text);
    if (whole) {
      const name = whole[1]!;
      if (!declarations.has(name)) undeclared(name, pointer);
      const given = values.get(name);
      // A declared param without a value was reported where it is set or declared.
      if (!given) return text;
      nodes += countNodes(given.value) - 1;
      if (nodes > pipelineLimits.maxNodes) {
        if (!tooLarge) {
          problems.push({
            ...locate(sourceMap, pointer),
            pointer,
            message: `filling in \${params.${name}} takes the pipeline past ${pipelineLimits.maxNodes} keys and values`,
            fix: 'refer to a large value once, or keep data in files named by path',
          });
        }
        tooLarge = true;
        return text;
      }
      sourceMap.delete(pointer);
      place(pointer, given.from);
      return structuredClone(given.value);
    }
    let leading: string | undefined;
    const filled = text.replace(referencePattern, (reference: string, name: string | undefined, offset: number) => {
      if (name === undefined) return reference;
      if (!declarations.has(name)) {
        undeclared(name, pointer);
        return reference;
      }
      const given = values.get(name);
      if (!given) return reference;
      if (!['string', 'number', 'boolean'].includes(typeof given.value)) {
        problems.push({ ...locate(sourceMap, pointer), pointer, ...notTextProblem(name, given.value) });
        return reference;
      }
      if (offset === 0) leading = given.from;
      return String(given.value);
    });
    if (leading !== undefined) {
      const location = positions.get(leading)?.find(([suffix]) => suffix === '')?.[1];
      if (location) sourceMap.set(pointer, location);
    }
    return filled;
  };
  const walk = (node: unknown, pointer: string): unknown => {
    if (typeof node === 'string') return node.includes('${params.') ? fillString(node, pointer) : node;
    if (Array.isArray(node)) return node.map((item, index) => walk(item, childPointer(pointer, index)));
    if (isPlainObject(node))
      return Object.fromEntries(Object.entries(node).map(([key, item]) => [key, walk(item, childPointer(pointer, key))]));
    return node;
  };
  const result: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(document)) {
    if (key !== 'params' && key !== 'with') result[key] = walk(item, childPointer('', key));
  }
  return result;
}

/**
 * Applies recipe params to a document that `resolveExtends` merged: reads the declarations
 * (`params:`, name → JSON Schema), checks each value set under `with:` against its schema, takes
 * defaults for the others, and fills every `${params.NAME}` in. `params` and `with` are then
 * removed, as `extends` is, so schema validation sees a plain pipeline. A filled-in value keeps the
 * position where it was written (the `with:` entry, or the recipe's `default`): errors, the anchoring
 * of relative paths and `distill diff` all point there. Problems — a bad declaration, a value its
 * schema refuses, a `with:` key no recipe declares, a reference to an undeclared param, a required
 * param nothing sets (at the pipeline's `extends:`) — are each located with a fix.
 */
export async function applyRecipeParams(resolved: ResolvedDocument): Promise<ParamsApplied> {
  const sourceMap: SourceMap = new Map(resolved.sourceMap);
  if (!isPlainObject(resolved.value)) return { value: resolved.value, sourceMap, problems: [] };
  const document = resolved.value;
  const problems: Problem[] = [];
  const declarations = readDeclarations(document, sourceMap, problems);
  const { values, unset } = paramValues(document, declarations, sourceMap, problems);
  problems.push(...(await unsetProblems(unset, resolved, sourceMap)));
  const value = fillReferences(document, declarations, values, sourceMap, problems);
  for (const pointer of [...sourceMap.keys()]) {
    if (pointer === '/params' || pointer === '/with' || pointer.startsWith('/params/') || pointer.startsWith('/with/'))
      sourceMap.delete(pointer);
  }
  return { value, sourceMap, problems };
}
