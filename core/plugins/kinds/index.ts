import type { Dataset } from './dataset.js';
import type { Evaluator } from './evaluator.js';
import type { Exporter } from './exporter.js';
import type { LossWeight } from './loss-weight.js';
import type { Parser } from './parser.js';
import type { Prompt } from './prompt.js';
import type { Sampler } from './sampler.js';
import type { Teacher } from './teacher.js';
import type { Trainer } from './trainer.js';

export * from './dataset.js';
export * from './evaluator.js';
export * from './exporter.js';
export * from './loss-weight.js';
export * from './parser.js';
export * from './prompt.js';
export * from './sampler.js';
export * from './teacher.js';
export * from './teacher-batch.js';
export * from './trainer.js';

/** The contract each plugin kind's `create` returns. */
export interface PluginInstanceByKind {
  dataset: Dataset;
  teacher: Teacher;
  prompt: Prompt;
  parser: Parser;
  sampler: Sampler;
  'loss-weight': LossWeight;
  trainer: Trainer;
  evaluator: Evaluator;
  exporter: Exporter;
}
