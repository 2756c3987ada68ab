import path from 'node:path';
import { packagePath } from '../../../core/package-root.js';
import type { ProgramDone, ProgramError, ProgramHello } from '../../../core/python/program-protocol.js';
import type { ChildProcesses } from '../../../core/services/child-processes.js';
import { runPythonProgram } from '../../../core/python/python-program.js';
import type { EventStream } from '../../../core/services/event-stream.js';

/**
 * The Python program of this plugin. It stays in the source tree (tsc does not copy `.py` files;
 * the package ships every `.py` under plugins/), so it is found from the package root, not from dist/.
 */
export const exportProgramPath = packagePath('plugins', 'exporters', 'onnx', 'python', 'export_onnx.py');

/** Arguments of one export. */
export interface ExportProgramArguments {
  readonly interpreter: string;
  readonly checkpointDirectory: string;
  readonly outputDirectory: string;
  readonly quantize: boolean;
  readonly opset: number;
  readonly threads: number;
  /** Environment variables of the run. */
  readonly environment: Readonly<Record<string, string | undefined>>;
  /** The run's process list, which stops the program if the run ends first. */
  readonly processes?: ChildProcesses;
}

/** What the program reported on success. */
export interface ExportProgramResult {
  readonly files: string[];
  /** Largest logit difference between onnxruntime and PyTorch in the program's own check. */
  readonly maxLogitDifference: number;
}

/** A step of the export, for the progress display. */
interface ProgressLine {
  readonly type: 'progress';
  readonly message: string;
}

/** The export program's last line on success. */
interface ExportDone extends ProgramDone {
  readonly files: string[];
  readonly max_logit_difference: number | null;
}

/** Every line the export program writes. */
type ExportProgramEvent = ProgramHello | ProgressLine | ProgramError | ExportDone;

/** Slow imports of torch and onnx on a loaded machine: the same allowance as the trainer worker's default. */
const handshakeTimeoutMs = 300_000;

/**
 * Runs `export_onnx.py` through the shared runner of distill's JSON-lines protocol: its handshake
 * becomes an `export.handshake` event (the package versions the export ran with), `progress` lines
 * `export.progress` events; a `user` error is a {@link UserError}, anything else that fails is a bug
 * thrown with the program's traceback and stderr tail. Aborting stops the program (SIGTERM).
 */
export async function runExportProgram(
  options: ExportProgramArguments,
  events: EventStream,
  signal: AbortSignal,
): Promise<ExportProgramResult> {
  const args = [
    exportProgramPath,
    '--checkpoint',
    path.resolve(options.checkpointDirectory),
    '--output',
    path.resolve(options.outputDirectory),
    '--opset',
    String(options.opset),
    '--threads',
    String(options.threads),
    ...(options.quantize ? ['--quantize'] : []),
  ];
  const { done } = await runPythonProgram<ExportProgramEvent>({
    name: 'the ONNX export program',
    plugin: 'exporter/onnx',
    command: {
      executable: options.interpreter,
      args,
      environment: { ...options.environment, TRANSFORMERS_VERBOSITY: 'error' },
      interpreter: options.interpreter,
    },
    eventTypes: new Set(['progress']),
    fixes: {
      user: 'export the folder of a checkpoint the trainer chose, T5 or causal LM (it holds config.json, model.safetensors and the tokenizer)',
    },
    handshakeTimeoutMs,
    cancelGraceMs: 10_000,
    ...(options.processes ? { processes: options.processes } : {}),
    signal,
    onEvent: (event) => {
      if (event.type === 'hello') events.emit('export.handshake', { program: event.program, versions: event.versions });
      if (event.type === 'progress') events.emit('export.progress', { message: event.message });
    },
  });
  return { files: done.files, maxLogitDifference: done.max_logit_difference ?? Number.NaN };
}
