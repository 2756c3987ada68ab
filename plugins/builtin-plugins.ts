import type { AnyPluginDescriptor } from '../core/plugins/plugin-descriptor.js';
import { exactMatchEvaluator } from './evaluators/exact-match/exact-match-evaluator.js';
import { numericEqualityEvaluator } from './evaluators/numeric-equality/numeric-equality-evaluator.js';
import { constantLossWeight } from './loss-weights/constant/constant-loss-weight.js';
import { linearLossWeight } from './loss-weights/linear/linear-loss-weight.js';

/**
 * The one list of built-in plugins, sorted by kind then id. Descriptors are cheap objects: each
 * imports its heavy implementation (SDKs, worker clients) lazily inside `create`.
 * Core never imports a plugin; this file is the only place plugins are named.
 */
export const builtinPlugins: readonly AnyPluginDescriptor[] = [
  // evaluator
  exactMatchEvaluator,
  numericEqualityEvaluator,
  // loss-weight
  constantLossWeight,
  linearLossWeight,
];
