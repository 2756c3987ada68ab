import path from 'node:path';
import type { Problem } from '../errors/problem.js';
import { pluginKinds, type PluginKind } from '../plugins/plugin-kind.js';
import type { PluginRegistry } from '../plugins/plugin-registry.js';
import type { ValidationContext } from './create-ajv.js';
import { isPlainObject } from './merge-documents.js';
import { pluginSteps } from './pipeline-config.js';
import { pluginOptionsValidator } from './plugin-options-validator.js';
import { schemaProblems } from './schema-problems.js';
import { childPointer, locate, type SourceMap } from './source-map.js';

/** One plugin-bearing step found in the document. */
export interface StepAt {
  readonly kind: PluginKind;
  readonly pointer: string;
  readonly step: Record<string, unknown>;
}

/** Every plugin step of the document that is a mapping, list items included, with its pointer and kind. */
export function stepsOf(document: Record<string, unknown>): StepAt[] {
  return pluginSteps.flatMap(({ pointer, kind, list }) => {
    const value = document[pointer.slice(1)];
    const items: [string, unknown][] = list
      ? Array.isArray(value)
        ? value.map((item, index) => [childPointer(pointer, index), item])
        : []
      : [[pointer, value]];
    return items
      .filter((entry): entry is [string, Record<string, unknown>] => isPlainObject(entry[1]))
      .map(([at, step]) => ({ kind, pointer: at, step }));
  });
}

/** The kind of plugin a step pointer (`/teacher`, `/samplers/2`) names, if any. */
export function stepKindAt(pointer: string): PluginKind | undefined {
  return pluginSteps.find((step) => (step.list ? new RegExp(`^${step.pointer}/\\d+$`).test(pointer) : step.pointer === pointer))?.kind;
}

/** What phase two found besides problems: where the secrets are and what they are. */
export interface StepOptionsResult {
  readonly problems: Problem[];
  /** JSON pointers of values marked `secret` in their plugin's schema. */
  readonly secretPointers: string[];
  readonly secrets: Set<string>;
}

/**
 * Phase two of validation: each step's `use` must name a registered plugin of the step's kind, and
 * its `options` must satisfy that plugin's schema (one cached validator per plugin; defaults are
 * filled in place). Unknown ids are not reported when `skipUnknownIds` is set, because the
 * pipeline's own plugins failed to load and would have provided them.
 */
export function validateStepOptions(
  document: Record<string, unknown>,
  registry: PluginRegistry,
  sourceMap: SourceMap,
  baseDirectory: string,
  skipUnknownIds: boolean,
): StepOptionsResult {
  const problems: Problem[] = [];
  const secretPointers: string[] = [];
  const secrets = new Set<string>();
  for (const { kind, pointer, step } of stepsOf(document)) {
    if (typeof step.use !== 'string') continue; // reported by phase one
    const usePointer = childPointer(pointer, 'use');
    if (!registry.has(kind, step.use)) {
      if (skipUnknownIds) continue;
      const otherKind = pluginKinds.find((other) => other !== kind && registry.has(other, step.use as string));
      problems.push({
        ...locate(sourceMap, usePointer),
        pointer: usePointer,
        message: `unknown ${kind} plugin "${step.use}"`,
        fix: `${otherKind ? `"${step.use}" is a plugin of kind ${otherKind}, not ${kind}; ` : ''}${registry.unknownIdFix(kind, step.use)}`,
      });
      continue;
    }
    const descriptor = registry.get(kind, step.use);
    const validator = pluginOptionsValidator(descriptor);
    if (typeof validator !== 'function') {
      problems.push({ ...locate(sourceMap, usePointer), pointer: usePointer, ...validator });
      continue;
    }
    if (!isPlainObject(step.options)) continue; // reported by phase one
    const optionsPointer = childPointer(pointer, 'options');
    const context: ValidationContext = {
      baseDirectory,
      secrets: [],
      directoryOf: (at) => {
        const written = sourceMap.get(optionsPointer + at)?.value.file;
        return written === undefined ? undefined : path.dirname(path.resolve(written));
      },
    };
    if (!validator.call(context, step.options)) {
      problems.push(...schemaProblems(validator.errors, { pointerPrefix: optionsPointer, sourceMap, plugin: `${kind}/${descriptor.id}` }));
    }
    for (const secret of context.secrets ?? []) {
      secretPointers.push(optionsPointer + secret.pointer);
      secrets.add(secret.value);
    }
  }
  return { problems, secretPointers, secrets };
}
