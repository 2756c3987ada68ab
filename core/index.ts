/**
 * distill's core as a library, without plugins (`import … from 'distill/core'`): load and run
 * pipelines against a registry the caller gives, write plugins, and run an exported student in Node.
 * Core imports no plugin: the package's entry (`plugins/index.ts`, `import … from 'distill'`) is this
 * API bound to the built-in registry, and the CLI (`bin/`) is a thin layer over the same functions.
 * Nothing here touches globals on import: the DI container, and the `Reflect` metadata polyfill that
 * tsyringe needs, are loaded by the first run.
 */

export { loadPipeline, type LoadedPipeline, type LoadPipelineOptions } from './config/load-pipeline.js';
export type { PipelineConfig, PluginStep } from './config/pipeline-config.js';
export { runPipeline, type RunPipelineOptions, type RunPipelineResult } from './runner/run-pipeline.js';
export type { PipelineSource } from './runner/pipeline-to-run.js';
export type { StageName } from './runner/stage-name.js';
export type { StageOutcome, StageOutcomes, StageStatus } from './runner/run-stages.js';
export type { RunSummary } from './report/run-summary.js';
export type { WrittenReport } from './report/write-report.js';
export type { DistillEvent, EventListener } from './services/event-stream.js';
export type { Logger, LogLevel } from './services/logger.js';
export type { Clock } from './services/clock.js';
export type { HttpSettings } from './services/http-settings.js';
export type { Environment } from './config/interpolate-environment.js';
export { dryRunPipeline, type DryRun } from './runner/dry-run.js';
export { estimatePipeline } from './teacher/estimate.js';
export { loadStudent, type Student, type Prediction, type PredictOptions, type LoadStudentOptions } from './inference/load-student.js';
export type { StudentPrecision } from './inference/student-folder.js';
export { evaluateStudent, type EvaluateStudentRequest, type EvaluationReport } from './inference/evaluate-student.js';
export { serveStudent, serveTokenVariable, type ServeStudentRequest, type RunningServer } from './serving/serve-student.js';
export {
  checkCache,
  repairCache,
  type CacheCheckResult,
  type CacheRepairResult,
  type CacheSelection,
} from './teacher/cache-maintenance.js';
export { UserError, isUserError } from './errors/user-error.js';
export type { Problem } from './errors/problem.js';
export { formatUserError } from './errors/format-user-error.js';
export { exportStudent, type ExportStudentRequest } from './inference/export-student.js';
export type { PluginDescriptor } from './plugins/plugin-descriptor.js';
export { PluginRegistry } from './plugins/plugin-registry.js';
export type { PluginDefaults } from './plugins/plugin-defaults.js';
export { pluginSweepAxes, type PluginSweepAxisName, type SweepAxis } from './plugins/sweep-axis.js';
export { standalonePluginDependencies, type PluginDependencies } from './plugins/plugin-dependencies.js';
export { pluginKinds, type PluginKind } from './plugins/plugin-kind.js';
export type { JsonSchema } from './plugins/json-schema.js';
export * from './plugins/kinds/index.js';
