import { Flags } from '@oclif/core';
import type { EvaluationReport } from '../../core/inference/evaluate-student.js';
import { BaseCommand } from './base-command.js';
import { precisionFlags, requestedPrecision } from './precision-flags.js';

/** `distill eval`: accuracy of an exported student on a dataset split. */
export default class EvalCommand extends BaseCommand {
  static override summary = 'Score an exported student on a dataset split (exact match; SVAMP numeric equality).';
  static override examples = [
    '<%= config.bin %> eval --model pipelines/runs/quickstart/model --dataset esnli --split test --root ../shared/data/dsbs',
    '<%= config.bin %> eval --model pipelines/runs/quickstart/model --dataset labelled.jsonl --json',
  ];
  static override flags = {
    model: Flags.string({ description: 'Exported student folder (written by `distill export`).', required: true }),
    dataset: Flags.string({ description: 'dsbs dataset (esnli, anli1, cqa, svamp) or a JSONL file of {input, label}.', required: true }),
    split: Flags.string({ description: 'Split of a dsbs dataset.', default: 'test' }),
    root: Flags.string({ description: 'The dsbs data folder (default $DISTILL_DSBS_DIR).' }),
    limit: Flags.integer({ description: 'Score only the first N examples.', min: 1 }),
    metric: Flags.string({
      description: 'Metric for a JSONL file (a named dataset scores with its own).',
      options: ['exact-match', 'numeric-equality'],
      default: 'exact-match',
    }),
    ...precisionFlags,
    'score-labels': Flags.boolean({
      description: "Answer with the best-scoring allowed label (the model folder's, else --labels) instead of free generation.",
      default: false,
    }),
    labels: Flags.string({
      description: 'Comma-separated allowed labels for --score-labels where the folder has none (T5 students).',
      dependsOn: ['score-labels'],
    }),
    threads: Flags.integer({ description: 'onnxruntime intra-op threads.', min: 1, default: 1 }),
    'max-new-tokens': Flags.integer({ description: "Most tokens generated per text (default: the model folder's, else 64).", min: 1 }),
    'max-input-tokens': Flags.integer({
      description: "Input tokens kept per text (default: the model folder's, i.e. the trainer's max_input_length).",
      min: 2,
    }),
  };

  async run(): Promise<EvaluationReport> {
    const { flags } = await this.parse(EvalCommand);
    const [{ builtinRegistry }, { evaluateStudent }] = await Promise.all([
      import('../../plugins/composition-root.js'),
      import('../../core/inference/evaluate-student.js'),
    ]);
    const report = await evaluateStudent({
      model: flags.model,
      registry: builtinRegistry(),
      dataset: flags.dataset,
      split: flags.split,
      ...(flags.root ? { root: flags.root } : {}),
      ...(flags.limit ? { limit: flags.limit } : {}),
      metric: flags.metric,
      scoreLabels: flags['score-labels'],
      ...(flags.labels ? { labels: flags.labels.split(',').map((label) => label.trim()) } : {}),
      student: {
        precision: requestedPrecision(flags),
        intraOpThreads: flags.threads,
        maxNewTokens: flags['max-new-tokens'],
        maxInputTokens: flags['max-input-tokens'],
      },
      onProgress: (done, total) => {
        // A counter redrawn in place is for terminals; logs get only the result line.
        if (!this.jsonEnabled() && process.stderr.isTTY) process.stderr.write(`\r${done}/${total}`);
      },
    });
    if (!this.jsonEnabled()) {
      if (process.stderr.isTTY) process.stderr.write('\n');
      this.log(
        `${report.dataset} ${report.metric} ${report.correct}/${report.examples} = ${report.accuracy.toFixed(4)} (${report.precision}, ${report.seconds.toFixed(1)} s)`,
      );
    }
    return report;
  }
}
