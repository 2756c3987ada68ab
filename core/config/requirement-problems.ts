import { existsSync } from 'node:fs';
import type { Problem } from '../errors/problem.js';
import type { PluginKind } from '../plugins/plugin-kind.js';
import type { PluginRegistry } from '../plugins/plugin-registry.js';
import type { RequirementContext } from '../plugins/plugin-requirements.js';
import { childPointer, locate, type SourceMap } from './source-map.js';
import { stepsOf } from './validate-step-options.js';

/** A requirement of a plugin that is not met, with the kind of the plugin (which stage needs it). */
export interface RequirementProblem extends Problem {
  readonly kind: PluginKind;
  /** Whether it is a missing environment variable (needed only when its stage runs) rather than a missing path. */
  readonly variable: boolean;
}

/**
 * What the pipeline's plugins need from outside the file and do not have: every environment
 * variable unset or empty and every path missing that a plugin's `requirements` names, each with the
 * plugin, the pointer of the option that could provide it and the plugin's fix. Steps under a pointer
 * in `skip` (their options are invalid, so already reported) are not asked.
 */
export function requirementProblems(
  document: Record<string, unknown>,
  registry: PluginRegistry,
  context: RequirementContext,
  sourceMap: SourceMap,
  skip: readonly Problem[] = [],
): RequirementProblem[] {
  const problems: RequirementProblem[] = [];
  for (const { kind, pointer, step } of stepsOf(document)) {
    if (typeof step.use !== 'string' || !registry.has(kind, step.use)) continue;
    if (skip.some((problem) => problem.pointer === pointer || problem.pointer?.startsWith(pointer + '/'))) continue;
    const descriptor = registry.get(kind, step.use);
    if (!descriptor.requirements) continue;
    const requirements = descriptor.requirements(step.options ?? {}, context);
    const plugin = `${kind}/${descriptor.id}`;
    const at = (option: string | undefined) => {
      const optionPointer = option === undefined ? pointer : childPointer(childPointer(pointer, 'options'), option);
      return { ...locate(sourceMap, optionPointer), pointer: optionPointer, plugin, kind };
    };
    for (const variable of requirements.variables ?? []) {
      if ((context.environment[variable.name] ?? '').trim() !== '') continue;
      problems.push({
        ...at(variable.option),
        variable: true,
        message: `${variable.what}: ${variable.name} is not set`,
        fix: variable.fix,
      });
    }
    for (const required of requirements.paths ?? []) {
      if (required.path !== null && existsSync(required.path)) continue;
      const message = required.path === null ? `no ${required.what} given` : `${required.what} not found: ${required.path}`;
      problems.push({ ...at(required.option), variable: false, message, fix: required.fix });
    }
  }
  return problems;
}
