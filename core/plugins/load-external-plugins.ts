import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Problem } from '../errors/problem.js';
import { UserError } from '../errors/user-error.js';
import type { AnyPluginDescriptor } from './plugin-descriptor.js';
import { descriptorProblems } from './validate-descriptor.js';

/** Where an external plugin reference appears, for error locations. */
export interface PluginReference {
  /** As written in the pipeline: `./my-teacher.js` or an npm package name. */
  readonly specifier: string;
  /** Folder that relative specifiers and package lookups resolve from. */
  readonly baseDirectory: string;
  /** Position of the reference in the pipeline, copied into problems. */
  readonly location?: Pick<Problem, 'file' | 'line' | 'column' | 'pointer'>;
}

function isPathSpecifier(specifier: string): boolean {
  return specifier.startsWith('./') || specifier.startsWith('../') || path.isAbsolute(specifier);
}

/**
 * Imports external plugins named in a pipeline's `plugins:` list. A module's default export (or,
 * failing that, its `plugins` export) may be one descriptor or an array of them. Every problem with
 * every reference is collected before throwing one {@link UserError}.
 */
export async function loadExternalPlugins(references: readonly PluginReference[]): Promise<AnyPluginDescriptor[]> {
  const descriptors: AnyPluginDescriptor[] = [];
  const problems: Problem[] = [];
  for (const reference of references) {
    const { specifier, baseDirectory, location } = reference;
    let url: string;
    if (isPathSpecifier(specifier)) {
      const file = path.resolve(baseDirectory, specifier);
      if (!existsSync(file)) {
        problems.push({ ...location, message: `plugin file not found: ${file}`, fix: 'check the path; it is relative to the pipeline file' });
        continue;
      }
      url = pathToFileURL(file).href;
    } else {
      try {
        url = pathToFileURL(createRequire(path.join(baseDirectory, 'noop.js')).resolve(specifier)).href;
      } catch {
        problems.push({ ...location, message: `plugin package "${specifier}" is not installed`, fix: `npm install ${specifier}` });
        continue;
      }
    }
    let module: Record<string, unknown>;
    try {
      module = (await import(url)) as Record<string, unknown>;
    } catch (error) {
      problems.push({ ...location, message: `plugin "${specifier}" failed to load: ${(error as Error).message}` });
      continue;
    }
    const exported = module.default ?? module.plugins;
    const candidates = Array.isArray(exported) ? exported : [exported];
    for (const candidate of candidates) {
      const found = descriptorProblems(candidate, `plugin "${specifier}"`);
      if (found.length > 0) problems.push(...found.map((problem) => ({ ...problem, ...location })));
      else descriptors.push(candidate as AnyPluginDescriptor);
    }
  }
  if (problems.length > 0) throw new UserError(problems);
  return descriptors;
}
