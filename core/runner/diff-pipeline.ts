import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { diffDocuments, formatChanges, type ConfigChange } from '../config/config-diff.js';
import { interpolateString, type Environment } from '../config/interpolate-environment.js';
import { loadPipeline, resolvePipelineDocument, type ResolvedPipelineDocument } from '../config/load-pipeline.js';
import { isPlainObject } from '../config/merge-documents.js';
import { pipelineSchema } from '../config/pipeline-schema.js';
import { redactedMarker } from '../config/redact.js';
import type { PackageFolder } from '../config/recipe-package.js';
import { displayPath, locate } from '../config/source-map.js';
import { UserError, isUserError } from '../errors/user-error.js';
import type { PluginRegistry } from '../plugins/plugin-registry.js';
import { lockfileName, packageNamePattern, readLockfileRecipes } from './recipe-lock.js';
import { availableSnapshots, lockedSnapshotFolders } from './recipe-snapshots.js';

/** A recipe package at a version, as a diff names its sides. */
export interface RecipeVersion {
  readonly package: string;
  readonly version: string;
}

/** Options of {@link diffPipeline}. */
export interface PipelineDiffOptions {
  /**
   * What to compare with: a `distill.lock.json`, a run folder, or a version (`1.0.0`,
   * `@acme/recipes@1.0.0`) among the run folder's snapshots. Default: the run folder's lockfile.
   */
  readonly against?: string;
  /** Variables for `${VAR}` in `extends`, `name` and `output.directory` (default `process.env`). */
  readonly environment?: Environment;
  /**
   * Plugins, to learn which option values their schemas mark secret: the current pipeline is loaded
   * with them when it is valid. Credential-named keys are redacted either way.
   */
  readonly registry?: PluginRegistry;
}

/** What `distill diff` found. */
export interface PipelineDiff {
  /** The pipeline file, as shown. */
  readonly pipeline: string;
  /** The old side: the lockfile it came from (null for `--against <version>`) and the package versions read from snapshots. */
  readonly against: { readonly lockfile: string | null; readonly recipes: readonly RecipeVersion[] };
  /** The package versions the pipeline inherits from now (installed). */
  readonly current: readonly RecipeVersion[];
  /** Packages the pipeline inherits from now that the old side has no snapshot of: read as installed on both sides. */
  readonly unpinned: readonly string[];
  /** Every difference, old side to new side; empty when the configurations are equal. */
  readonly changes: readonly ConfigChange[];
}

// `1.0.0` or `@acme/recipes@1.0.0`: a version (semver's shape) with an optional package name before it.
const versionSpecifier = new RegExp(
  `^(?:(?<name>${packageNamePattern.source.slice(1, -1)})@)?(?<version>\\d+\\.\\d+\\.\\d+[0-9A-Za-z.+-]*)$`,
);

/** `<output.directory>/<name>` of a resolved pipeline, as `runDirectoryOf` finds it once loaded. */
function runDirectory(file: string, resolved: ResolvedPipelineDocument, environment: Environment): string {
  const document = isPlainObject(resolved.value) ? resolved.value : {};
  const output = isPlainObject(document.output) ? document.output : {};
  const schemaDefault = (pipelineSchema().properties as Record<string, { properties: Record<string, { default: string }> }>).output!
    .properties.directory!.default;
  const fill = (pointer: string, value: unknown): string => {
    const filled = typeof value === 'string' ? interpolateString(value, environment) : undefined;
    if (filled && filled.problems.length === 0) return filled.text;
    throw new UserError({
      ...(locate(resolved.sourceMap, pointer) ?? { file: displayPath(file) }),
      pointer,
      message: filled ? filled.problems[0]!.message : `the pipeline has no ${pointer.slice(1).replace('/', '.')}, so it has no run folder`,
      fix: 'fix the pipeline (`distill validate`), or name what to compare with: --against <distill.lock.json | run folder>',
    });
  };
  return path.resolve(path.dirname(file), fill('/output/directory', output.directory ?? schemaDefault), fill('/name', document.name));
}

