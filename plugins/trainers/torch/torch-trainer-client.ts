import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { writeFileNoFollow } from '../../../core/files/no-follow-files.js';
import type { ChildProcesses } from '../../../core/services/child-processes.js';
import type { EventStream } from '../../../core/services/event-stream.js';
import type { Logger } from '../../../core/services/logger.js';
import type { Trainer, TrainerEnvironment, TrainingExample, TrainRequest, TrainResult } from '../../../core/plugins/kinds/trainer.js';
import { programProtocolVersion } from '../../../core/python/program-protocol.js';
import { clientOnlyOptions, workerOptionsSchema, type TorchTrainerOptions } from './torch-trainer-options.js';
import { workerMainScript } from './worker-location.js';
import { restartFix, runWorker, workerHandshake, type WorkerCommand } from './worker-process.js';
import type { HelloEvent, WorkerEvent, WorkerTrainRequest } from './worker-protocol.js';

/**
 * Writes examples as the JSON Lines the worker reads (never through a link planted in the stage
 * folder). `weight` is written only where an example has one, so data without weights is written
 * byte for byte as before weights existed.
 */
export function writeExamples(file: string, examples: readonly TrainingExample[]): void {
  const lines = examples.map((example) =>
    JSON.stringify({
      id: example.id,
      input: example.input,
      label: example.label,
      rationale: example.rationale,
      ...(example.weight === undefined ? {} : { weight: example.weight }),
    }),
  );
  writeFileNoFollow(file, lines.length > 0 ? lines.join('\n') + '\n' : '');
}

/** The worker's options: the plugin options minus those only the TypeScript side uses. */
export function workerOptions(options: TorchTrainerOptions): Record<string, unknown> {
  return Object.fromEntries(Object.entries(options).filter(([name]) => !clientOnlyOptions.includes(name)));
}

/**
 * How to start the worker: `python main.py` (request over stdin), or, with `devices` > 1,
 * `python -m torch.distributed.run --nproc_per_node N main.py --request FILE` (the module behind
 * `torchrun`, so no second executable has to be found next to the interpreter).
 */
export function workerCommand(
  interpreter: string,
  options: TorchTrainerOptions,
  requestFile: string,
  environment: Readonly<Record<string, string | undefined>>,
): WorkerCommand {
  const devices = options.devices ?? 1;
  // The worker chooses OpenMP's wait policy before torch loads, before a request on stdin arrives,
  // so `spinning` travels in the environment (the user's own $OMP_WAIT_POLICY still wins there).
  const workerEnvironment = { ...environment, DISTILL_WORKER_SPINNING: String(options.spinning ?? 'auto') };
  if (devices > 1) {
    return {
      executable: interpreter,
      args: ['-m', 'torch.distributed.run', '--standalone', `--nproc_per_node=${devices}`, workerMainScript, '--request', requestFile],
      environment: workerEnvironment,
      interpreter,
      requestChannel: 'file',
    };
  }
  return { executable: interpreter, args: [workerMainScript], environment: workerEnvironment, interpreter, requestChannel: 'stdin' };
}

/**
 * Turns a worker event into a `train.*` event of the run's event stream: `hello` becomes
 * `train.handshake`, every other type `train.<type>`, with the worker's snake_case fields as they
 * are (the progress display reads `step`, `total_steps`, `loss`, `tokens_per_second`,
 * `eta_seconds`). Warnings and damaged checkpoints also go to the logger.
 */
export function forwardEvent(event: WorkerEvent, events: EventStream, logger: Logger): void {
  const { type, ...fields } = event;
  if (type === 'warning') logger.warn(`trainer: ${event.message}`);
  if (type === 'checkpoint_damaged') logger.warn(`trainer: ${event.message}; ${restartFix}`);
  events.emit(type === 'hello' ? 'train.handshake' : `train.${type}`, fields);
}

