import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { findPythonInterpreter } from '../../../core/python/python-interpreter.js';
import type {
  ExportRequest,
  ExportResult,
  Exporter,
  QuantizationComparison,
  QuantizationComparisonRequest,
} from '../../../core/plugins/kinds/exporter.js';
import type { EventStream } from '../../../core/services/event-stream.js';
import type { PluginDependencies } from '../../../core/plugins/plugin-dependencies.js';
import type { OnnxExporterOptions } from './onnx-exporter-options.js';
import { runExportProgram } from './run-export-program.js';

async function folderBytes(directory: string, relativePaths: readonly string[]): Promise<number> {
  let total = 0;
  for (const relative of relativePaths) total += (await stat(path.join(directory, relative))).size;
  return total;
}

async function listFiles(directory: string, prefix = ''): Promise<string[]> {
  const entries = await readdir(path.join(directory, prefix), { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries) {
    const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) files.push(...(await listFiles(directory, relative)));
    else files.push(relative);
  }
  return files.sort();
}

/**
 * Decodes the comparison examples with both precisions through the Node inference code (the code
 * that will serve the model), so the reported int8 accuracy is the one users get.
 */
async function compareQuantized(
  outputDirectory: string,
  comparison: QuantizationComparisonRequest,
  files: readonly string[],
  events: EventStream,
): Promise<QuantizationComparison> {
  const { comparePrecisions } = await import('../../../core/inference/compare-precisions.js');
  const compared = await comparePrecisions(outputDirectory, comparison, (precision, examples) =>
    events.emit('export.progress', { message: `scoring the ${precision} model on ${examples} examples` }),
  );
  const onnxFiles = files.filter((file) => file.startsWith('onnx/'));
  return {
    ...compared,
    fullPrecisionBytes: await folderBytes(
      outputDirectory,
      onnxFiles.filter((file) => !file.includes('_quantized')),
    ),
    quantizedBytes: await folderBytes(
      outputDirectory,
      onnxFiles.filter((file) => file.includes('_quantized')),
    ),
  };
}

/** The `onnx` exporter: runs the Python export program, then optionally compares int8 with fp32. */
export function createOnnxExporter(options: OnnxExporterOptions, dependencies: PluginDependencies): Exporter {
  return {
    async export(request: ExportRequest, events: EventStream, signal: AbortSignal): Promise<ExportResult> {
      const interpreter = findPythonInterpreter(options.python, dependencies.environment);
      const outputDirectory = path.resolve(dependencies.baseDirectory, request.outputDirectory);
      const quantize = options.quantize ?? false;
      events.emit('export.start', { checkpoint: request.checkpointDirectory, output: outputDirectory, quantize });
      const program = await runExportProgram(
        {
          interpreter,
          checkpointDirectory: path.resolve(dependencies.baseDirectory, request.checkpointDirectory),
          outputDirectory,
          quantize,
          opset: options.opset ?? 14,
          threads: options.threads ?? 1,
          environment: dependencies.environment,
          processes: dependencies.processes,
        },
        events,
        signal,
      );
      const files = await listFiles(outputDirectory);
      const quantization =
        quantize && request.comparison ? await compareQuantized(outputDirectory, request.comparison, files, events) : undefined;
      const result: ExportResult = {
        outputDirectory,
        files,
        bytes: await folderBytes(outputDirectory, files),
        ...(quantization ? { quantization } : {}),
      };
      events.emit('export.done', {
        files: files.length,
        bytes: result.bytes,
        maxLogitDifference: program.maxLogitDifference,
        quantization,
      });
      return result;
    },
  };
}
