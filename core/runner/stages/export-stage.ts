import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { PluginStep } from '../../config/pipeline-config.js';
import { comparePrecisions } from '../../inference/compare-precisions.js';
import { writeModelReadme, type MeasuredAccuracy } from '../../inference/model-readme.js';
import { choosePrecision, int8MinimumExamples, writePrecisionChoice, type PrecisionChoice } from '../../inference/precision-choice.js';
import { holdsGraphs } from '../../inference/student-folder.js';
import type { QuantizationComparisonRequest } from '../../plugins/kinds/exporter.js';
import type { Dataset } from '../../plugins/kinds/dataset.js';
import type { StageContext, StageDefinition } from '../stage-definition.js';
import type { ExportStageOutput } from '../stage-outputs.js';
import { stepIdentity } from '../step-identity.js';
import type { PipelineContext } from './pipeline-context.js';
import { readTestSplit } from './test-split.js';

/** Every file under a folder, relative, and their total size. */
function folderContents(directory: string): { files: string[]; bytes: number } {
  const files: string[] = [];
  let bytes = 0;
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const full = path.join(folder, entry.name);
      if (entry.isDirectory()) walk(full);
      else {
        files.push(path.relative(directory, full));
        bytes += statSync(full).size;
      }
    }
  };
  walk(directory);
  return { files: files.sort(), bytes };
}

/** Id and split of the made-up example whose fields are their own placeholders. */
const placeholderExample = 'input-format';

/**
 * The dataset's student input as a `{field}` template: the input of an example whose every field is
 * its own placeholder. Null where the dataset builds the input from fields of another shape (a list
 * of choices) and refuses placeholders.
 */
export function studentInputTemplate(dataset: Dataset): string | null {
  const fields = Object.fromEntries(dataset.fields.map((field) => [field, `{${field}}`]));
  try {
    return dataset.studentInput({ id: placeholderExample, split: placeholderExample, fields, goldLabel: null });
  } catch {
    return null;
  }
}

/**
 * The folder's default precision (`distill-precision.json`), when the exporter wrote int8 graphs:
 * chosen on the validation examples the trainer chose its checkpoint on, never on the test split
 * the report scores. Too few of them to tell half a point: fp32, without scoring.
 */
async function chooseDefaultPrecision(
  stage: StageContext,
  outputDirectory: string,
  scoring: Omit<QuantizationComparisonRequest, 'examples'>,
): Promise<PrecisionChoice | null> {
  if (!holdsGraphs(outputDirectory, 'int8')) return null;
  const file = path.join(stage.upstream.trainer!.output.outputDirectory, 'data', 'validation.jsonl');
  const examples = existsSync(file) ? readTestSplit(file) : [];
  const source = 'the validation split';
  const measurement =
    examples.length >= int8MinimumExamples
      ? await comparePrecisions(outputDirectory, { ...scoring, examples }, (precision, count) =>
          stage.events.emit('export.progress', {
            message: `choosing the default precision: scoring ${precision} on ${count} validation examples`,
          }),
        )
      : { metric: scoring.metric, examples: examples.length, fullPrecisionAccuracy: null, quantizedAccuracy: null };
  const choice = choosePrecision(measurement, source);
  writePrecisionChoice(outputDirectory, choice);
  return choice;
}

/** Exports the trainer's chosen checkpoint into the stage folder's `model/`, with its README. */
async function exportModel(context: PipelineContext, step: PluginStep, stage: StageContext): Promise<ExportStageOutput> {
  const { loaded, instances, metric } = context;
  const trained = stage.upstream.trainer!.output;
  const exporter = await instances.of(loaded, 'exporter', step);
  const evaluators = await instances.all(loaded, 'evaluator', loaded.config.evaluators);
  const dataset = await instances.of(loaded, 'dataset', loaded.config.dataset);
  const outputDirectory = path.join(stage.stageDirectory, 'model');
  const test = readTestSplit(stage.upstream.dataset!.output.testFile);
  // Exporters that quantise measure the quantised model against full precision on the test split.
  const scoring = { metric, score: (prediction: string, gold: string) => evaluators[0]?.score(prediction, gold) ?? 0 };
  const result = await exporter.export(
    { checkpointDirectory: trained.checkpointDirectory, outputDirectory, comparison: { ...scoring, examples: test } },
    stage.events,
    stage.signal,
  );
  const precisionChoice = await chooseDefaultPrecision(stage, outputDirectory, scoring);
  const accuracies: MeasuredAccuracy[] = [
    {
      metric,
      accuracy: trained.testAccuracy,
      examples: trained.testExamples ?? test.length,
      what: `the chosen checkpoint (step ${trained.bestStep ?? '?'} of ${trained.steps}) in PyTorch, on the test split; the run's report has this folder's own score in Node`,
    },
    {
      metric,
      accuracy: trained.validationAccuracy,
      examples: null,
      what: 'the same checkpoint on the validation examples it was chosen on',
    },
  ];
  writeModelReadme(outputDirectory, {
    title: loaded.config.name,
    origin: `the pipeline ${path.basename(loaded.file)}, exported from the checkpoint its trainer chose`,
    inputTemplate: studentInputTemplate(dataset),
    example: test[0] ? { input: test[0].input, label: test[0].label } : null,
    labels: dataset.labels,
    accuracies: accuracies.filter((each) => Number.isFinite(each.accuracy)),
    quantization: result.quantization ?? null,
    precisionChoice,
  });
  const contents = folderContents(outputDirectory);
  return {
    directory: outputDirectory,
    files: contents.files,
    bytes: contents.bytes,
    quantization: result.quantization ?? null,
    precisionChoice,
  };
}

/** The export stage: the chosen checkpoint as the exporter's model folder (ONNX, transformers.js layout). */
export function exportStage(context: PipelineContext, step: PluginStep): StageDefinition<'export'> {
  return {
    name: 'export',
    inputs: { exporter: stepIdentity(context.loaded, 'exporter', step) },
    run: (stage) => exportModel(context, step, stage),
  };
}
