import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { serveTokenVariable } from '../../core/serving/serve-student.js';
import { distillBin } from '../support/run-distill.js';

/** The environment of the tests without `$DISTILL_SERVE_TOKEN`, plus `extra`. */
export function environmentWithout(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const environment = { ...process.env, ...extra };
  return Object.fromEntries(Object.entries(environment).filter(([name]) => name !== serveTokenVariable || name in extra));
}

/** A `distill serve --json` process, once it has printed its URL. */
export interface ServeProcess {
  readonly child: ChildProcess;
  readonly url: string;
  stderr(): string;
  /** Sends SIGTERM and waits for the exit code. */
  stop(): Promise<number | null>;
}

/** Starts `distill serve --port 0 --json …args` and resolves once it has printed its URL. */
export async function startServe(args: readonly string[], environment: NodeJS.ProcessEnv): Promise<ServeProcess> {
  const child = spawn(process.execPath, [distillBin, 'serve', '--port', '0', '--json', ...args], {
    env: environment,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`distill serve printed no URL within 60 s; stderr:\n${stderr}`)), 60_000);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      const line = stdout.split('\n').find((each) => each.startsWith('{'));
      if (line) {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { url: string }).url);
      }
    });
    child.once('exit', (code) => reject(new Error(`distill serve exited with ${code}; stderr:\n${stderr}`)));
  });
  return {
    child,
    url,
    stderr: () => stderr,
    async stop() {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const [code] = (await exited) as [number | null];
      return code;
    },
  };
}
