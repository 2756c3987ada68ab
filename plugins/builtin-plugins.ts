import type { PluginDefaults } from '../core/plugins/plugin-defaults.js';
import type { AnyPluginDescriptor } from '../core/plugins/plugin-descriptor.js';
import { csvDataset } from './datasets/csv/csv-dataset.js';
import { dsbsDataset } from './datasets/dsbs/dsbs-dataset.js';
import { jsonlDataset } from './datasets/jsonl/jsonl-dataset.js';
import { exactMatchEvaluator } from './evaluators/exact-match/exact-match-evaluator.js';
import { numericEqualityEvaluator } from './evaluators/numeric-equality/numeric-equality-evaluator.js';
import { onnxExporter } from './exporters/onnx/onnx-exporter.js';
import { confidenceLossWeight } from './loss-weights/confidence/confidence-loss-weight.js';
import { constantLossWeight } from './loss-weights/constant/constant-loss-weight.js';
import { linearLossWeight } from './loss-weights/linear/linear-loss-weight.js';
import { palmParser } from './parsers/palm/palm-parser.js';
import { regexParser } from './parsers/regex/regex-parser.js';
import { zeroShotParser } from './parsers/zero-shot/zero-shot-parser.js';
import { templatePrompt } from './prompts/template/template-prompt.js';
import { agreementFilterSampler } from './samplers/agreement-filter/agreement-filter-sampler.js';
import { dataFractionSampler } from './samplers/data-fraction/data-fraction-sampler.js';
import { labelSourceSampler } from './samplers/label-source/label-source-sampler.js';
import { majorityRationalesSampler } from './samplers/majority-rationales/majority-rationales-sampler.js';
import { minConfidenceSampler } from './samplers/min-confidence/min-confidence-sampler.js';
import { rationaleRateSampler } from './samplers/rationale-rate/rationale-rate-sampler.js';
import { anthropicTeacher } from './teachers/anthropic/anthropic-teacher.js';
import { openAiTeacher } from './teachers/openai/openai-teacher.js';
import { recordedTeacher } from './teachers/recorded/recorded-teacher.js';
import { torchTrainer } from './trainers/torch/torch-trainer.js';

/**
 * The one list of built-in plugins, sorted by kind then id. Descriptors are cheap objects: each
 * imports its heavy implementation (SDKs, worker clients) lazily inside `create`.
 * Core never imports a plugin; this file is the only place plugins are named, and only the
 * composition root (`composition-root.ts`) imports it.
 */
export const builtinPlugins: readonly AnyPluginDescriptor[] = [
  // dataset
  csvDataset,
  dsbsDataset,
  jsonlDataset,
  // evaluator
  exactMatchEvaluator,
  numericEqualityEvaluator,
  // exporter
  onnxExporter,
  // loss-weight
  confidenceLossWeight,
  constantLossWeight,
  linearLossWeight,
  // parser
  palmParser,
  regexParser,
  zeroShotParser,
  // prompt
  templatePrompt,
  // sampler
  agreementFilterSampler,
  dataFractionSampler,
  labelSourceSampler,
  majorityRationalesSampler,
  minConfidenceSampler,
  rationaleRateSampler,
  // teacher
  anthropicTeacher,
  openAiTeacher,
  recordedTeacher,
  // trainer
  torchTrainer,
];

/**
 * The steps a pipeline gets where it names none, and the exporter of `distill export`: the papers'
 * constant α (0.5), exact match, and the ONNX export that Node and transformers.js run.
 */
export const builtinDefaults = {
  loss: { use: constantLossWeight.id, options: {} },
  evaluators: [{ use: exactMatchEvaluator.id, options: {} }],
  exporter: { use: onnxExporter.id, options: {} },
} as const satisfies PluginDefaults;
