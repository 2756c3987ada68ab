import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors/user-error.js';
import { packageRoot } from '../package-root.js';

/** The command that creates the project virtualenv; named in every "environment missing" error. */
export const setupCommand = 'npm run setup:python';

/** Environment variable that points distill at a Python interpreter. */
export const pythonEnvironmentVariable = 'DISTILL_PYTHON';

/** The default interpreter: the project virtualenv made by {@link setupCommand}. */
export const defaultVirtualenvPython = path.join(packageRoot, '.venv', 'bin', 'python');

/**
 * The Python interpreter for workers (trainer, exporter): the `python` option when given, else
 * `$DISTILL_PYTHON`, else the project virtualenv. Fails with the command that fixes it when the
 * interpreter is missing or cannot import torch and transformers.
 */
export function findPythonInterpreter(
  option: string | undefined,
  environment: Readonly<Record<string, string | undefined>> = process.env,
): string {
  const source = option
    ? 'the `python` option'
    : environment[pythonEnvironmentVariable]
      ? `$${pythonEnvironmentVariable}`
      : 'the project virtualenv';
  const interpreter = option ?? environment[pythonEnvironmentVariable] ?? defaultVirtualenvPython;
  if (!existsSync(interpreter)) {
    throw new UserError({
      message: `Python interpreter not found at ${interpreter} (from ${source})`,
      fix: `run \`${setupCommand}\` to create the virtualenv, or set ${pythonEnvironmentVariable} to a Python with torch and transformers`,
    });
  }
  return interpreter;
}

/** Imports the worker's libraries once; a broken environment becomes a {@link UserError} naming the fix. */
export function checkPythonEnvironment(interpreter: string): void {
  const probe = spawnSync(interpreter, ['-c', 'import torch, transformers, tokenizers'], { encoding: 'utf8', timeout: 120_000 });
  if (probe.status !== 0) {
    const detail = (probe.stderr || probe.error?.message || '').trim().split('\n').at(-1) ?? '';
    throw new UserError({
      message: `the Python environment at ${interpreter} cannot import torch, transformers and tokenizers: ${detail}`,
      fix: `run \`${setupCommand}\` to (re)create it`,
    });
  }
}
