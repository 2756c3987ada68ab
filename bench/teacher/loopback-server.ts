import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

/** A loopback OpenAI server running in its own process. */
export interface LoopbackServer {
  /** Base URL for the SDK, ending in `/v1`. */
  readonly baseUrl: string;
  stop(): Promise<void>;
}

/** Starts `loopback-server-process.js` and waits for its address. */
export async function startLoopbackServer(): Promise<LoopbackServer> {
  const program = path.join(path.dirname(fileURLToPath(import.meta.url)), 'loopback-server-process.js');
  const child = spawn(process.execPath, [program], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const baseUrl = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the loopback server exited with code ${code} before listening`)));
    lines.once('line', (line) => resolve((JSON.parse(line) as { baseUrl: string }).baseUrl));
  });
  return {
    baseUrl,
    stop: () =>
      new Promise<void>((resolve) => {
        child.removeAllListeners('exit');
        child.once('exit', () => resolve());
        child.stdin.end();
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      }),
  };
}