/** The versions of the packages a resolution read, one per package, nearest first. */
function recipeVersions(resolved: ResolvedPipelineDocument): RecipeVersion[] {
  const versions = new Map<string, string>();
  for (const source of resolved.recipeSources)
    if (!versions.has(source.packageName)) versions.set(source.packageName, source.packageVersion);
  return [...versions].map(([name, version]) => ({ package: name, version }));
}

/** The old side's package folders and the lockfile they come from, as `--against` names them. */
async function againstFolders(
  file: string,
  current: ResolvedPipelineDocument,
  against: string | undefined,
  environment: Environment,
): Promise<{ lockfile: string | null; folders: Map<string, PackageFolder> }> {
  let lockfile: string | undefined;
  if (against === undefined) lockfile = path.join(runDirectory(file, current, environment), lockfileName);
  else if (existsSync(against)) lockfile = (await stat(against)).isDirectory() ? path.join(against, lockfileName) : against;
  if (lockfile !== undefined) {
    const absolute = path.resolve(lockfile);
    const recipes = await readLockfileRecipes(absolute);
    if (recipes === null) {
      throw new UserError({
        file: displayPath(absolute),
        message: `no lockfile at ${displayPath(absolute)}`,
        fix: 'run the pipeline once to write its lockfile, or name another with --against <distill.lock.json | run folder | version>',
      });
    }
    const locked = { lockfile: absolute, runDirectory: path.dirname(absolute), recipes };
    return { lockfile: absolute, folders: await lockedSnapshotFolders(locked) };
  }
  const match = versionSpecifier.exec(against!);
  if (!match) {
    throw new UserError({
      message: `--against ${JSON.stringify(against)} is no lockfile, run folder or version: no such file or folder, and not a version`,
      fix: 'name a distill.lock.json, a run folder, or a version among the run folder’s snapshots (1.0.0 or @acme/recipes@1.0.0)',
    });
  }
  const { name: named, version } = match.groups as { name?: string; version: string };
  const run = runDirectory(file, current, environment);
  const inherited = recipeVersions(current).map((entry) => entry.package);
  if (named !== undefined && !inherited.includes(named)) {
    throw new UserError({
      file: displayPath(file),
      message: `the pipeline inherits nothing from ${named}`,
      fix:
        inherited.length > 0
          ? `name one of the packages it inherits from: ${inherited.join(', ')}`
          : 'it extends no recipe package; compare with a lockfile (--against)',
    });
  }
  const folders = new Map<string, PackageFolder>();
  for (const name of named !== undefined ? [named] : inherited) {
    const folder = path.join(run, 'recipes', `${name}@${version}`);
    if (existsSync(folder)) folders.set(name, { folder, version });
  }
  if (folders.size === 0) {
    const available = await availableSnapshots(run);
    throw new UserError({
      message: `the run folder ${displayPath(run)} has no snapshot of ${named ?? (inherited.join(' or ') || 'a recipe package')} at version ${version}`,
      fix:
        available.length > 0
          ? `name one it has: ${available.join(', ')}`
          : 'it holds no snapshots: run the pipeline with that version first, or compare with a lockfile',
    });
  }
  if (folders.size > 1) {
    throw new UserError({
      message: `version ${version} is a snapshot of more than one package: ${[...folders.keys()].join(', ')}`,
      fix: `name the package: --against ${[...folders.keys()][0]}@${version}`,
    });
  }
  return { lockfile: null, folders };
}

/** How the old side names a file of a snapshot folder: `<package>@<version>/<path inside the package>`. */
function snapshotLabel(folders: ReadonlyMap<string, PackageFolder>): (file: string) => string {
  const prefixes = [...folders].map(([name, { folder, version }]) => ({
    prefix: displayPath(folder) + path.sep,
    label: `${name}@${version}/`,
  }));
  return (file) => {
    const found = prefixes.find(({ prefix }) => file.startsWith(prefix));
    return found ? found.label + file.slice(found.prefix.length).split(path.sep).join('/') : file;
  };
}

