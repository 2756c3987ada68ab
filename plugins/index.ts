/**
 * distill as a library, with its built-in plugins: the core API (`core/index.ts`) with every
 * function that reads a pipeline or creates a plugin bound to the built-in registry of the
 * composition root. Each takes another registry where a caller has one (external plugins added,
 * other defaults). This is the package's entry (`import … from 'distill'`, the `.` of its `exports`
 * map); `core/index.ts` (`distill/core`) is the same API without plugins.
 */
import { loadPipeline as loadWithRegistry, type LoadedPipeline, type LoadPipelineOptions } from '../core/config/load-pipeline.js';
import {
  evaluateStudent as evaluateWithRegistry,
  type EvaluateStudentRequest,
  type EvaluationReport,
} from '../core/inference/evaluate-student.js';
import {
  calibrateModel as calibrateWithRegistry,
  type CalibrateRequest,
  type CalibrateResult,
} from '../core/calibration/calibrate-model.js';
import type { PluginRegistry } from '../core/plugins/plugin-registry.js';
import { dryRunPipeline as dryRunWithRegistry, type DryRun } from '../core/runner/dry-run.js';
import type { PipelineSource } from '../core/runner/pipeline-to-run.js';
import { runPipeline as runWithRegistry, type RunPipelineOptions, type RunPipelineResult } from '../core/runner/run-pipeline.js';
import { builtinRegistry } from './composition-root.js';

export * from '../core/index.js';
export { builtinDefaults, builtinRegistry, exportStudent, type BuiltinExportRequest } from './composition-root.js';

/** Options of the library's {@link runPipeline}: core's, with the registry optional. */
export type LibraryRunOptions = Omit<RunPipelineOptions, 'registry'> & { readonly registry?: PluginRegistry };

/** Options of the library's {@link loadPipeline}: core's, with the registry optional. */
export type LibraryLoadOptions = Omit<LoadPipelineOptions, 'registry'> & { readonly registry?: PluginRegistry };

/** Reads and validates a pipeline file against the built-in plugins (or `options.registry`). */
export function loadPipeline(file: string, options: LibraryLoadOptions = {}): Promise<LoadedPipeline> {
  return loadWithRegistry(file, { ...options, registry: options.registry ?? builtinRegistry() });
}

/**
 * `distill run` with the built-in plugins (or `options.registry`): `pipeline` is a file's path, or the
 * pipeline {@link loadPipeline} returned, which runs with the registry it was loaded with.
 */
export function runPipeline(pipeline: PipelineSource, options: LibraryRunOptions = {}): Promise<RunPipelineResult> {
  return runWithRegistry(pipeline, { ...options, registry: options.registry ?? builtinRegistry() });
}

/** `distill run --dry-run` with the built-in plugins. */
export function dryRunPipeline(file: string, environment: Readonly<Record<string, string | undefined>> = process.env): Promise<DryRun> {
  return dryRunWithRegistry(file, builtinRegistry(), environment);
}

/** Options of the library's {@link evaluateStudent}: core's, with the registry optional. */
export type LibraryEvaluateRequest = Omit<EvaluateStudentRequest, 'registry'> & { readonly registry?: PluginRegistry };

/** `distill eval`: scores an exported student with the built-in plugins (or `request.registry`'s). */
export function evaluateStudent(request: LibraryEvaluateRequest): Promise<EvaluationReport> {
  return evaluateWithRegistry({ ...request, registry: request.registry ?? builtinRegistry() });
}

/** Options of the library's {@link calibrateModel}: core's, with the registry optional. */
export type LibraryCalibrateRequest = Omit<CalibrateRequest, 'registry'> & { readonly registry?: PluginRegistry };

/** `distill calibrate` with the built-in plugins: thresholds on validation, achieved values on test, `calibration.json` written. */
export function calibrateModel(request: LibraryCalibrateRequest): Promise<CalibrateResult> {
  return calibrateWithRegistry({ ...request, registry: request.registry ?? builtinRegistry() });
}
