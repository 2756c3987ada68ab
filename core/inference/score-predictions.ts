import type { Evaluator } from '../plugins/kinds/evaluator.js';
import type { PluginDependencies } from '../plugins/plugin-dependencies.js';
import type { PluginRegistry } from '../plugins/plugin-registry.js';
import type { EvaluationExample } from './evaluation-examples.js';
import { createPluginInstance } from '../plugins/create-plugin-instance.js';

/** Accuracy of predicted labels against gold. */
export interface Score {
  readonly metric: string;
  readonly examples: number;
  readonly correct: number;
  /** correct / examples (0 for no examples). */
  readonly accuracy: number;
}

/**
 * The evaluator plugin whose id is a metric's name, from the registry core was given, so that
 * Node-side scores use the very code the pipeline's evaluate stage uses. It is created with its
 * schema's default options and the caller's run services, like any step.
 */
export function createEvaluator(registry: PluginRegistry, metric: string, dependencies: PluginDependencies): Promise<Evaluator> {
  return createPluginInstance(registry, 'evaluator', { use: metric, options: {} }, dependencies);
}

/** Scores labels against the examples' gold labels, position by position. */
export function scorePredictions(evaluator: Evaluator, labels: readonly string[], examples: readonly EvaluationExample[]): Score {
  let correct = 0;
  examples.forEach((example, index) => {
    correct += evaluator.score(labels[index] ?? '', example.label);
  });
  return {
    metric: evaluator.metric,
    examples: examples.length,
    correct,
    accuracy: examples.length === 0 ? 0 : correct / examples.length,
  };
}
