import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Problem } from '../errors/problem.js';
import { sortProblems } from '../errors/sort-problems.js';
import { UserError } from '../errors/user-error.js';
import type { PluginRegistry } from '../plugins/plugin-registry.js';
import { interpolateDocument, type Environment } from './interpolate-environment.js';
import { isPlainObject } from './merge-documents.js';
import type { PipelineConfig } from './pipeline-config.js';
import { addPipelineDefaults } from './pipeline-defaults.js';
import { pipelinePluginRegistry } from './pipeline-plugin-registry.js';
import { pipelineShapeValidator } from './pipeline-schema.js';
import { redactedMarker, redactSecrets, registerSecrets } from './redact.js';
import { resolveExtends } from './resolve-extends.js';
import { schemaProblems } from './schema-problems.js';
import { displayPath, locate } from './source-map.js';
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
 * Reads a pipeline file and everything it extends, fills `${VAR}`s, applies defaults and validates
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
  const resolved = await resolveExtends(absolute, environment);
  if (resolved.problems.length > 0) throw new UserError(sortProblems(resolved.problems));
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
  const interpolated = interpolateDocument(resolved.value, sourceMap, environment);
  problems.push(...interpolated.problems);
  const document = interpolated.value as Record<string, unknown>;
  const undefaulted = addPipelineDefaults(document, options.registry.defaults);
  problems.push(...undefaulted.map((problem) => ({ ...(locate(sourceMap, '') ?? { file: displayPath(absolute) }), ...problem })));

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

  // Phase two: each step's options against its plugin's schema.
  const stepOptions = validateStepOptions(document, registry, sourceMap, baseDirectory, pluginsBroken);
  problems.push(...stepOptions.problems);
  // The export step's options are read only once they are valid (with their defaults filled).
  const exportValid = !problems.some((problem) => problem.pointer === '/export' || problem.pointer?.startsWith('/export/'));
  problems.push(...evaluationProblems(document, registry, sourceMap, exportValid));
  if (problems.length > 0) {
    // A value whose variable is unset was left as written; what the schemas say about that text
    // would only repeat the problem.
    const unfilled = new Set(interpolated.problems.map((problem) => problem.pointer));
    const reported = problems.filter((problem) => interpolated.problems.includes(problem) || !unfilled.has(problem.pointer));
    throw new UserError(sortProblems(reported));
  }

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
  };
}
