import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { unreadablePath } from '../config/read-limited-file.js';
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
 * How long importing one plugin module may take. Importing runs the module's top level, which
 * should only define things: real work belongs in `create`. Ten seconds is far above what loading
 * a plugin and its dependencies from disk takes, and short enough that `distill validate` on a
 * pipeline with a stuck plugin ends with a message rather than seeming to hang.
 */
export const pluginImportTimeoutMilliseconds = 10_000;

/** File extensions loaded as TypeScript (through jiti) rather than by Node's own `import`. */
const typeScriptExtensions = new Set(['.ts', '.mts', '.cts']);

/**
 * Imports a module: JavaScript with Node's own `import`, TypeScript through jiti, which strips the
 * types in memory (Node 20 cannot import `.ts`: "Unknown file extension"). jiti is imported only
 * when a TypeScript plugin is named, and its file cache is off: it would write transpiled copies
 * into `node_modules/.cache`, which may be shared or read-only.
 */
async function importModule(url: string): Promise<unknown> {
  const file = url.startsWith('file:') ? fileURLToPath(url) : url;
  if (!typeScriptExtensions.has(path.extname(file).toLowerCase())) return import(url);
  const { createJiti } = await import('jiti');
  try {
    return await createJiti(import.meta.url, { fsCache: false }).import(file);
  } catch (error) {
    // jiti reports a syntax error as `ParseError: what \n file:line:col`; one line reads better in a problem.
    const parsed = error instanceof Error ? /^ParseError: (.*?)\s*\n\s*(\S+:\d+:\d+)\s*$/s.exec(error.message) : null;
    if (parsed) throw new Error(`syntax error at ${parsed[2]!}: ${parsed[1]!}`, { cause: error });
    throw error;
  }
}

/** Thrown by the stand-in for `process.exit` while a plugin is being imported. */
class ExitRefused extends Error {
  constructor(code: string) {
    super(`process.exit(${code}) was refused: a plugin was being imported`);
  }
}

/** Thrown when an import has not settled in time. */
class ImportTimedOut extends Error {}

// Modules whose import timed out: importing them again would wait on the same unsettled import.
const timedOut = new Set<string>();

/**
 * Imports a plugin module under guard, returning the module or what went wrong, in words. While it
 * loads, `process.exit` throws instead of ending the process (a plugin that exits on import would
 * otherwise end `distill validate` with status 0 and no output, as if the pipeline were valid);
 * a call that the plugin catches is still reported. The import must settle within
 * {@link pluginImportTimeoutMilliseconds}: the timer also keeps the event loop alive, without which
 * Node ends the process by itself (status 13) when a top-level await never settles. `process.exit`
 * is restored as soon as the import settles or times out.
 */
async function importPlugin(url: string): Promise<{ module: Record<string, unknown> } | { failure: string; fix?: string }> {
  if (timedOut.has(url)) return { failure: 'did not finish loading (it timed out before)' };
  // eslint-disable-next-line @typescript-eslint/unbound-method -- kept only to be put back on `process`, never called detached
  const exit = process.exit;
  let exitCode: string | undefined;
  process.exit = (code?: string | number | null) => {
    exitCode = String(code ?? '');
    throw new ExitRefused(exitCode);
  };
  let timer: NodeJS.Timeout | undefined;
  let settled: { module: Record<string, unknown> } | { error: unknown };
  try {
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new ImportTimedOut()), pluginImportTimeoutMilliseconds);
    });
    settled = { module: (await Promise.race([importModule(url), deadline])) as Record<string, unknown> };
  } catch (error) {
    settled = { error };
  } finally {
    clearTimeout(timer);
    process.exit = exit;
  }
  // The exit call is what went wrong, whether or not the plugin caught the refusal.
  if (exitCode !== undefined) {
    return {
      failure: `called process.exit(${exitCode}) while being imported`,
      fix: 'a plugin must not end the process; throw an error instead, and distill reports it',
    };
  }
  if ('module' in settled) return settled;
  if (settled.error instanceof ImportTimedOut) {
    timedOut.add(url);
    return {
      failure: `did not finish loading within ${pluginImportTimeoutMilliseconds / 1000} s`,
      fix: 'a plugin module must not wait at its top level (such as a top-level await that never settles); do the work in create()',
    };
  }
  return { failure: `failed to load: ${settled.error instanceof Error ? settled.error.message : String(settled.error)}` };
}

/**
 * Imports external plugins named in a pipeline's `plugins:` list. A module's default export (or,
 * failing that, its `plugins` export) may be one descriptor or an array of them; `.ts`, `.mts` and
 * `.cts` files are TypeScript, loaded with their types stripped. A module that
 * throws or rejects, calls `process.exit` or does not finish loading in time is a problem at its
 * reference. Every problem with every reference is collected before throwing one {@link UserError}.
 */
export async function loadExternalPlugins(references: readonly PluginReference[]): Promise<AnyPluginDescriptor[]> {
  const descriptors: AnyPluginDescriptor[] = [];
  const problems: Problem[] = [];
  for (const reference of references) {
    const { specifier, baseDirectory, location } = reference;
    let url: string;
    if (isPathSpecifier(specifier)) {
      const file = path.resolve(baseDirectory, specifier);
      // Only stat: importing a FIFO would leave a read pending that keeps the process alive.
      const unreadable = await unreadablePath(file);
      if (unreadable?.missing) {
        problems.push({
          ...location,
          message: `plugin file not found: ${file}`,
          fix: 'check the path; it is relative to the pipeline file',
        });
        continue;
      }
      if (unreadable) {
        problems.push({
          ...location,
          message: `cannot load plugin ${file}: ${unreadable.reason}`,
          fix: 'name a JavaScript or TypeScript module file; the path is relative to the pipeline file',
        });
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
    const imported = await importPlugin(url);
    if ('failure' in imported) {
      problems.push({ ...location, message: `plugin "${specifier}" ${imported.failure}`, ...(imported.fix ? { fix: imported.fix } : {}) });
      continue;
    }
    const exported = imported.module.default ?? imported.module.plugins;
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
