import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { UserError } from '../../../core/errors/user-error.js';
import { packagePath } from '../../../core/package-root.js';
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
}

/** What the program reported on success. */
export interface ExportProgramResult {
  readonly files: string[];
  /** Largest logit difference between onnxruntime and PyTorch in the program's own check. */
  readonly maxLogitDifference: number;
}

interface ProgramLine {
  event?: string;
  message?: string;
  kind?: string;
  fix?: string;
  trace?: string;
  files?: string[];
  max_logit_difference?: number;
}

/**
 * Runs `export_onnx.py` as a child process and follows its JSON-lines protocol: `progress` lines
 * become `export.progress` events, a `user` error becomes a {@link UserError}, anything else that
 * fails is a bug and is thrown with the program's trace and stderr tail. Aborting kills the child.
 */
export function runExportProgram(options: ExportProgramArguments, events: EventStream, signal: AbortSignal): Promise<ExportProgramResult> {
  const argumentsList = [
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
  return new Promise((resolve, reject) => {
    const child = spawn(options.interpreter, argumentsList, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PYTHONUNBUFFERED: '1', TRANSFORMERS_VERBOSITY: 'error' },
      signal,
    });
    let result: ProgramLine | null = null;
    let failure: ProgramLine | null = null;
    let stderrTail = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderrTail = (stderrTail + chunk.toString('utf8')).slice(-4000);
    });
    createInterface({ input: child.stdout }).on('line', (text) => {
      let line: ProgramLine;
      try {
        line = JSON.parse(text) as ProgramLine;
      } catch {
        return; // a library printed to stdout; the protocol lines are the JSON ones
      }
      if (line.event === 'progress') events.emit('export.progress', { message: line.message });
      else if (line.event === 'result') result = line;
      else if (line.event === 'error') failure = line;
    });
    child.on('error', (error) => reject(error));
    child.on('close', (code) => {
      const failed = failure as ProgramLine | null;
      const succeeded = result as ProgramLine | null;
      if (failed?.kind === 'user') {
        reject(
          new UserError({
            message: failed.message ?? 'export failed',
            plugin: 'exporter/onnx',
            ...(failed.fix ? { fix: failed.fix } : {}),
          }),
        );
      } else if (code === 0 && succeeded) {
        resolve({ files: succeeded.files ?? [], maxLogitDifference: succeeded.max_logit_difference ?? Number.NaN });
      } else {
        const detail = failed ? `${failed.message}\n${failed.trace ?? ''}` : stderrTail;
        reject(new Error(`ONNX export program exited with ${code}: ${detail}`));
      }
    });
  });
}
