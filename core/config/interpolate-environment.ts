import type { Problem } from '../errors/problem.js';
import { childPointer, locate, type SourceMap } from './source-map.js';

/** Environment variables as a pipeline sees them. */
export type Environment = Readonly<Record<string, string | undefined>>;

// `$${` is a literal `${`; `${NAME}` and `${NAME:-default}` are references.
const referencePattern = /\$(\$\{)|\$\{([^}]*)\}/g;
const namePattern = /^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s;

/** The result of filling one string. */
export interface InterpolatedString {
  readonly text: string;
  /** One per unset or malformed reference, without a location (the caller knows where the string is). */
  readonly problems: Problem[];
  /** Names of the variables read. */
  readonly variables: string[];
  /**
   * Whether the whole text is one reference filled by its variable's value (not by its default): a
   * path given this way is the user's, typed in their shell, so it resolves against the working
   * directory rather than the pipeline's folder.
   */
  readonly fromEnvironment: boolean;
}

/**
 * Fills `${NAME}` and `${NAME:-default}` in one string, with shell semantics: the default applies
 * when the variable is unset or empty; `$${` writes a literal `${`. The result stays a string (a
 * pipeline never changes type because of the environment).
 */
export function interpolateString(text: string, environment: Environment): InterpolatedString {
  const problems: Problem[] = [];
  const variables: string[] = [];
  let valuesUsed = 0;
  const filled = text.replace(referencePattern, (whole, escaped: string | undefined, reference: string | undefined) => {
    if (escaped) return escaped;
    const match = namePattern.exec(reference ?? '');
    if (!match) {
      problems.push({
        message: `invalid variable reference "${whole}"`,
        fix: 'write ${NAME} or ${NAME:-default}, or $${ for a literal ${',
      });
      return whole;
    }
    const name = match[1]!;
    const fallback = match[2];
    variables.push(name);
    const value = environment[name];
    if (fallback !== undefined && (value === undefined || value === '')) return fallback;
    if (value === undefined) {
      problems.push({
        message: `environment variable "${name}" is not set`,
        fix: `set it (export ${name}=…) or give a default: \${${name}:-value}`,
      });
      return whole;
    }
    valuesUsed += 1;
    return value;
  });
  const single = new RegExp(referencePattern.source).exec(text);
  const wholeReference = single !== null && single[0] === text && single[2] !== undefined;
  return { text: filled, problems, variables, fromEnvironment: wholeReference && valuesUsed === 1 };
}

/** A document with its variables filled, and where they were. */
export interface InterpolatedDocument {
  readonly value: unknown;
  readonly problems: Problem[];
  /** Pointer → names of the variables its string read, for messages about the value. */
  readonly variablesAt: ReadonlyMap<string, readonly string[]>;
  /** Pointers of strings that are wholly one variable's value (see {@link InterpolatedString.fromEnvironment}). */
  readonly fromEnvironment: ReadonlySet<string>;
}

/**
 * Fills variables in every string of a document (not in keys), reporting each unset variable at the
 * position of the string that names it.
 */
export function interpolateDocument(value: unknown, sourceMap: SourceMap, environment: Environment): InterpolatedDocument {
  const problems: Problem[] = [];
  const variablesAt = new Map<string, readonly string[]>();
  const fromEnvironment = new Set<string>();
  const walk = (node: unknown, pointer: string): unknown => {
    if (typeof node === 'string') {
      if (!node.includes('${')) return node;
      const result = interpolateString(node, environment);
      for (const problem of result.problems) problems.push({ ...locate(sourceMap, pointer), pointer, ...problem });
      if (result.variables.length > 0) variablesAt.set(pointer, result.variables);
      if (result.fromEnvironment) fromEnvironment.add(pointer);
      return result.text;
    }
    if (Array.isArray(node)) return node.map((item, index) => walk(item, childPointer(pointer, index)));
    if (typeof node === 'object' && node !== null) {
      return Object.fromEntries(Object.entries(node).map(([key, item]) => [key, walk(item, childPointer(pointer, key))]));
    }
    return node;
  };
  return { value: walk(value, ''), problems, variablesAt, fromEnvironment };
}
