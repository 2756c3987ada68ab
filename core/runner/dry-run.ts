import { loadPipeline } from '../config/load-pipeline.js';
import { withRun } from '../container/run-scope.js';
import type { PluginRegistry } from '../plugins/plugin-registry.js';
import { estimatePipeline, type Estimate } from '../teacher/estimate.js';
import { PipelineInstances } from './pipeline-instances.js';
import { pipelineStages } from './pipeline-stages.js';
import { runDirectoryOf } from './run-pipeline.js';
import { stageDirectory, stageSignatures } from './run-stages.js';
import { readStageRecord } from './stage-record.js';
import type { StageName } from './stage-name.js';

/** What `distill run --dry-run` reports: the plan and its cost, with nothing spent. */
export interface DryRun {
  readonly pipeline: string;
  readonly runDirectory: string;
  /** Each stage and whether a run now would reuse its stored output. */
  readonly stages: readonly { stage: StageName; signature: string; stored: boolean }[];
  readonly estimate: Estimate;
}

/**
 * Validates the pipeline, creates its plugins (so a missing key or file shows now), works out which
 * stages a run would reuse, and estimates the teacher's tokens and dollars. Calls no teacher and
 * trains nothing.
 */
export async function dryRunPipeline(
  file: string,
  registry: PluginRegistry,
  environment: Readonly<Record<string, string | undefined>> = process.env,
): Promise<DryRun> {
  const loaded = await loadPipeline(file, { environment, registry });
  const runDirectory = runDirectoryOf(loaded);
  return withRun({ registry: loaded.registry, environment, baseDirectory: loaded.baseDirectory }, async ({ dependencies, caches }) => {
    const stages = await pipelineStages(loaded, { instances: new PipelineInstances(dependencies), caches });
    const signatures = stageSignatures(stages);
    const plan = stages.map((stage, index) => {
      const signature = signatures[index]!;
      const directory = stageDirectory(runDirectory, stage.name, signature);
      return { stage: stage.name, signature, stored: readStageRecord(directory, { stage: stage.name, signature }) !== null };
    });
    return { pipeline: loaded.file, runDirectory, stages: plan, estimate: await estimatePipeline(loaded, { environment }) };
  });
}
