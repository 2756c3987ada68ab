import type { ErrorObject } from 'ajv';
import { didYouMean } from '../errors/did-you-mean.js';
import type { Problem } from '../errors/problem.js';
import { childPointer, locate, type SourceMap } from './source-map.js';

/** Where ajv's errors came from, to turn them into located problems. */
export interface SchemaProblemScope {
  /** Prefix of ajv's `instancePath` in the whole document (`/teacher/options` for a plugin's options). */
  readonly pointerPrefix: string;
  readonly sourceMap: SourceMap;
  /** `kind/id` when a plugin's schema produced the errors. */
  readonly plugin?: string;
}

/** JSON's name for a value's type, as in `must be integer, got string`. */
export function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  if (typeof value === 'object') return 'object';
  return typeof value;
}

function quoteList(values: readonly unknown[]): string {
  return values.map((value) => JSON.stringify(value)).join(', ');
}

function schemaKeys(parentSchema: unknown): string[] {
  const properties = (parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties;
  return properties ? Object.keys(properties) : [];
}

/** One ajv error as a problem: message, fix and the pointer it is about (which may go below `instancePath`). */
function describe(error: ErrorObject): { pointer: string; message: string; fix?: string; atKey?: boolean } {
  const pointer = error.instancePath;
  const params = error.params as Record<string, unknown>;
  // Messages quote the offending value, except where the schema says it is a secret.
  const secret = (error.parentSchema as { secret?: unknown } | undefined)?.secret === true;
  // Called only where quoted: the data of an unknown-key error is the whole mapping, and
  // stringifying it once per unknown key made a mapping of 50,000 unknown keys take minutes.
  const shown = (): string => (secret ? 'the secret value' : JSON.stringify(error.data));
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const expected = schemaKeys(error.parentSchema);
      const suggestion = didYouMean(key, expected);
      const patterns = Object.keys((error.parentSchema as { patternProperties?: object } | undefined)?.patternProperties ?? {});
      const also = patterns.length > 0 ? ` (or keys matching ${patterns.join(', ')})` : '';
      const list = expected.length > 0 ? `expected keys: ${expected.join(', ')}${also}` : 'this mapping takes no keys';
      return {
        pointer: childPointer(pointer, key),
        message: `unknown key "${key}"`,
        fix: `${suggestion ? `did you mean "${suggestion}"? ` : ''}${list}`,
        atKey: true,
      };
    }
    case 'required': {
      const key = String(params.missingProperty);
      return { pointer, message: `missing required key "${key}"`, fix: `add "${key}" here` };
    }
    case 'type': {
      const expected = Array.isArray(params.type) ? params.type.join(' or ') : String(params.type).replaceAll(',', ' or ');
      return { pointer, message: `must be ${expected}, got ${jsonType(error.data)}` };
    }
    case 'enum': {
      const allowed = (params.allowedValues as unknown[] | undefined) ?? [];
      const suggestion =
        typeof error.data === 'string' && !secret
          ? didYouMean(
              error.data,
              allowed.filter((value): value is string => typeof value === 'string'),
            )
          : null;
      return {
        pointer,
        message: `${shown()} is not an allowed value`,
        fix: `${suggestion ? `did you mean "${suggestion}"? ` : ''}allowed values: ${quoteList(allowed)}`,
      };
    }
    case 'const':
      return { pointer, message: `must be ${JSON.stringify(params.allowedValue)}, got ${shown()}` };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return { pointer, message: `${error.message ?? 'out of range'}, got ${shown()}` };
    case 'minItems': {
      const limit = Number(params.limit);
      return {
        pointer,
        message: `must have at least ${limit} item${limit === 1 ? '' : 's'}, got ${Array.isArray(error.data) ? error.data.length : 0}`,
      };
    }
    case 'minLength':
      return {
        pointer,
        message: Number(params.limit) === 1 ? 'must not be empty' : `must be at least ${String(params.limit)} characters long`,
      };
    case 'pattern':
      return { pointer, message: `${shown()} must match the pattern ${String(params.pattern)}` };
    case 'existingPath':
      return { pointer, message: error.message ?? 'path not found', fix: 'check the path; it is relative to the pipeline file' };
    default:
      return { pointer, message: error.message ?? `fails "${error.keyword}"` };
  }
}

/**
 * Turns ajv errors into {@link Problem}s located in the YAML: an unknown key at the key itself, a
 * missing key at the mapping that lacks it, anything else at the value. `if` errors are dropped
 * (the `then` branch's own errors say what is wrong) and duplicates are merged.
 */
export function schemaProblems(errors: readonly ErrorObject[] | null | undefined, scope: SchemaProblemScope): Problem[] {
  const problems: Problem[] = [];
  const seen = new Set<string>();
  for (const error of errors ?? []) {
    if (error.keyword === 'if') continue;
    const described = describe(error);
    const pointer = scope.pointerPrefix + described.pointer;
    const identity = `${pointer}\u0000${described.message}`;
    if (seen.has(identity)) continue;
    seen.add(identity);
    const position = locate(scope.sourceMap, pointer, described.atKey ?? false);
    problems.push({
      message: described.message,
      ...position,
      pointer,
      ...(scope.plugin ? { plugin: scope.plugin } : {}),
      ...(described.fix ? { fix: described.fix } : {}),
    });
  }
  return problems;
}
