import { spawn } from 'node:child_process';
import path from 'node:path';

/** Runs a program to its end and returns its stdout; a non-zero exit rejects with the end of its stderr. */
export function runProcess(command: string, argumentsList: readonly string[], environment: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, argumentsList, { stdio: ['ignore', 'pipe', 'pipe'], env: environment });
    let output = '';
    let errors = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (errors = (errors + chunk.toString('utf8')).slice(-4000)));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0
        ? resolve(output)
        : reject(new Error(`${path.basename(argumentsList[0] ?? command)} exited with code ${code}:\n${errors}`)),
    );
  });
}

/** The last line a child printed, parsed: the benches' Python programs end with one JSON line. */
export function lastJsonLine(output: string): unknown {
  return JSON.parse(output.trim().split('\n').at(-1)!);
}

/** The environment of a child process that computes on `threads` threads (and no tokenizer threads). */
export function threadEnvironment(threads: number): NodeJS.ProcessEnv {
  return { ...process.env, OMP_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads), TOKENIZERS_PARALLELISM: 'false' };
}
