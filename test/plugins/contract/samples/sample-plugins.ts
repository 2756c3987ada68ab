import type { AnyPluginDescriptor } from '../../../../core/plugins/plugin-descriptor.js';
import { sampleDataset } from './sample-dataset.js';
import { sampleEvaluator } from './sample-evaluator.js';
import { sampleExporter } from './sample-exporter.js';
import { sampleLossWeight } from './sample-loss-weight.js';
import { sampleParser } from './sample-parser.js';
import { samplePrompt } from './sample-prompt.js';
import { sampleSampler } from './sample-sampler.js';
import { sampleTeacher } from './sample-teacher.js';
import { sampleTrainer } from './sample-trainer.js';

/**
 * One small plugin per kind, so that every kind's contract suite runs even before a built-in plugin
 * of that kind exists, and so that the harness itself is known to pass on a correct plugin.
 */
export const samplePlugins: readonly AnyPluginDescriptor[] = [
  sampleDataset,
  sampleTeacher,
  samplePrompt,
  sampleParser,
  sampleSampler,
  sampleLossWeight,
  sampleTrainer,
  sampleEvaluator,
  sampleExporter,
];
