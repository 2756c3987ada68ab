import path from 'node:path';
import type { Problem } from '../errors/problem.js';
import { interpolateString } from './interpolate-environment.js';
import { isPlainObject, mergeDocuments, type LocatedDocument } from './merge-documents.js';
import { noUsage, pipelineLimits, type PipelineUsage } from './pipeline-limits.js';
import { unreadablePath } from './read-limited-file.js';
import { readYamlFile } from './read-yaml-file.js';
import {
  isPackageSpecifier,
  resolveRecipeSpecifier,
  samePackageSource,
  type RecipeResolverOptions,
  type RecipeSource,
} from './recipe-package.js';
import { displayPath, locate } from './source-map.js';

/** A pipeline file with its `extends` chain merged in. */
export interface ResolvedDocument extends LocatedDocument {
  /** Every YAML file read, the pipeline first, then what it extends, in order. */
  readonly sourceFiles: string[];
  /** The files of the chain that came from installed recipe packages, nearest first. */
  readonly recipeSources: RecipeSource[];
  /** Syntax errors, broken or cyclic `extends`; when any is present the value is not usable. */
  readonly problems: Problem[];
}

/**
 * Reads a pipeline file and, recursively, the files it `extends` (paths relative to the file that
 * names them, or a recipe of an installed package: `@acme/recipes/nli.yaml`, see
 * `resolveRecipeSpecifier`; `${VAR}` allowed), merging each child over its parent. A cycle, a missing file, a
 * path that is not a regular file (a folder, a device, a FIFO, `""`), a chain longer than
 * {@link pipelineLimits} allow or a syntax error anywhere in the chain is reported at the place
 * that caused it. The limits on bytes and on keys and values hold for the chain as a whole: `usage`
 * is what the files that extend this one (`chain`) have used of them. `options` can read packages
 * from other folders (a run's snapshots, see `RecipeResolverOptions`). `fromPackage` is the recipe
 * package `file` belongs to, if any: a file it extends inside that package is a recipe source too.
 */
export async function resolveExtends(
  file: string,
  environment: Readonly<Record<string, string | undefined>>,
  chain: readonly string[] = [],
  usage: PipelineUsage = noUsage,
  options: RecipeResolverOptions = {},
  fromPackage?: RecipeSource,
): Promise<ResolvedDocument> {
  const sourceFiles = [file];
  const recipeSources: RecipeSource[] = [];
  let yamlFile;
  try {
    yamlFile = await readYamlFile(file, pipelineLimits, usage);
  } catch (error) {
    // readYamlFile says in words what a path that is not a regular file is.
    const reason = (error as NodeJS.ErrnoException).code === 'EISDIR' ? 'it is a folder' : (error as Error).message;
    return {
      value: undefined,
      sourceMap: new Map(),
      sourceFiles,
      recipeSources,
      problems: [{ file: displayPath(file), message: `cannot read ${displayPath(file)}: ${reason}`, fix: 'name a pipeline YAML file' }],
    };
  }
  if (yamlFile.problems.length > 0)
    return { value: undefined, sourceMap: yamlFile.sourceMap, sourceFiles, recipeSources, problems: [...yamlFile.problems] };
  const own: LocatedDocument = { value: yamlFile.value, sourceMap: yamlFile.sourceMap };
  if (!isPlainObject(own.value) || typeof own.value.extends !== 'string') {
    return { ...own, sourceFiles, recipeSources, problems: [] };
  }

  const position = locate(own.sourceMap, '/extends');
  const where = { ...position, pointer: '/extends' };
  const interpolated = interpolateString(own.value.extends, environment);
  if (interpolated.problems.length > 0) {
    return { ...own, sourceFiles, recipeSources, problems: interpolated.problems.map((problem) => ({ ...where, ...problem })) };
  }
  const target = await extendsTarget(file, chain, interpolated.text, options);
  if ('problem' in target) return { ...own, sourceFiles, recipeSources, problems: [{ ...where, ...target.problem }] };
  const parentFile = target.file;
  const parentSource = target.source ?? samePackageSource(fromPackage, parentFile);
  if (parentSource) recipeSources.push(parentSource);
  const parent = await resolveExtends(parentFile, environment, [...chain, file], yamlFile.usage, options, parentSource);
  sourceFiles.push(...parent.sourceFiles);
  recipeSources.push(...parent.recipeSources);
  if (parent.problems.length > 0) return { ...own, sourceFiles, recipeSources, problems: parent.problems };
  if (!isPlainObject(parent.value)) {
    const problem = {
      message: `extended file ${displayPath(parentFile)} must hold a mapping of pipeline keys`,
      fix: 'extend a pipeline or recipe file',
    };
    return { ...own, sourceFiles, recipeSources, problems: [{ ...where, ...problem }] };
  }
  const merged = mergeDocuments(parent, own);
  // `extends` has done its work; the merged pipeline no longer names it.
  const value = { ...(merged.value as Record<string, unknown>) };
  delete value.extends;
  for (const entry of [...merged.sourceMap.keys()]) if (entry === '/extends') merged.sourceMap.delete(entry);
  return { value, sourceMap: merged.sourceMap, sourceFiles, recipeSources, problems: [] };
}

/**
 * The file `extends` names (`text`, filled), or what is wrong with it: nothing named, a cycle, a chain
 * longer than {@link pipelineLimits} allow, a missing file or one that is not a regular file.
 */
async function extendsTarget(
  file: string,
  chain: readonly string[],
  text: string,
  options: RecipeResolverOptions,
): Promise<{ file: string; source?: RecipeSource } | { problem: { message: string; fix: string } }> {
  if (text.trim() === '') {
    return {
      problem: {
        message: 'extends names no file: the value is empty',
        fix: 'name the pipeline or recipe file to extend (relative to this file), or remove `extends`',
      },
    };
  }
  let parentFile = path.resolve(path.dirname(file), text);
  let source: RecipeSource | undefined;
  // A package's recipe (`@acme/recipes/nli.yaml`), unless this project has a file of that name, as
  // `extends: shared/base.yaml` has always meant.
  if (isPackageSpecifier(text) && (await unreadablePath(parentFile))?.missing === true) {
    const resolution = await resolveRecipeSpecifier(file, text, options);
    if ('problem' in resolution) return resolution;
    parentFile = resolution.file;
    source = resolution.source;
  }
  if ([...chain, file].includes(parentFile)) {
    const cycle = [...chain, file, parentFile].slice([...chain, file].indexOf(parentFile)).map(displayPath);
    return {
      problem: {
        message: `extends cycle: ${cycle.join(' → ')}`,
        fix: 'remove the `extends` that leads back to a file already in the chain',
      },
    };
  }
  if (chain.length + 2 > pipelineLimits.maxExtendsChain) {
    return {
      problem: {
        message: `extends chain longer than ${pipelineLimits.maxExtendsChain} files`,
        fix: 'extend a file that holds what the files further up the chain add',
      },
    };
  }
  // Only stat: a FIFO named here would block the read until something writes to it.
  const unreadable = await unreadablePath(parentFile);
  if (!unreadable) return { file: parentFile, ...(source ? { source } : {}) };
  if (unreadable.missing) {
    return {
      problem: {
        message: `extended file not found: ${displayPath(parentFile)}`,
        fix: 'check the path; it is relative to the file that names it',
      },
    };
  }
  return {
    problem: {
      message: `cannot extend ${displayPath(parentFile)}: ${unreadable.reason}`,
      fix: 'name a pipeline or recipe YAML file; the path is relative to the file that names it',
    },
  };
}
