import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { createStepInstance } from '../config/create-step-instance.js';
import type { LoadedPipeline } from '../config/load-pipeline.js';
import { evaluateStudent } from '../inference/evaluate-student.js';
import { percentile } from '../report/statistics.js';
import { loadStudent } from '../inference/load-student.js';
import type { Dataset } from '../plugins/kinds/dataset.js';
import type { QuantizationComparison } from '../plugins/kinds/exporter.js';
import type { Evaluator } from '../plugins/kinds/evaluator.js';
import type { PluginDependencies } from '../plugins/plugin-dependencies.js';
import { teachPipeline, type SplitRole } from '../teacher/teach-pipeline.js';
import type { TeacherReport } from '../teacher/teacher-report.js';
import { readTeacherRecords } from '../training/read-teacher-records.js';
import { trainLoadedPipeline } from '../training/train-pipeline.js';
import type { TrainStageResult } from '../training/train-stage.js';
import { hashFiles } from './file-hashes.js';
import type { StageDefinition } from './stage-definition.js';
import { stepIdentity } from './step-identity.js';

/** What the dataset stage records: split sizes and the majority class of the test split. */
export interface DatasetStageOutput {
  readonly examples: Record<string, number>;
  /** Share of the most frequent gold label in the test split: the bar a student must clear. */
  readonly majorityClass: { readonly label: string; readonly share: number } | null;
}

/** What the export stage records. */
export interface ExportStageOutput {
  readonly directory: string;
  readonly files: readonly string[];
  readonly bytes: number;
  /** The quantised model's accuracy against full precision, when the exporter quantised. */
  readonly quantization: QuantizationComparison | null;
}

/** What the evaluate stage records: the exported student scored in Node, and its latency. */
export interface EvaluateStageOutput {
  readonly metric: string;
  readonly accuracy: number;
  readonly examples: number;
  /** PyTorch test accuracy of the same checkpoint, from the trainer. */
  readonly trainerAccuracy: number;
  readonly latencyMilliseconds: { readonly p50: number; readonly p95: number };
}

/** The examples the trainer scored on test (its `data/test.jsonl`), so export and evaluation use exactly those. */
function trainerTestExamples(trained: TrainStageResult): { input: string; label: string }[] {
  const file = path.join(trained.outputDirectory, 'data', 'test.jsonl');
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as { input: string; label: string });
}

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

async function countSplit(
  dataset: Dataset,
  split: string,
  limit: number | undefined,
): Promise<{ count: number; labels: Map<string, number> }> {
  let count = 0;
  const labels = new Map<string, number>();
  for await (const example of dataset.read(split)) {
    if (limit !== undefined && count >= limit) break;
    count++;
    if (example.goldLabel !== null) labels.set(example.goldLabel, (labels.get(example.goldLabel) ?? 0) + 1);
  }
  return { count, labels };
}

/** Options of {@link pipelineStages}. */
export interface PipelineStagesOptions {
  /** Roles the teacher labels (default: train); more roles make a teacher stage of their own. */
  readonly teacherRoles?: readonly SplitRole[];
  /** Train from scratch even where the trainer stage's folder holds checkpoints of the same request. */
  readonly restartTrainer?: boolean;
}

/**
 * The stages of one pipeline, with the inputs their signatures are computed from. Plugin instances
 * are created once per run, up front, so a bad option or a missing API key fails before any stage
 * spends anything.
 */
