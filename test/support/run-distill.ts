import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { repositoryRoot } from './paths.js';

/** The `distill` entry point of this checkout. */
export const distillBin = path.join(repositoryRoot, 'bin', 'run.js');

/** What a finished `distill` process left. */
export interface DistillRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Starts `node bin/run.js …args` with an environment of the test's choosing (added to the current one). */
export function spawnDistill(args: readonly string[], environment: Readonly<Record<string, string>> = {}): ChildProcess {
  return spawn(process.execPath, [distillBin, ...args], { env: { ...process.env, ...environment }, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Runs `distill` to its end (killed after `timeoutMilliseconds`, so a test never hangs). */
export function runDistill(
  args: readonly string[],
  environment: Readonly<Record<string, string>> = {},
  timeoutMilliseconds = 60_000,
): Promise<DistillRun> {
  const child = spawnDistill(args, environment);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMilliseconds);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}
