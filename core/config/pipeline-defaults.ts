import type { Problem } from '../errors/problem.js';
import type { PluginDefaults } from '../plugins/plugin-defaults.js';
import { pluginSteps } from './pipeline-config.js';
import { isPlainObject } from './merge-documents.js';

/**
 * Adds the containers a pipeline may leave out (`samplers`, `budget`, …, each step's `options`), in
 * place, before validation, and the `loss` and `evaluators` steps of `defaults` (the composition
 * root's: core names no plugin); the scalar defaults inside them (`seed`, `cache.enabled`,
 * `teacher.limits.concurrency`, …) come from the schemas' `default`s, which ajv fills in while
 * validating. Only absent keys are added, so a wrong value is still reported. Returns a problem (at
 * its pointer, without a position) for a step left out that `defaults` has no default for.
 */
export function addPipelineDefaults(document: Record<string, unknown>, defaults: PluginDefaults): Problem[] {
  const fill = (target: Record<string, unknown>, key: string, value: unknown): void => {
    if (target[key] === undefined && value !== undefined) target[key] = structuredClone(value);
  };
  fill(document, 'samplers', []);
  fill(document, 'loss', defaults.loss);
  fill(document, 'evaluators', defaults.evaluators);
  fill(document, 'budget', {});
  fill(document, 'prices', {});
  fill(document, 'cache', {});
  fill(document, 'output', {});
  if (isPlainObject(document.dataset)) fill(document.dataset, 'limit', {});
  if (isPlainObject(document.teacher)) {
    fill(document.teacher, 'limits', {});
    fill(document.teacher, 'batch', {});
  }
  for (const step of pluginSteps) {
    const value = document[step.pointer.slice(1)];
    const items = step.list ? (Array.isArray(value) ? value : []) : [value];
    for (const item of items) if (isPlainObject(item)) fill(item, 'options', {});
  }
  const missing = [
    { key: 'loss', kind: 'loss-weight', fix: 'add a loss step naming a loss-weight plugin' },
    { key: 'evaluators', kind: 'evaluator', fix: 'add evaluators naming at least one evaluator plugin' },
  ].filter(({ key }) => document[key] === undefined);
  return missing.map(({ key, kind, fix }) => ({
    pointer: `/${key}`,
    message: `the pipeline has no ${key}, and the plugin registry has no default ${kind} for it`,
    fix,
  }));
}