export async function pipelineStages(
  loaded: LoadedPipeline,
  dependencies: PluginDependencies,
  options: PipelineStagesOptions = {},
): Promise<StageDefinition[]> {
  const teacherRoles = options.teacherRoles ?? ['train'];
  const { config } = loaded;
  const dataset = await createStepInstance(loaded, 'dataset', config.dataset, dependencies);
  const prompt = await createStepInstance(loaded, 'prompt', config.prompt, dependencies);
  const evaluators: Evaluator[] = [];
  for (const step of config.evaluators) evaluators.push(await createStepInstance(loaded, 'evaluator', step, dependencies));
  // Never empty: the schema asks for one evaluator at least, and the registry's defaults fill an absent list.
  const metric = evaluators[0]!.metric;
  const { splits, limit } = config.dataset;
  const roleSplits = [splits.train, splits.validation, splits.test].filter((split): split is string => split !== undefined);
  const dataHashes = await hashFiles(roleSplits.flatMap((split) => dataset.sourceFiles(split)));
  const datasetIdentity = {
    ...stepIdentity(loaded, 'dataset', config.dataset),
    splits,
    limit,
    validation_fraction: config.dataset.validation_fraction,
    files: dataHashes,
  };

  const stages: StageDefinition[] = [
    {
      name: 'dataset',
      inputs: datasetIdentity,
      async run(): Promise<DatasetStageOutput> {
        const examples: Record<string, number> = {};
        let majorityClass: DatasetStageOutput['majorityClass'] = null;
        for (const [role, split] of Object.entries(splits)) {
          const counted = await countSplit(dataset, split, limit[role as keyof typeof limit]);
          examples[role] = counted.count;
          if (role === 'test' && counted.labels.size > 0 && dataset.labels !== null) {
            const [label, count] = [...counted.labels].sort((left, right) => right[1] - left[1])[0]!;
            majorityClass = { label, share: count / counted.count };
          }
        }
        return { examples, majorityClass };
      },
    },
    {
      name: 'teacher',
      inputs: {
        teacher: stepIdentity(loaded, 'teacher', config.teacher),
        prompt: { ...stepIdentity(loaded, 'prompt', config.prompt), templateHash: prompt.templateHash },
        parser: stepIdentity(loaded, 'parser', config.parser),
        evaluator: config.evaluators[0] ? stepIdentity(loaded, 'evaluator', config.evaluators[0]) : null,
        roles: teacherRoles,
      },
      async run(context): Promise<TeacherReport> {
        const { report } = await teachPipeline(loaded, {
          roles: teacherRoles,
          directory: context.stageDirectory,
          dependencies: { ...dependencies, events: context.events, signal: context.signal },
        });
        return report;
      },
      // Stopped at its budget, by a cancel or by failures above teacher.max_failure_rate: not stored,
      // so the next run resumes it from the cache.
      complete: (report: TeacherReport) => report.stopped === null,
      // Failures within the rate: training goes on without them, and the next run asks them again.
      partial: (report: TeacherReport) => (report.failed > 0 ? report.failed_digest : null),
    },
    {
      name: 'trainer',
      inputs: {
        samplers: config.samplers.map((step) => stepIdentity(loaded, 'sampler', step)),
        loss: stepIdentity(loaded, 'loss-weight', config.loss),
        trainer: stepIdentity(loaded, 'trainer', config.trainer),
        student: config.student,
        metric,
        seed: config.seed,
      },
      async run(context): Promise<TrainStageResult> {
        const teacherDirectory = context.upstream.teacher
          ? path.join(context.runDirectory, 'stages', 'teacher', context.upstream.teacher.signature.slice(0, 16))
          : '';
        const records = await readTeacherRecords(path.join(teacherDirectory, 'teacher-records.jsonl'), loaded.file);
        const result = await trainLoadedPipeline(loaded, {
          records,
          dataset,
          dependencies: { ...dependencies, events: context.events, signal: context.signal },
          outputDirectory: context.stageDirectory,
          restart: options.restartTrainer,
        });
        if (result.status === 'cancelled') throw context.signal.reason ?? new Error('training was cancelled');
        return result;
      },
    },
  ];

  if (config.export) {
    const exportStep = config.export;
    stages.push({
      name: 'export',
      inputs: { exporter: stepIdentity(loaded, 'exporter', exportStep) },
      async run(context): Promise<ExportStageOutput> {
        const trained = context.upstream.trainer!.output as TrainStageResult;
        const exporter = await createStepInstance(loaded, 'exporter', exportStep, dependencies);
        const outputDirectory = path.join(context.stageDirectory, 'model');
        // Exporters that quantise measure the quantised model against full precision on the test split.
        const comparison = {
          examples: trainerTestExamples(trained),
          metric,
          score: (prediction: string, gold: string) => evaluators[0]?.score(prediction, gold) ?? 0,
        };
        const result = await exporter.export(
          { checkpointDirectory: trained.checkpointDirectory, outputDirectory, comparison },
          context.events,
          context.signal,
        );
        const contents = folderContents(outputDirectory);
        return { directory: outputDirectory, files: contents.files, bytes: contents.bytes, quantization: result.quantization ?? null };
      },
    });
    stages.push({
      name: 'evaluate',
      inputs: { evaluators: config.evaluators.map((step) => stepIdentity(loaded, 'evaluator', step)) },
      async run(context): Promise<EvaluateStageOutput> {
        const trained = context.upstream.trainer!.output as TrainStageResult;
        const exported = context.upstream.export!.output as ExportStageOutput;
        const testFile = path.join(trained.outputDirectory, 'data', 'test.jsonl');
        // No length options: the exported folder carries the trainer's input cut-off and generation
        // length, and scoring with its defaults is what `distill eval` and `distill serve` do.
        const report = await evaluateStudent(
          { model: exported.directory, dataset: testFile, metric: metric as Parameters<typeof evaluateStudent>[0]['metric'] },
          loaded.registry,
        );
        // Latency of one prediction at batch 1, over real test inputs, after one warm-up call.
        const inputs = trainerTestExamples(trained)
          .slice(0, 50)
          .map((example) => example.input);
        const student = await loadStudent(exported.directory);
        const latencies: number[] = [];
        try {
          if (inputs.length > 0) await student.predict([inputs[0]!]);
          for (const input of inputs) {
            const started = performance.now();
            await student.predict([input]);
            latencies.push(performance.now() - started);
          }
        } finally {
          await student.close();
        }
        latencies.sort((left, right) => left - right);
        return {
          metric,
          accuracy: report.accuracy,
          examples: report.examples,
          trainerAccuracy: trained.testAccuracy,
          latencyMilliseconds: { p50: percentile(latencies, 0.5), p95: percentile(latencies, 0.95) },
        };
      },
    });
  }
  return stages;
}
