import type { Problem } from '../errors/problem.js';
import { isPluginKind, pluginKinds } from './plugin-kind.js';
import type { AnyPluginDescriptor } from './plugin-descriptor.js';
import { pluginSweepAxes } from './sweep-axis.js';

const idPattern = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const versionPattern = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/;

/**
 * Checks that a value loaded from a plugin module is a well-formed descriptor. Returns one problem
 * per wrong field (empty when valid), each saying what was expected, so a plugin author can fix
 * everything in one go.
 */
export function descriptorProblems(value: unknown, source: string): Problem[] {
  const at = (message: string, fix?: string): Problem => ({ message: `${source}: ${message}`, file: source, fix });
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return [
      at(
        `a plugin must export a descriptor object, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`,
        'export default { id, kind, version, summary, optionsSchema, create(options, dependencies) }',
      ),
    ];
  }
  const candidate = value as Record<string, unknown>;
  const problems: Problem[] = [];
  if (typeof candidate.id !== 'string' || !idPattern.test(candidate.id)) {
    problems.push(at(`"id" must be a kebab-case string, got ${JSON.stringify(candidate.id)}`, 'e.g. id: "my-teacher"'));
  }
  if (!isPluginKind(candidate.kind)) {
    problems.push(at(`"kind" must be one of ${pluginKinds.join(', ')}, got ${JSON.stringify(candidate.kind)}`));
  }
  if (typeof candidate.version !== 'string' || !versionPattern.test(candidate.version)) {
    problems.push(at(`"version" must be a semantic version such as "1.0.0", got ${JSON.stringify(candidate.version)}`));
  }
  if (typeof candidate.summary !== 'string' || candidate.summary.trim() === '') {
    problems.push(at('"summary" must be a non-empty one-line string'));
  }
  const schema = candidate.optionsSchema;
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
    problems.push(
      at('"optionsSchema" must be a JSON Schema object', 'e.g. { type: "object", additionalProperties: false, properties: {} }'),
    );
  } else if ((schema as Record<string, unknown>).type !== 'object') {
    problems.push(at('"optionsSchema" must describe an object (type: "object")'));
  }
  if (typeof candidate.create !== 'function') {
    problems.push(at(`"create" must be a function (options, dependencies) => instance, got ${typeof candidate.create}`));
  }
  if (candidate.requirements !== undefined && typeof candidate.requirements !== 'function') {
    problems.push(at(`"requirements" must be a function (options, context) => { variables, paths }, got ${typeof candidate.requirements}`));
  }
  problems.push(...sweepAxesProblems(candidate, at));
  if (candidate.kind === 'teacher') problems.push(...teacherMemberProblems(candidate, at));
  return problems;
}

type ProblemAt = (message: string, fix?: string) => Problem;

/** `sweepAxes`, when present: a list of axes the sweep knows, each naming an option the schema has. */
function sweepAxesProblems(candidate: Record<string, unknown>, at: ProblemAt): Problem[] {
  if (candidate.sweepAxes === undefined) return [];
  if (!Array.isArray(candidate.sweepAxes)) return [at('"sweepAxes" must be a list of { name, option, unsetValue }')];
  const properties = ((candidate.optionsSchema as Record<string, unknown> | undefined)?.properties ?? {}) as Record<string, unknown>;
  return candidate.sweepAxes.flatMap((value: unknown, index): Problem[] => {
    const axis = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
    const where = `"sweepAxes[${index}]"`;
    const problems: Problem[] = [];
    if (!(pluginSweepAxes as readonly unknown[]).includes(axis.name)) {
      problems.push(at(`${where}.name must be one of ${pluginSweepAxes.join(', ')}, got ${JSON.stringify(axis.name)}`));
    }
    if (typeof axis.option !== 'string' || !(axis.option in properties)) {
      problems.push(at(`${where}.option must name a property of the options schema, got ${JSON.stringify(axis.option)}`));
    }
    if (typeof axis.unsetValue !== 'number') problems.push(at(`${where}.unsetValue must be a number`));
    if (axis.omittedAt !== undefined && typeof axis.omittedAt !== 'number') problems.push(at(`${where}.omittedAt must be a number`));
    return problems;
  });
}

/** A teacher's optional `accounting` and `comparisonOptions` (see `kinds/teacher.ts`). */
function teacherMemberProblems(candidate: Record<string, unknown>, at: ProblemAt): Problem[] {
  const problems: Problem[] = [];
  if (candidate.accounting !== undefined && typeof candidate.accounting !== 'function') {
    problems.push(at(`"accounting" must be a function (options) => { provider, model, … }, got ${typeof candidate.accounting}`));
  }
  const comparison = candidate.comparisonOptions;
  if (comparison !== undefined && (typeof comparison !== 'object' || comparison === null || Array.isArray(comparison))) {
    problems.push(at('"comparisonOptions" must be an options object'));
  }
  return problems;
}

/** Narrowing form of {@link descriptorProblems}. */
export function isPluginDescriptor(value: unknown): value is AnyPluginDescriptor {
  return descriptorProblems(value, '').length === 0;
}
