import { builtinPlugins } from '../../plugins/builtin-plugins.js';
import { createRootContainer, createRunContainer, pluginDependencies } from '../container/root-container.js';
import type { ExportResult, Exporter } from '../plugins/kinds/exporter.js';
import { PluginRegistry } from '../plugins/plugin-registry.js';
import type { EventListener } from '../services/event-stream.js';
import { readEvaluationExamples, type EvaluationSource } from './evaluation-examples.js';
import { createEvaluator } from './score-predictions.js';

/** What `distill export` asks for. */
export interface ExportStudentRequest {
  /** Hugging Face checkpoint folder (what the trainer chose). */
  readonly checkpoint: string;
  /** Folder to write the exported student into. */
  readonly output: string;
  /** Also write int8 graphs. */
  readonly quantize?: boolean;
  /** Python interpreter (default: `$DISTILL_PYTHON`, else the project virtualenv). */
  readonly python?: string;
  /** With `quantize`: the examples on which int8 is compared with fp32 (a named dataset's split or a JSONL file). */
  readonly comparison?: EvaluationSource;
  /** Receives `export.*` progress events. */
  readonly onEvent?: EventListener;
  readonly signal?: AbortSignal;
}

/**
 * Exports a checkpoint with the built-in `onnx` exporter outside a pipeline run, the way the
 * pipeline's export stage runs it: the plugin is created from the one registry with validated-shape
 * options and the run services of a fresh container.
 */
export async function exportStudent(request: ExportStudentRequest): Promise<ExportResult> {
  const registry = new PluginRegistry(builtinPlugins);
  const root = createRootContainer({ registry });
  const run = createRunContainer(root, { baseDirectory: process.cwd(), signal: request.signal ?? new AbortController().signal });
  try {
    const dependencies = pluginDependencies(run);
    const unsubscribe = request.onEvent ? dependencies.events.subscribe(request.onEvent) : () => undefined;
    const options = { quantize: request.quantize ?? false, ...(request.python ? { python: request.python } : {}) };
    const exporter = (await registry.get('exporter', 'onnx').create(options, dependencies)) as Exporter;
    let comparison;
    if (request.quantize && request.comparison) {
      const set = await readEvaluationExamples(request.comparison, registry);
      const evaluator = await createEvaluator(set.metric);
      comparison = { examples: set.examples, metric: set.metric, score: evaluator.score };
    }
    try {
      return await exporter.export(
        { checkpointDirectory: request.checkpoint, outputDirectory: request.output, ...(comparison ? { comparison } : {}) },
        dependencies.events,
        dependencies.signal,
      );
    } finally {
      unsubscribe();
    }
  } finally {
    await run.dispose();
  }
}
