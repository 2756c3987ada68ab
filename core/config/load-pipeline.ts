import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Problem } from '../errors/problem.js';
import { sortProblems } from '../errors/sort-problems.js';
import { UserError } from '../errors/user-error.js';
import type { PluginRegistry } from '../plugins/plugin-registry.js';
import { anchorEnvironmentPaths } from './anchor-environment-paths.js';
import { applyOverrides, locateOverrideProblems, type PipelineOverride } from './apply-overrides.js';
import type { LoadedEnvironmentFile } from './environment-file.js';
import { interpolateDocument, type Environment } from './interpolate-environment.js';
import { isPlainObject, type LocatedDocument } from './merge-documents.js';
import type { PipelineConfig } from './pipeline-config.js';
import { addPipelineDefaults } from './pipeline-defaults.js';
import { pipelinePluginRegistry } from './pipeline-plugin-registry.js';
import { noUsage } from './pipeline-limits.js';
import { pipelineShapeValidator } from './pipeline-schema.js';
import type { RecipeResolverOptions, RecipeSource } from './recipe-package.js';
import { applyRecipeParams } from './recipe-params.js';
import { redactedMarker, redactSecrets, registerSecrets } from './redact.js';
import { requirementProblems, type RequirementProblem } from './requirement-problems.js';
import { resolveExtends, type ResolvedDocument } from './resolve-extends.js';
import { schemaProblems } from './schema-problems.js';
import { displayPath, locate, type SourceMap } from './source-map.js';
import { batchModeProblems } from './batch-mode-problems.js';
import { evaluationProblems } from './evaluation-problems.js';
import { studentProblems } from './student-problems.js';
import { stepKindAt, validateStepOptions } from './validate-step-options.js';

/** A pipeline read, merged, filled and validated: what a run starts from. */
export interface LoadedPipeline {
  /** Absolute path of the pipeline file. */
  readonly file: string;
  /** Its folder; relative paths in the pipeline resolve against it. */
  readonly baseDirectory: string;
  /** The validated configuration, `extends` merged, `${ENV}` filled, defaults applied. */
  readonly config: PipelineConfig;
  /** The same with every secret replaced by `[redacted]`: the form to print or write. */
  readonly redactedConfig: unknown;
  /** Secret values, for {@link redactText} on log lines and messages. */
  readonly secrets: readonly string[];
  /** Built-in plugins plus the pipeline's external ones. */
  readonly registry: PluginRegistry;
  /** Every YAML file read (absolute), the pipeline first, then what it extends. */
  readonly sourceFiles: readonly string[];
  /** The files of {@link sourceFiles} that came from installed recipe packages, nearest first (the lockfile pins them). */
  readonly recipeSources: readonly RecipeSource[];
  /**
   * What the plugins need from outside the file and do not have (an unset API key, a missing data
   * folder), when {@link LoadPipelineOptions.requirements} asked; else empty. The runner decides
   * which matter: a key is needed only when its stage runs.
   */
  readonly unmetRequirements: readonly RequirementProblem[];
  /** The `--set` overrides applied, in order (empty when none). */
  readonly overrides: readonly PipelineOverride[];
  /** The `.env` file the command read into the environment, if any (for the resolved config's header). */
  readonly environmentFile: LoadedEnvironmentFile | null;
}

/** Options of {@link loadPipeline}. */
export interface LoadPipelineOptions {
  /** Variables for `${VAR}` (default `process.env`). */
  readonly environment?: Environment;
  /**
   * Plugins to resolve `use` against before the pipeline's own, with the default steps of a
   * pipeline that leaves `loss` or `evaluators` out: the composition root's (the built-in registry
   * for the CLI and the library entry).
   */
  readonly registry: PluginRegistry;
  /**
   * Check the plugins' requirements too (see `PluginDescriptor.requirements`): what a run or a dry
   * run asks, so that an invalid pipeline's error also lists the unset keys and missing data, all at
   * once. `distill validate` leaves it off: a pipeline is valid without the key it will run with.
   */
  readonly requirements?: boolean;
  /** Folder relative paths from environment variables resolve against (default: the working directory). */
  readonly workingDirectory?: string;
  /**
   * `path.to.key=value` overrides (`--set`), applied in order after `extends`, variables and default
   * steps, before validation: see {@link applyOverrides}.
   */
  readonly overrides?: readonly string[];
  /** The `.env` file already read into `environment` (see `loadEnvironmentFile`), recorded with the run. */
  readonly environmentFile?: LoadedEnvironmentFile | null;
}

// Variables that SDKs read by themselves (OPENAI_API_KEY, …): their values are redacted too, even
// when the pipeline never names them.
const credentialName = /(^|_)(API_?KEY|KEY|TOKEN|SECRET|PASSWORD)$/i;
const minimumCredentialLength = 8;

