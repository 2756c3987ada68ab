import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { checkPythonEnvironment, setupCommand } from '../../../core/python/python-interpreter.js';
import { UserError } from '../../../core/errors/user-error.js';
import {
  workerEventTypes,
  workerProtocolVersion,
  type DoneEvent,
  type ErrorEvent,
  type HelloEvent,
  type WorkerEvent,
  type WorkerRequest,
  type WorkerTrainRequest,
} from './worker-protocol.js';

/** How to start a worker process. */
export interface WorkerCommand {
  readonly executable: string;
  readonly args: readonly string[];
  readonly environment: Readonly<Record<string, string | undefined>>;
  /** The Python interpreter, to diagnose a broken environment when the worker dies before `hello`. */
  readonly interpreter?: string;
  /**
   * `stdin`: the train request goes over stdin after `hello` (a single process).
   * `file`: the request is already in a file named by `args` (torchrun); cancel is SIGTERM.
   */
  readonly requestChannel: 'stdin' | 'file';
}

/** Settings of one worker run. */
export interface WorkerRunSettings {
  readonly command: WorkerCommand;
  readonly request: WorkerTrainRequest;
  /** Every event after `hello`, in order. */
  readonly onEvent: (event: WorkerEvent) => void;
  readonly signal?: AbortSignal;
  /** How long the worker may take to import its libraries and say hello. */
  readonly handshakeTimeoutMs: number;
  /** How long a cancelled worker may take to write its checkpoint before it is killed. */
  readonly cancelGraceMs: number;
}

/** Why a worker run failed, with what the worker printed last (its stderr tail). */
export class WorkerFailure extends Error {
  constructor(
    message: string,
    readonly stderrTail: string,
    readonly traceback: string | null = null,
  ) {
    super(message);
    this.name = 'WorkerFailure';
  }
}

/** Keeps the last lines of a stream, for error messages. */
class TailBuffer {
  private lines: string[] = [];
  constructor(private readonly limit: number) {}
  push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.limit) this.lines.shift();
  }
  toString(): string {
    return this.lines.join('\n');
  }
}

/** What cures an output folder the worker will not use: training from scratch in a fresh folder. */
export const restartFix = '`distill train --restart` trains this stage from scratch in a fresh folder';

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `was killed by ${signal}` : `exited with code ${code}`;
}

/**
 * Starts a worker, checks its handshake, sends the request, forwards its events, and resolves
 * with the `done` event. Every way a worker can go wrong becomes a rejection that says what
 * happened (never a hang): no hello in time, a protocol version mismatch, a line that is not
 * protocol JSON, an `error` event (a {@link UserError} for a mistake in the request), an exit
 * without `done`. On abort the worker is asked to checkpoint and stop (cancel line, or SIGTERM
 * under torchrun), and killed if it does not within the grace period; the promise then rejects
 * with the signal's reason.
 */
