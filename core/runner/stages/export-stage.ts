import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { PluginStep } from '../../config/pipeline-config.js';
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

/** Exports the trainer's chosen checkpoint into the stage folder's `model/`. */
async function exportModel(context: PipelineContext, step: PluginStep, stage: StageContext): Promise<ExportStageOutput> {
  const { loaded, instances, metric } = context;
  const trained = stage.upstream.trainer!.output;
  const exporter = await instances.of(loaded, 'exporter', step);
  const evaluators = await instances.all(loaded, 'evaluator', loaded.config.evaluators);
  const outputDirectory = path.join(stage.stageDirectory, 'model');
  // Exporters that quantise measure the quantised model against full precision on the test split.
  const comparison = {
    examples: readTestSplit(stage.upstream.dataset!.output.testFile),
    metric,
    score: (prediction: string, gold: string) => evaluators[0]?.score(prediction, gold) ?? 0,
  };
  const result = await exporter.export(
    { checkpointDirectory: trained.checkpointDirectory, outputDirectory, comparison },
    stage.events,
    stage.signal,
  );
  const contents = folderContents(outputDirectory);
  return { directory: outputDirectory, files: contents.files, bytes: contents.bytes, quantization: result.quantization ?? null };
}

/** The export stage: the chosen checkpoint as the exporter's model folder (ONNX, transformers.js layout). */
export function exportStage(context: PipelineContext, step: PluginStep): StageDefinition<'export'> {
  return {
    name: 'export',
    inputs: { exporter: stepIdentity(context.loaded, 'exporter', step) },
    run: (stage) => exportModel(context, step, stage),
  };
}
