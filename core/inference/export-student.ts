import { existsSync } from 'node:fs';
import path from 'node:path';
import type { PluginStep } from '../config/pipeline-config.js';
import { withRun } from '../container/run-scope.js';
import { UserError } from '../errors/user-error.js';
import { createPluginInstance } from '../plugins/create-plugin-instance.js';
import type { ExportResult } from '../plugins/kinds/exporter.js';
import type { PluginRegistry } from '../plugins/plugin-registry.js';
import type { EventListener } from '../services/event-stream.js';
import { readEvaluationExamples, type EvaluationSource } from './evaluation-examples.js';
import { writeModelReadme } from './model-readme.js';
import { choosePrecision, writePrecisionChoice } from './precision-choice.js';
import { holdsGraphs } from './student-folder.js';
import { createEvaluator } from './score-predictions.js';

/** What `distill export` asks for. */
export interface ExportStudentRequest {
  /** Hugging Face checkpoint folder (what the trainer chose). */
  readonly checkpoint: string;
  /** Folder to write the exported student into. */
  readonly output: string;
  /** The exporter and its options; default: the registry's default exporter. */
  readonly exporter?: PluginStep;
  /** The examples on which an exporter that quantises compares its export with full precision (a named dataset's split or a JSONL file). */
  readonly comparison?: EvaluationSource;
  /** Receives `export.*` progress events. */
  readonly onEvent?: EventListener;
  readonly signal?: AbortSignal;
}

/** The exporter step of a request: its own, else the registry's default (the composition root's). */
function exporterStep(request: ExportStudentRequest, registry: PluginRegistry): PluginStep {
  const step = request.exporter ?? registry.defaults.exporter;
  if (!step) {
    throw new UserError({
      message: 'no exporter to export with: the request names none and the plugin registry has no default exporter',
      fix: 'name an exporter plugin, or give the registry a default exporter (the built-in registry has one)',
    });
  }
  return step;
}

/**
 * Exports a checkpoint outside a pipeline run, the way the pipeline's export stage runs it: the
 * exporter (the request's, else the registry's default) and the comparison's evaluator are created
 * from the registry with schema-checked options and the run services of a fresh container. A folder
 * distill can load (it has a `config.json`) gets its README, with what is known outside a pipeline:
 * the task prefixes or the decoder prompt, the labels of a decoder, the first comparison example as
 * the input to try, and the int8 comparison.
 */
export async function exportStudent(request: ExportStudentRequest, registry: PluginRegistry): Promise<ExportResult> {
  const scope = { registry, baseDirectory: process.cwd(), signal: request.signal, listener: request.onEvent };
  return withRun(scope, async ({ dependencies }) => {
    const exporter = await createPluginInstance(registry, 'exporter', exporterStep(request, registry), dependencies);
    let comparison;
    let comparisonSource = '';
    if (request.comparison) {
      const set = await readEvaluationExamples(request.comparison, registry);
      comparisonSource = set.description;
      const evaluator = await createEvaluator(registry, set.metric, dependencies);
      comparison = {
        examples: set.examples,
        metric: set.metric,
        score: (prediction: string, gold: string) => evaluator.score(prediction, gold),
      };
    }
    const result = await exporter.export(
      { checkpointDirectory: request.checkpoint, outputDirectory: request.output, ...(comparison ? { comparison } : {}) },
      dependencies.events,
      dependencies.signal,
    );
    // The comparison the user gave decides the folder's default precision (docs/onnx-layout.md: give a validation set).
    const precisionChoice =
      result.quantization && comparison && holdsGraphs(request.output, 'int8')
        ? choosePrecision(result.quantization, comparisonSource)
        : null;
    if (precisionChoice) writePrecisionChoice(request.output, precisionChoice);
    if (existsSync(path.join(request.output, 'config.json'))) {
      const example = comparison?.examples[0];
      writeModelReadme(request.output, {
        title: 'distill student',
        origin: `\`distill export\` of the checkpoint ${path.basename(path.resolve(request.checkpoint))}`,
        inputTemplate: null,
        example: example ? { input: example.input, label: example.label } : null,
        labels: null,
        accuracies: [],
        quantization: result.quantization ?? null,
        precisionChoice,
      });
    }
    return result;
  });
}
