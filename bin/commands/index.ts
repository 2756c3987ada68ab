import CacheCheckCommand from './cache/check.js';
import CacheClearCommand from './cache/clear.js';
import CacheForgetBatchCommand from './cache/forget-batch.js';
import CacheRepairCommand from './cache/repair.js';
import CacheStatsCommand from './cache/stats.js';
import CalibrateCommand from './calibrate.js';
import DiffCommand from './diff.js';
import EstimateCommand from './estimate.js';
import EvalCommand from './eval.js';
import ExportCommand from './export.js';
import InitCommand from './init.js';
import PluginsCommand from './plugins.js';
import PredictCommand from './predict.js';
import RecipesCommand from './recipes.js';
import RunCommand from './run.js';
import SchemaCommand from './schema.js';
import ServeCommand from './serve.js';
import TeachCommand from './teach.js';
import TrainCommand from './train.js';
import ValidateCommand from './validate.js';

/** Every command, by id (`cache:stats` is invoked as `distill cache stats`). */
export const commands = {
  'cache:check': CacheCheckCommand,
  'cache:clear': CacheClearCommand,
  'cache:forget-batch': CacheForgetBatchCommand,
  'cache:repair': CacheRepairCommand,
  'cache:stats': CacheStatsCommand,
  calibrate: CalibrateCommand,
  diff: DiffCommand,
  estimate: EstimateCommand,
  eval: EvalCommand,
  export: ExportCommand,
  init: InitCommand,
  plugins: PluginsCommand,
  predict: PredictCommand,
  recipes: RecipesCommand,
  run: RunCommand,
  schema: SchemaCommand,
  serve: ServeCommand,
  teach: TeachCommand,
  train: TrainCommand,
  validate: ValidateCommand,
};
