import { builtinPlugins } from '../../plugins/builtin-plugins.js';
import type { Evaluator } from '../plugins/kinds/evaluator.js';
import { PluginRegistry } from '../plugins/plugin-registry.js';
import type { EvaluationExample } from './evaluation-examples.js';

/** Accuracy of predicted labels against gold. */
export interface Score {
  readonly metric: string;
  readonly examples: number;
  readonly correct: number;
  /** correct / examples (0 for no examples). */
  readonly accuracy: number;
}

/**
 * The built-in evaluator plugin for a metric, so that Node-side scores use the very code the
 * pipeline's evaluate stage uses (core reaches plugins only through the registry of the one list).
 */
export async function createEvaluator(metric: string): Promise<Evaluator> {
  const registry = new PluginRegistry(builtinPlugins);
  const descriptor = registry.get('evaluator', metric);
  // Evaluators are pure functions of their options: they use none of the run services.
  return (await descriptor.create({}, undefined as never)) as Evaluator;
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
