/**
 * distill's core as a library, without plugins (`import … from 'distill/core'`): load and run
 * pipelines against a registry the caller gives, write plugins, and run an exported student in Node.
 * Core imports no plugin: the package's entry (`plugins/index.ts`, `import … from 'distill'`) is this
 * API bound to the built-in registry, and the CLI (`bin/`) is a thin layer over the same functions.
 * Nothing here touches globals on import: the DI container, and the `Reflect` metadata polyfill that
 * tsyringe needs, are loaded by the first run.
 */

// Pipelines: load, run, estimate.
export { loadPipeline, type LoadedPipeline, type LoadPipelineOptions } from './config/load-pipeline.js';
export type { RecipeSource } from './config/recipe-package.js';
export type {
  DatasetStep,
  EvaluationSettings,
  PipelineConfig,
  PluginStep,
  Price,
  SweepGrid,
  TeacherStep,
} from './config/pipeline-config.js';
export type { Environment } from './config/interpolate-environment.js';
export type { RequirementProblem } from './config/requirement-problems.js';
export type { PipelineOverride } from './config/apply-overrides.js';
export type { LoadedEnvironmentFile } from './config/environment-file.js';
export { runPipeline, type RunPipelineOptions, type RunPipelineResult } from './runner/run-pipeline.js';
export type { PipelineSource } from './runner/pipeline-to-run.js';
export type { RunModel } from './runner/model-usage.js';
export type { TestExample } from './runner/stages/test-split.js';
export type { PlannedStage, StageSelection } from './runner/run-readiness.js';
export { stageNames, type StageName } from './runner/stage-name.js';
export type { RunStagesOptions, StageOutcome, StageOutcomeOf, StageOutcomes, StageStatus } from './runner/run-stages.js';
export type { StageRecord } from './runner/stage-record.js';
// Whole modules of types, so that a field added to a stage's output or the summary is exported with it.
export type * from './runner/stage-outputs.js';
export type * from './report/run-summary.js';
export type { WrittenReport } from './report/write-report.js';
export type { ConfusionMatrix } from './report/confusion-matrix.js';
export type { ConfidenceSourceCount, ReliabilityBin, ReliabilitySummary } from './report/reliability.js';
export type { SplitRole } from './teacher/teach-pipeline.js';
export type { TeacherReport, TeachStopReason } from './teacher/teacher-report.js';
export type { PriceMatch } from './teacher/price-table.js';
export type { TrainStageResult } from './training/train-stage.js';
export type { TrainingDataSummary } from './training/training-data.js';
export { dryRunPipeline, type DryRun, type DryRunOptions } from './runner/dry-run.js';
export { estimatePipeline, type Estimate, type EstimateOptions, type EstimateRow } from './teacher/estimate.js';

// What a run is given: events, logging, time, HTTP settings.
export type { DistillEvent, EventListener, EventStream } from './services/event-stream.js';
export type { Logger, LogLevel } from './services/logger.js';
export type { Clock } from './services/clock.js';
export type { HttpSettings } from './services/http-settings.js';
export type { ChildProcesses } from './services/child-processes.js';

// Students: run, score, serve, export.
export {
  loadStudent,
  type Student,
  type Prediction,
  type PredictOptions,
  type LoadStudentOptions,
  type GraphOptimizationLevel,
} from './inference/load-student.js';
export type { StudentPrecision } from './inference/student-folder.js';
export {
  choosePrecision,
  defaultPrecisionOf,
  readPrecisionChoice,
  type PrecisionChoice,
  type PrecisionMeasurement,
} from './inference/precision-choice.js';
export { evaluateStudent, type EvaluateStudentRequest, type EvaluationReport } from './inference/evaluate-student.js';
export type { EvaluationSource } from './inference/evaluation-examples.js';
export type { Score } from './inference/score-predictions.js';
export {
  serveStudent,
  serveTokenVariable,
  defaultShadowWindow,
  type ServeStudentRequest,
  type ServeFallbackOptions,
  type RunningServer,
} from './serving/serve-student.js';
export type { FallbackPrediction, TeacherFailurePolicy } from './serving/fallback/fallback-router.js';
// Calibration: the thresholds at which the student answers alone (`distill calibrate`).
export { calibrateModel, type CalibrateRequest, type CalibrateResult } from './calibration/calibrate-model.js';
export type { OperatingPoint } from './calibration/thresholds.js';
export type { CalibrationSummary } from './report/calibration-report.js';
export type { AnswerSource } from './serving/fallback/serving-metrics.js';
export {
  readCalibrationFile,
  type CalibrationFile,
  type CalibrationReference,
  type ConfidenceKind,
  type StoredTestPoint,
  type StoredThreshold,
} from './calibration/calibration-file.js';
export type { ReviewRecord } from './serving/fallback/review-queue.js';
export type { PredictionServerLimits } from './serving/serving-limits.js';
export type { RequestLimits } from './serving/parse-predict-request.js';
export type { AccessLogFormat, AccessLogOptions } from './serving/access-log.js';
export type { PredictionQueueStatistics } from './serving/prediction-queue.js';
export { exportStudent, type ExportStudentRequest } from './inference/export-student.js';

// The teacher cache.
export {
  checkCache,
  repairCache,
  type CacheCheckResult,
  type CacheRepairResult,
  type CacheSelection,
} from './teacher/cache-maintenance.js';

// Errors.
export { UserError, isUserError } from './errors/user-error.js';
export type { Problem } from './errors/problem.js';
export { formatUserError } from './errors/format-user-error.js';

// Writing plugins.
export type { AnyPluginDescriptor, PluginDescriptor } from './plugins/plugin-descriptor.js';
export type { PluginRequirements, RequirementContext, RequiredPath, RequiredVariable } from './plugins/plugin-requirements.js';
export { PluginRegistry } from './plugins/plugin-registry.js';
export type { PluginDefaults } from './plugins/plugin-defaults.js';
export { pluginSweepAxes, type PluginSweepAxisName, type SweepAxis } from './plugins/sweep-axis.js';
export { standalonePluginDependencies, type PluginDependencies } from './plugins/plugin-dependencies.js';
export { pluginKinds, type PluginKind } from './plugins/plugin-kind.js';
export type { JsonSchema } from './plugins/json-schema.js';
export * from './plugins/kinds/index.js';