/** Sets the value at a JSON pointer when it exists (used to blank secrets in a copy). */
function setAtPointer(target: unknown, pointer: string, value: unknown): void {
  const segments = pointer
    .split('/')
    .slice(1)
    .map((segment) => segment.replaceAll('~1', '/').replaceAll('~0', '~'));
  const last = segments.pop();
  let node = target as Record<string, unknown> | undefined;
  for (const segment of segments) node = node?.[segment] as Record<string, unknown> | undefined;
  if (node && last !== undefined && last in node) node[last] = value;
}

/**
 * What the schemas cannot say and needs a step's options valid (`problems` so far tell): the
 * evaluation block's fit with the export step, and batch mode's with the teacher plugin.
 */
function crossStepProblems(
  document: Record<string, unknown>,
  registry: PluginRegistry,
  sourceMap: SourceMap,
  problems: readonly Problem[],
): Problem[] {
  // The export step's options are read only once they are valid (with their defaults filled).
  const exportValid = !problems.some((problem) => problem.pointer === '/export' || problem.pointer?.startsWith('/export/'));
  return [...evaluationProblems(document, registry, sourceMap, exportValid), ...batchModeProblems(document, registry, sourceMap, problems)];
}

/** A pipeline file with its `extends` chain merged and its params filled in (see {@link resolvePipelineDocument}). */
export type ResolvedPipelineDocument = LocatedDocument & Pick<ResolvedDocument, 'sourceFiles' | 'recipeSources'>;

/**
 * The pipeline file with its `extends` chain merged and its recipes' params filled in, before any
 * schema default or `${VAR}` (other than in `extends`); what stops either is thrown. `options` reads
 * packages from other folders (`distill diff` rebuilds a run's configuration from its snapshots).
 */
export async function resolvePipelineDocument(
  file: string,
  environment: Environment,
  options: RecipeResolverOptions = {},
): Promise<ResolvedPipelineDocument> {
  const extended = await resolveExtends(file, environment, [], noUsage, options);
  if (extended.problems.length > 0) throw new UserError(sortProblems(extended.problems));
  // Params are filled in before anything reads the document, so that every later check sees (and
  // locates) a value where the user set it.
  const applied = await applyRecipeParams(extended);
  if (applied.problems.length > 0) throw new UserError(sortProblems(applied.problems));
  return { value: applied.value, sourceMap: applied.sourceMap, sourceFiles: extended.sourceFiles, recipeSources: extended.recipeSources };
}

/**
 * Reads a pipeline file and everything it extends, fills its recipes' params and `${VAR}`s, applies defaults and validates
 * in two phases: the shape against `schemas/pipeline.schema.json`, then each step's options against
 * its plugin's own schema (after the pipeline's external plugins are loaded). Every problem found —
 * syntax, unknown keys, wrong types, unknown plugins, unset variables, missing files — is collected
 * and thrown as one {@link UserError}, each located at `file:line:col` with its JSON pointer.
 */