export function runWorker(settings: WorkerRunSettings): Promise<{ hello: HelloEvent; done: DoneEvent }> {
  const { command, signal } = settings;
  return new Promise((resolve, reject) => {
    // Its own process group, so that torchrun and its ranks can be signalled together, and a
    // terminal's Ctrl+C reaches distill (which cancels cleanly) rather than the worker directly.
    const child = spawn(command.executable, [...command.args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
      env: { ...command.environment, PYTHONUNBUFFERED: '1' } as NodeJS.ProcessEnv,
    });
    const stderrTail = new TailBuffer(40);
    let hello: HelloEvent | undefined;
    let done: DoneEvent | undefined;
    let errorEvent: ErrorEvent | undefined;
    let failure: Error | undefined;
    let cancelled = false;
    let settled = false;
    let killTimer: NodeJS.Timeout | undefined;

    const handshakeTimer = setTimeout(() => {
      fail(
        new WorkerFailure(
          `the trainer worker did not send its handshake within ${Math.round(settings.handshakeTimeoutMs / 1000)} s`,
          stderrTail.toString(),
        ),
      );
    }, settings.handshakeTimeoutMs);

    function signalWorker(name: NodeJS.Signals): void {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
      try {
        process.kill(-child.pid, name);
      } catch {
        child.kill(name);
      }
    }

    /** Records the first failure and makes sure the process goes away; the exit handler settles. */
    function fail(error: Error): void {
      failure ??= error;
      signalWorker('SIGKILL');
    }

    function send(message: WorkerRequest): void {
      if (child.stdin.writable) child.stdin.write(JSON.stringify(message) + '\n');
    }

    function onAbort(): void {
      if (cancelled || settled) return;
      cancelled = true;
      if (command.requestChannel === 'stdin' && hello) send({ type: 'cancel' });
      else signalWorker('SIGTERM');
      killTimer = setTimeout(() => signalWorker('SIGKILL'), settings.cancelGraceMs);
    }

    // A worker whose stdin closes early must not crash distill with EPIPE.
    child.stdin.on('error', () => undefined);
    child.on('error', (error) => fail(new WorkerFailure(`cannot start the trainer worker (${command.executable}): ${error.message}`, '')));
    createInterface({ input: child.stderr }).on('line', (line) => stderrTail.push(line));

    createInterface({ input: child.stdout }).on('line', (line) => {
      if (failure || line.trim() === '') return;
      let event: WorkerEvent;
      try {
        event = JSON.parse(line) as WorkerEvent;
      } catch {
        fail(
          new WorkerFailure(
            `the trainer worker wrote a line that is not protocol JSON: ${JSON.stringify(line.slice(0, 200))}`,
            stderrTail.toString(),
          ),
        );
        return;
      }
      if (typeof event !== 'object' || event === null || !workerEventTypes.has((event as { type?: string }).type ?? '')) {
        fail(new WorkerFailure(`the trainer worker wrote an unknown message: ${line.slice(0, 200)}`, stderrTail.toString()));
        return;
      }
      if (!hello) {
        // A worker that fails while importing its libraries reports that before any handshake.
        if (event.type === 'error') {
          errorEvent = event;
          return;
        }
        if (event.type !== 'hello') {
          fail(new WorkerFailure(`the trainer worker spoke before its handshake: ${line.slice(0, 200)}`, stderrTail.toString()));
          return;
        }
        clearTimeout(handshakeTimer);
        if (event.protocol !== workerProtocolVersion) {
          fail(
            new UserError({
              message: `the trainer worker speaks protocol ${JSON.stringify(event.protocol)}, this distill speaks protocol ${workerProtocolVersion}`,
              fix: `use the worker that ships with this distill (the \`python\` option and $DISTILL_PYTHON pick only the interpreter), and run \`${setupCommand}\` to refresh its environment`,
            }),
          );
          return;
        }
        hello = event;
        settings.onEvent(event);
        if (signal?.aborted) onAbort();
        else if (command.requestChannel === 'stdin') send({ type: 'train', protocol: workerProtocolVersion, request: settings.request });
        return;
      }
      if (event.type === 'error') errorEvent = event;
      if (event.type === 'done') done = event;
      settings.onEvent(event);
    });

    signal?.addEventListener('abort', onAbort, { once: true });

    child.on('close', (code, exitSignal) => {
      settled = true;
      clearTimeout(handshakeTimer);
      if (killTimer) clearTimeout(killTimer);
      signal?.removeEventListener('abort', onAbort);
      const tail = stderrTail.toString();
      if (failure) return reject(failure);
      if (cancelled && !errorEvent) {
        return reject(signal?.reason instanceof Error ? signal.reason : new Error('training cancelled'));
      }
      if (!hello && command.interpreter) {
        // Died before the handshake: most often a broken environment, which has its own message.
        try {
          checkPythonEnvironment(command.interpreter);
        } catch (error) {
          return reject(error);
        }
      }
      if (errorEvent) {
        if (errorEvent.kind === 'output') {
          return reject(new UserError({ message: `trainer: ${errorEvent.message}`, plugin: 'trainer/torch', fix: restartFix }));
        }
        if (errorEvent.kind === 'user') {
          return reject(
            new UserError({
              message: `trainer: ${errorEvent.message}`,
              plugin: 'trainer/torch',
              fix: 'correct the trainer options or the student block of the pipeline',
            }),
          );
        }
        return reject(
          new WorkerFailure(
            `the trainer worker failed: ${errorEvent.message}\n${errorEvent.traceback ?? ''}`.trimEnd(),
            tail,
            errorEvent.traceback,
          ),
        );
      }
      if (done && hello && code === 0) return resolve({ hello, done });
      const stage = hello ? 'before finishing' : 'before its handshake';
      return reject(
        new WorkerFailure(
          `the trainer worker ${describeExit(code, exitSignal)} ${stage}${tail ? `; last lines of its stderr:\n${tail}` : ' (no stderr output)'}`,
          tail,
        ),
      );
    });
  });
}