/**
 * Secret values as the plugins' schemas mark them: the current pipeline is loaded (when it is valid)
 * for its secrets and for where they are (the pointers its redacted form blanks), and the values at
 * those pointers on both sides are secrets too, so an old key that only the snapshot holds is not
 * printed either. An invalid pipeline yields none: the credential-named keys are still redacted.
 */
async function schemaSecrets(
  file: string,
  registry: PluginRegistry | undefined,
  environment: Environment,
  documents: readonly unknown[],
): Promise<string[]> {
  if (!registry) return [];
  let loaded;
  try {
    loaded = await loadPipeline(file, { registry, environment });
  } catch (error) {
    // An invalid pipeline can still be compared (that is often when one wants to); `validate` says what is wrong.
    if (isUserError(error)) return [];
    throw error;
  }
  const secrets = [...loaded.secrets];
  const visit = (redacted: unknown, values: readonly unknown[]): void => {
    if (redacted === redactedMarker) {
      for (const value of values) if (typeof value === 'string') secrets.push(value);
    } else if (Array.isArray(redacted) || isPlainObject(redacted)) {
      for (const [key, child] of Object.entries(redacted)) {
        visit(
          child,
          values.map((value) => (Array.isArray(value) || isPlainObject(value) ? (value as Record<string, unknown>)[key] : undefined)),
        );
      }
    }
  };
  visit(loaded.redactedConfig, documents);
  return secrets;
}

/**
 * Compares a pipeline's configuration now with the one it had (see {@link PipelineDiffOptions.against}):
 * the old side is the same pipeline resolved with each recipe package read from the run's snapshot of
 * the version it ran with, so the changes shown are those of the recipes. Each change carries the
 * source of both sides, snapshots named `<package>@<version>/<recipe>`. A pipeline that does not
 * resolve, a missing or malformed lockfile, a missing or altered snapshot, or an unknown version is a
 * {@link UserError}.
 */
export async function diffPipeline(file: string, options: PipelineDiffOptions = {}): Promise<PipelineDiff> {
  const absolute = path.resolve(file);
  const environment = options.environment ?? process.env;
  if (!existsSync(absolute)) {
    throw new UserError({
      file: displayPath(absolute),
      message: `pipeline file not found: ${displayPath(absolute)}`,
      fix: 'check the path',
    });
  }
  const current = await resolvePipelineDocument(absolute, environment);
  const { lockfile, folders } = await againstFolders(absolute, current, options.against, environment);
  const old = await resolvePipelineDocument(absolute, environment, { packageFolders: folders });
  const secrets = await schemaSecrets(absolute, options.registry, environment, [old.value, current.value]);
  const currentVersions = recipeVersions(current);
  return {
    pipeline: displayPath(absolute),
    against: {
      lockfile: lockfile === null ? null : displayPath(lockfile),
      recipes: [...folders].map(([name, { version }]) => ({ package: name, version })),
    },
    current: currentVersions,
    unpinned: currentVersions.map((entry) => entry.package).filter((name) => !folders.has(name)),
    changes: diffDocuments(old, current, { secrets, beforeFileLabel: snapshotLabel(folders) }),
  };
}

/** Package versions as one phrase: `@acme/recipes@1.0.0, acme-base@2.0.0`, or `no recipe package`. */
function versionsText(versions: readonly RecipeVersion[]): string {
  return versions.length > 0 ? versions.map((entry) => `${entry.package}@${entry.version}`).join(', ') : 'no recipe package';
}

/** The text `distill diff` prints: what is compared, one line per change with its sources, and a count. */
export function formatPipelineDiff(diff: PipelineDiff): string {
  const old = diff.against.lockfile === null ? 'snapshot' : `run of ${diff.against.lockfile}`;
  const lines = [`${diff.pipeline}: ${old} (${versionsText(diff.against.recipes)}) → installed (${versionsText(diff.current)})`];
  for (const name of diff.unpinned) lines.push(`note: ${name} has no snapshot there; it is read as installed on both sides`);
  if (diff.changes.length > 0) lines.push(formatChanges(diff.changes));
  lines.push(diff.changes.length === 0 ? 'no changes' : `${diff.changes.length} change${diff.changes.length === 1 ? '' : 's'}`);
  return lines.join('\n');
}
