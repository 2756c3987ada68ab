/**
 * distill as a library: load and run pipelines, write plugins, and run an exported student in Node.
 * The CLI (`bin/`) is a thin layer over these same functions.
 */
import 'reflect-metadata';

export { loadPipeline, type LoadedPipeline } from './config/load-pipeline.js';
export type { PipelineConfig, PluginStep } from './config/pipeline-config.js';
export { runPipeline, type RunPipelineOptions, type RunPipelineResult } from './runner/run-pipeline.js';
export { dryRunPipeline, type DryRun } from './runner/dry-run.js';
export { estimatePipeline } from './teacher/estimate.js';
export { loadStudent, type Student, type Prediction, type LoadStudentOptions } from './inference/load-student.js';
export { evaluateStudent } from './inference/evaluate-student.js';
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
export type { PluginDescriptor } from './plugins/plugin-descriptor.js';
export { standalonePluginDependencies, type PluginDependencies } from './plugins/plugin-dependencies.js';
export { pluginKinds, type PluginKind } from './plugins/plugin-kind.js';
export type { JsonSchema } from './plugins/json-schema.js';
export * from './plugins/kinds/index.js';
