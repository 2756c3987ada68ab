import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { defaultVirtualenvPython } from '../../../../core/python/python-interpreter.js';
import { repositoryRoot, testPath } from '../../../support/paths.js';

/** The folder holding the worker's `distill_worker` package, which each fixture puts on its import path. */
export const workerFolder = path.join(repositoryRoot, 'plugins', 'trainers', 'torch', 'worker');

/** How {@link runWorkerFixture} runs a fixture. */
export interface WorkerFixtureRun {
  /** Arguments after the worker folder. */
  readonly arguments?: readonly string[];
  /** Default 180 s. */
  readonly timeoutMilliseconds?: number;
  /** Run torch on one thread (`OMP_NUM_THREADS=1`), for float results that do not depend on the machine's cores. */
  readonly oneThread?: boolean;
}

/**
 * Runs `fixtures/<name>` (a Python script) with the project's virtualenv as `<name> WORKER_FOLDER …arguments`
 * and returns the JSON it prints, for the caller to type.
 */
export function runWorkerFixture(name: string, run: WorkerFixtureRun = {}): unknown {
  const script = testPath('plugins', 'trainers', 'torch', 'fixtures', name);
  const output = execFileSync(defaultVirtualenvPython, [script, workerFolder, ...(run.arguments ?? [])], {
    encoding: 'utf8',
    timeout: run.timeoutMilliseconds ?? 180_000,
    ...(run.oneThread ? { env: { ...process.env, OMP_NUM_THREADS: '1' } } : {}),
  });
  return JSON.parse(output) as unknown;
}
