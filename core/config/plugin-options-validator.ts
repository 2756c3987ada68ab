import type { Ajv, ValidateFunction } from 'ajv';
import type { Problem } from '../errors/problem.js';
import type { AnyPluginDescriptor } from '../plugins/plugin-descriptor.js';
import { createAjv } from './create-ajv.js';

let ajv: Ajv | undefined;
const validators = new WeakMap<AnyPluginDescriptor, ValidateFunction | Problem>();

/**
 * The compiled validator of a plugin's options (phase two), one per descriptor, compiled on first
 * use and cached. A schema that does not compile under strict ajv is the plugin's bug, reported as a
 * problem naming the plugin rather than thrown, so that it is listed with everything else.
 */
export function pluginOptionsValidator(descriptor: AnyPluginDescriptor): ValidateFunction | Problem {
  const cached = validators.get(descriptor);
  if (cached) return cached;
  ajv ??= createAjv({ useDefaults: true });
  let result: ValidateFunction | Problem;
  try {
    result = ajv.compile(descriptor.optionsSchema);
  } catch (error) {
    result = {
      message: `the options schema of ${descriptor.kind} plugin "${descriptor.id}" does not compile: ${(error as Error).message}`,
      plugin: `${descriptor.kind}/${descriptor.id}`,
      fix: 'this is a bug in the plugin; its author can check the schema with the contract tests',
    };
  }
  validators.set(descriptor, result);
  return result;
}
