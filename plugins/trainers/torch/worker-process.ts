import { programProtocolVersion } from '../../../core/python/program-protocol.js';
import type { ChildProcesses } from '../../../core/services/child-processes.js';
import { runPythonProgram, type PythonProgramCommand, type RunningProgram } from '../../../core/python/python-program.js';
import { workerEventTypes, type DoneEvent, type HelloEvent, type WorkerEvent, type WorkerTrainRequest } from './worker-protocol.js';

/** How to start a worker process. */
export interface WorkerCommand extends PythonProgramCommand {
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
  /** Every event, `hello` first, in order. */
  readonly onEvent: (event: WorkerEvent) => void;
  readonly signal?: AbortSignal;
  /** How long the worker may take to import its libraries and say hello. */
  readonly handshakeTimeoutMs: number;
  /** How long a cancelled worker may take to write its checkpoint before it is killed. */
  readonly cancelGraceMs: number;
  /** The run's process list, which stops the worker if the run ends first. */
  readonly processes?: ChildProcesses;
}

/** What cures an output folder the worker will not use: training from scratch in a fresh folder. */
export const restartFix = '`distill train --restart` trains this stage from scratch in a fresh folder';

/** How the worker's errors and the fixes of its mistakes read; shared by training and the handshake-only start. */
const workerProgram = {
  name: 'the trainer worker',
  plugin: 'trainer/torch',
  eventTypes: workerEventTypes,
  fixes: { user: 'correct the trainer options or the student block of the pipeline', output: restartFix },
} as const;

/**
 * Starts a worker, checks its handshake, sends the request, forwards its events, and resolves with
 * the `hello` and `done` events; every failure is a rejection that says what happened (see
 * {@link runPythonProgram}). On abort the worker is asked to checkpoint and stop (a `cancel` line,
 * or SIGTERM under torchrun or before the handshake), and killed if it does not within the grace
 * period; the promise then rejects with the signal's reason.
 */
export async function runWorker(settings: WorkerRunSettings): Promise<{ hello: HelloEvent; done: DoneEvent }> {
  const { command } = settings;
  const overStdin = command.requestChannel === 'stdin';
  return runPythonProgram<WorkerEvent>({
    ...workerProgram,
    command,
    handshakeTimeoutMs: settings.handshakeTimeoutMs,
    cancelGraceMs: settings.cancelGraceMs,
    ...(settings.processes ? { processes: settings.processes } : {}),
    ...(settings.signal ? { signal: settings.signal } : {}),
    onEvent: settings.onEvent,
    onHandshake: (program) => {
      if (overStdin) program.send({ type: 'train', protocol: programProtocolVersion, request: settings.request });
    },
    cancel: (program: RunningProgram) => (overStdin && program.hello ? program.send({ type: 'cancel' }) : program.signal('SIGTERM')),
  });
}

/**
 * Starts a single worker only for its handshake (versions and capabilities), then lets it go: a
 * `cancel` before any request makes it say `done` and exit.
 */
export async function workerHandshake(command: WorkerCommand, handshakeTimeoutMs: number, processes?: ChildProcesses): Promise<HelloEvent> {
  const { hello } = await runPythonProgram<WorkerEvent>({
    ...workerProgram,
    command,
    handshakeTimeoutMs,
    ...(processes ? { processes } : {}),
    cancelGraceMs: handshakeTimeoutMs,
    onHandshake: (program) => program.send({ type: 'cancel' }),
  });
  return hello;
}