/** Writes the three splits as JSON Lines into `<output>/data`; returns their paths. */
function writeSplits(output: string, request: TrainRequest): WorkerTrainRequest['data'] {
  const dataDirectory = path.join(output, 'data');
  const data = {
    train: path.join(dataDirectory, 'train.jsonl'),
    validation: path.join(dataDirectory, 'validation.jsonl'),
    test: path.join(dataDirectory, 'test.jsonl'),
  };
  writeExamples(data.train, request.train);
  writeExamples(data.validation, request.validation);
  writeExamples(data.test, request.test);
  return data;
}

/** The worker's `train` request for `request`, its options checked by the worker against the schema it carries. */
export function workerTrainRequest(
  output: string,
  data: WorkerTrainRequest['data'],
  request: TrainRequest,
  options: TorchTrainerOptions,
): WorkerTrainRequest {
  return {
    output_directory: output,
    data,
    student: { ...request.student },
    alpha: { start: request.alpha.start, end: request.alpha.end },
    metric: request.metric,
    seed: request.seed,
    resume: request.resume,
    options: workerOptions(options),
    options_schema: workerOptionsSchema,
  };
}

/** The `torch` trainer: writes the data and request into the output folder and drives the Python worker. */
export class TorchTrainer implements Trainer {
  /** The last handshake of a worker this trainer started: what {@link environment} reports. */
  private handshake: HelloEvent | undefined;

  constructor(
    private readonly options: TorchTrainerOptions,
    private readonly interpreter: string,
    private readonly processEnvironment: Readonly<Record<string, string | undefined>>,
    private readonly logger: Logger,
    /** The run's process list: every worker this trainer starts stops with the run. */
    private readonly processes?: ChildProcesses,
  ) {}

  async train(request: TrainRequest, events: EventStream, signal: AbortSignal): Promise<TrainResult> {
    const output = path.resolve(request.outputDirectory);
    await mkdir(path.join(output, 'data'), { recursive: true });
    const workerRequest = workerTrainRequest(output, writeSplits(output, request), request, this.options);
    // Always on disk: it documents the run, and a torchrun launch reads it from there.
    const requestFile = path.join(output, 'request.json');
    writeFileNoFollow(
      requestFile,
      JSON.stringify({ type: 'train', protocol: programProtocolVersion, request: workerRequest }, null, 2) + '\n',
    );

    const { done } = await runWorker({
      command: workerCommand(this.interpreter, this.options, requestFile, this.processEnvironment),
      request: workerRequest,
      onEvent: (event) => {
        if (event.type === 'hello') this.handshake = event;
        forwardEvent(event, events, this.logger);
      },
      signal,
      ...(this.processes ? { processes: this.processes } : {}),
      handshakeTimeoutMs: this.handshakeTimeoutMs(),
      cancelGraceMs: (this.options.cancel_grace_s ?? 120) * 1000,
    });
    return {
      checkpointDirectory: done.checkpoint ?? path.join(output, 'best'),
      steps: done.steps,
      validationAccuracy: done.validation_accuracy ?? Number.NaN,
      testAccuracy: done.test_accuracy ?? Number.NaN,
      ...(done.test_examples === undefined ? {} : { testExamples: done.test_examples }),
      status: done.status,
      bestStep: done.best_step,
      metricsFile: done.metrics_file ?? path.join(output, 'metrics.jsonl'),
    };
  }

  /**
   * The versions of the worker's packages, from its handshake: the last training run's, or a worker
   * started only to say hello (one process, whatever `devices` says; a few seconds to import torch).
   */
  async environment(): Promise<TrainerEnvironment> {
    this.handshake ??= await workerHandshake(
      workerCommand(this.interpreter, { ...this.options, devices: 1 }, '', this.processEnvironment),
      this.handshakeTimeoutMs(),
      this.processes,
    );
    return { packages: this.handshake.versions };
  }

  private handshakeTimeoutMs(): number {
    return (this.options.handshake_timeout_s ?? 300) * 1000;
  }
}
