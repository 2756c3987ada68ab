import { parse } from 'yaml';
import { didYouMean } from '../errors/did-you-mean.js';
import type { Problem } from '../errors/problem.js';
import { isPlainObject } from './merge-documents.js';
import { childPointer } from './source-map.js';

/** One `--set path.to.key=value` as given, and where it lands. */
export interface PipelineOverride {
  /** The argument as typed, for messages and the resolved config's header. */
  readonly argument: string;
  /** JSON pointer of the value it sets, e.g. `/trainer/options/max_steps`. */
  readonly pointer: string;
}

/** What {@link applyOverrides} did: the overrides applied, and what was wrong with the others. */
export interface AppliedOverrides {
  readonly overrides: PipelineOverride[];
  readonly problems: Problem[];
}

// Keys consumed while the files are read (`extends`, recipe params): an override of one would be ignored.
const resolvedKeys = new Set(['extends', 'params', 'with']);

/** Where a problem about an override is shown: the argument itself, since it is in no file. */
function overrideProblem(argument: string, problem: Omit<Problem, 'file'>): Problem {
  return { file: `--set ${argument}`, ...problem };
}

/**
 * Applies `--set path.to.key=value` arguments to a pipeline document (in place), in order. The path
 * is dot-separated keys (a number indexes a list: `evaluators.0.use`); every part but the last must
 * already exist in the document (after `extends` and defaults), so a misspelt path is an error with
 * its JSON pointer and a did-you-mean rather than a new key nobody reads. The value is parsed as YAML
 * (`100` is a number, `true` a boolean, `gpt-4o` a string, `[1, 2]` a list); the schemas then check it
 * like any value in the file.
 */
export function applyOverrides(document: Record<string, unknown>, argumentsGiven: readonly string[]): AppliedOverrides {
  const overrides: PipelineOverride[] = [];
  const problems: Problem[] = [];
  for (const argument of argumentsGiven) {
    const equals = argument.indexOf('=');
    const keys = equals > 0 ? argument.slice(0, equals).split('.') : [];
    if (equals <= 0 || keys.some((key) => key === '')) {
      problems.push(
        overrideProblem(argument, { message: 'an override is path.to.key=value', fix: 'e.g. --set trainer.options.max_steps=200' }),
      );
      continue;
    }
    if (resolvedKeys.has(keys[0]!)) {
      problems.push(
        overrideProblem(argument, {
          pointer: childPointer('', keys[0]!),
          message: `${keys[0]} is resolved before overrides apply, so --set cannot change it`,
          fix: 'set the value it leads to instead (e.g. --set teacher.options.model=…), or edit the pipeline file',
        }),
      );
      continue;
    }
    let value: unknown;
    try {
      value = parse(argument.slice(equals + 1));
    } catch (error) {
      problems.push(
        overrideProblem(argument, { message: `the value is not valid YAML: ${(error as Error).message.split('\n')[0]}`, fix: 'quote it' }),
      );
      continue;
    }
    let node: unknown = document;
    let pointer = '';
    let failed = false;
    for (const [index, key] of keys.entries()) {
      const last = index === keys.length - 1;
      const container = node as Record<string, unknown> | unknown[];
      const childAt = childPointer(pointer, key);
      if (Array.isArray(container)) {
        const position = /^\d+$/.test(key) ? Number(key) : Number.NaN;
        if (!(position < container.length)) {
          problems.push(
            overrideProblem(argument, {
              pointer: childAt,
              message: `${pointer} is a list of ${container.length}: no item ${key}`,
              fix: `use an index from 0 to ${container.length - 1}`,
            }),
          );
          failed = true;
          break;
        }
        if (last) container[position] = value;
        else node = container[position];
      } else if (last) {
        container[key] = value;
      } else {
        node = container[key];
      }
      pointer = childAt;
      if (!last && !isPlainObject(node) && !Array.isArray(node)) {
        const siblings = Object.keys(container);
        const close = Array.isArray(container) ? null : didYouMean(key, siblings);
        problems.push(
          overrideProblem(argument, {
            pointer,
            message:
              node === undefined ? `the pipeline has no ${pointer}` : `${pointer} is not a mapping or a list, so it has no keys to set`,
            fix: close
              ? `did you mean "${keys.slice(0, index).concat(close).join('.')}"?`
              : `keys there: ${Array.isArray(container) ? 'list indexes' : siblings.join(', ') || 'none'}; the pipeline file must have the key's parent`,
          }),
        );
        failed = true;
        break;
      }
    }
    if (!failed) overrides.push({ argument, pointer });
  }
  return { overrides, problems };
}

/**
 * Problems about values an override set are shown at the override (`--set trainer.options.max_steps=abc`),
 * not at the line of the file whose value it replaced.
 */
export function locateOverrideProblems(problems: readonly Problem[], overrides: readonly PipelineOverride[]): Problem[] {
  return problems.map((problem) => {
    const override = overrides.findLast(
      (candidate) =>
        problem.pointer !== undefined && (problem.pointer === candidate.pointer || problem.pointer.startsWith(candidate.pointer + '/')),
    );
    if (!override) return problem;
    // No line or column: they would point into the file whose value the override replaced.
    return {
      ...problem,
      file: `--set ${override.argument}`,
      line: undefined,
      column: undefined,
      message: `${problem.message} (set by --set)`,
    };
  });
}