export async function loadPipeline(file: string, options: LoadPipelineOptions): Promise<LoadedPipeline> {
  const absolute = path.resolve(file);
  const baseDirectory = path.dirname(absolute);
  const environment = options.environment ?? process.env;
  if (!existsSync(absolute)) {
    throw new UserError({
      file: displayPath(absolute),
      message: `pipeline file not found: ${displayPath(absolute)}`,
      fix: 'check the path, or create one with `distill init`',
    });
  }
  const resolved = await resolvePipelineDocument(absolute, environment);
  const { sourceMap, sourceFiles } = resolved;
  if (!isPlainObject(resolved.value)) {
    throw new UserError({
      ...(locate(sourceMap, '') ?? { file: displayPath(absolute), line: 1, column: 1 }),
      pointer: '',
      message: `a pipeline must be a mapping of keys, got ${resolved.value === null || resolved.value === undefined ? 'an empty document' : Array.isArray(resolved.value) ? 'a list' : typeof resolved.value}`,
      fix: 'start from `distill init`; a pipeline names at least name, dataset, teacher, prompt, parser, student and trainer',
    });
  }

  const problems: Problem[] = [];
  const requirementContext = { baseDirectory, workingDirectory: options.workingDirectory ?? process.cwd(), environment };
  const interpolated = interpolateDocument(resolved.value, sourceMap, environment);
  problems.push(...interpolated.problems);
  const document = interpolated.value as Record<string, unknown>;
  const undefaulted = addPipelineDefaults(document, options.registry.defaults);
  problems.push(...undefaulted.map((problem) => ({ ...(locate(sourceMap, '') ?? { file: displayPath(absolute) }), ...problem })));
  const overridden = applyOverrides(document, options.overrides ?? []);
  problems.push(...overridden.problems);

  // Phase one: the pipeline's shape.
  const validateShape = pipelineShapeValidator();
  const shapeProblems = validateShape(document) ? [] : schemaProblems(validateShape.errors, { pointerPrefix: '', sourceMap });
  // What the schema cannot express: that a student's config keys and prompt keys fit its family.
  shapeProblems.push(...studentProblems(document, sourceMap));
  const registry = await pipelinePluginRegistry(document, options.registry, baseDirectory, sourceMap, problems);
  for (const problem of shapeProblems) {
    const kind = problem.message === 'missing required key "use"' ? stepKindAt(problem.pointer ?? '') : undefined;
    problems.push(kind ? { ...problem, fix: `add "use" naming a ${kind} plugin; ${registry.unknownIdFix(kind, '')}` } : problem);
  }
  // When the external plugins could not all be loaded, ids they would have provided are unknown for
  // that reason alone: say nothing about ids until the plugins load.
  const pluginsBroken = problems.some((problem) => problem.pointer === '/plugins' || problem.pointer?.startsWith('/plugins/'));

  // Paths typed in a shell (a variable's value, a --set) are relative to where the user is.
  const typedInShell = new Set([...interpolated.fromEnvironment, ...overridden.overrides.map((override) => override.pointer)]);
  anchorEnvironmentPaths(document, registry, typedInShell, requirementContext.workingDirectory);
  // Phase two: each step's options against its plugin's schema.
  const stepOptions = validateStepOptions(document, registry, sourceMap, baseDirectory, pluginsBroken);
  problems.push(...stepOptions.problems);
  problems.push(...crossStepProblems(document, registry, sourceMap, problems));
  if (problems.length > 0) {
    // A value whose variable is unset was left as written; what the schemas say about that text
    // would only repeat the problem.
    const unfilled = new Set(interpolated.problems.map((problem) => problem.pointer));
    const reported = locateOverrideProblems(
      problems
        .filter((problem) => interpolated.problems.includes(problem) || !unfilled.has(problem.pointer))
        .map((problem) => withVariableFix(problem, interpolated.variablesAt, environment)),
      overridden.overrides,
    );
    const unmet = options.requirements ? requirementProblems(document, registry, requirementContext, sourceMap, problems) : [];
    throw new UserError(sortProblems([...reported, ...unmet.map(asProblem)]));
  }
  const unmetRequirements = options.requirements ? requirementProblems(document, registry, requirementContext, sourceMap) : [];

  // `x-` keys only hold YAML anchors; they have served their purpose once the document is read.
  const settings = Object.fromEntries(Object.entries(document).filter(([key]) => !key.startsWith('x-')));
  const secrets = stepOptions.secrets;
  for (const [name, value] of Object.entries(environment)) {
    if (credentialName.test(name) && value !== undefined && value.length >= minimumCredentialLength) secrets.add(value);
  }
  const secretList = [...secrets];
  // From here on every sink of the process (files of run folders, the terminal) replaces them.
  registerSecrets(secretList);
  const redacted = structuredClone(settings);
  for (const pointer of stepOptions.secretPointers) setAtPointer(redacted, pointer, redactedMarker);
  return {
    file: absolute,
    baseDirectory,
    config: settings as unknown as PipelineConfig,
    redactedConfig: redactSecrets(redacted, secretList),
    secrets: secretList,
    registry,
    sourceFiles,
    recipeSources: resolved.recipeSources,
    unmetRequirements,
    overrides: overridden.overrides,
    environmentFile: options.environmentFile ?? null,
  };
}

/** A requirement problem as the one error type carries it. */
export function asProblem(problem: RequirementProblem): Problem {
  const { message, file, line, column, pointer, plugin, fix } = problem;
  return { message, file, line, column, pointer, plugin, fix };
}

/**
 * A missing path whose value came from environment variables says which: the fix is then to set the
 * variable (a relative value resolving against the working directory), not to edit the pipeline.
 */
function withVariableFix(problem: Problem, variablesAt: ReadonlyMap<string, readonly string[]>, environment: Environment): Problem {
  const variables = problem.pointer === undefined ? undefined : variablesAt.get(problem.pointer);
  if (!variables || !/^path not found/.test(problem.message)) return problem;
  const unset = variables.filter((name) => (environment[name] ?? '') === '');
  const [first] = unset.length > 0 ? unset : variables;
  const origin =
    unset.length > 0
      ? `${unset.join(', ')} ${unset.length > 1 ? 'are' : 'is'} not set, so the pipeline's default path applies`
      : `the path comes from ${variables.map((name) => '$' + name).join(', ')}`;
  return {
    ...problem,
    fix:
      `${origin}: export ${first}=/path/to/it, or put a line ${first}=/path/to/it in a .env file in the working directory ` +
      `(a relative path there resolves against the working directory)`,
  };
}
