import { evaluateStudent } from '../../inference/evaluate-student.js';
import { loadStudent } from '../../inference/load-student.js';
import { percentile } from '../../report/statistics.js';
import type { StageContext, StageDefinition } from '../stage-definition.js';
import type { EvaluateStageOutput } from '../stage-outputs.js';
import { stepIdentity } from '../step-identity.js';
import type { PipelineContext } from './pipeline-context.js';
import { readTestSplit } from './test-split.js';

/** Milliseconds of one prediction at batch 1, over real inputs, after one warm-up call. */
async function latencies(model: string, inputs: readonly string[]): Promise<number[]> {
  const student = await loadStudent(model);
  const measured: number[] = [];
  try {
    if (inputs.length > 0) await student.predict([inputs[0]!]);
    for (const input of inputs) {
      const started = performance.now();
      await student.predict([input]);
      measured.push(performance.now() - started);
    }
  } finally {
    await student.close();
  }
  return measured.sort((left, right) => left - right);
}

/** Scores the exported model in Node on the dataset stage's test split and measures its latency. */
async function evaluate(context: PipelineContext, stage: StageContext): Promise<EvaluateStageOutput> {
  const { metric } = context;
  const trained = stage.upstream.trainer!.output;
  const exported = stage.upstream.export!.output;
  const testFile = stage.upstream.dataset!.output.testFile;
  // No length options: the exported folder carries the trainer's input cut-off and generation
  // length, and scoring with its defaults is what `distill eval` and `distill serve` do.
  const report = await evaluateStudent({ model: exported.directory, registry: context.loaded.registry, dataset: testFile, metric });
  const measured = await latencies(
    exported.directory,
    readTestSplit(testFile)
      .slice(0, 50)
      .map((example) => example.input),
  );
  return {
    metric,
    accuracy: report.accuracy,
    examples: report.examples,
    trainerAccuracy: trained.testAccuracy,
    latencyMilliseconds: { p50: percentile(measured, 0.5), p95: percentile(measured, 0.95) },
  };
}

/** The evaluate stage: the exported student scored in Node, as `distill eval` and `distill serve` run it. */
export function evaluateStage(context: PipelineContext): StageDefinition<'evaluate'> {
  return {
    name: 'evaluate',
    inputs: { evaluators: context.loaded.config.evaluators.map((step) => stepIdentity(context.loaded, 'evaluator', step)) },
    run: (stage) => evaluate(context, stage),
  };
}
