import { Args, Flags } from '@oclif/core';
import { predictTexts, type PredictionRecord } from '../../core/inference/predict-texts.js';
import { BaseCommand } from './base-command.js';
import { precisionFlags, requestedPrecision } from './precision-flags.js';

/** `distill predict`: labels (and rationales) from an exported student, offline. */
export default class PredictCommand extends BaseCommand {
  static override summary = 'Predict labels (and rationales with --explain) with an exported student.';
  static override examples = [
    `<%= config.bin %> predict --model pipelines/runs/quickstart/model $'Premise: A man plays a guitar.\\nHypothesis: A person makes music.'`,
    '<%= config.bin %> predict --model pipelines/runs/quickstart/model --input inputs.jsonl --explain > predictions.jsonl',
    `<%= config.bin %> predict --model pipelines/runs/quickstart/model --score-labels --json $'Premise: A man plays a guitar.\\nHypothesis: A person makes music.'`,
  ];
  static override strict = false;
  static override args = {
    text: Args.string({ description: 'Text to predict for (several allowed).', required: false }),
  };
  static override flags = {
    model: Flags.string({ description: 'Exported student folder (written by `distill export`).', required: true }),
    input: Flags.string({ description: 'JSON Lines file whose records have an "input" field; prints JSON Lines.' }),
    explain: Flags.boolean({ description: 'Also generate the rationale.', default: false }),
    'score-labels': Flags.boolean({
      description: "Score every allowed label (the model folder's, else --labels) and answer the best with its probability (confidence).",
      default: false,
    }),
    labels: Flags.string({
      description: 'Comma-separated allowed labels for --score-labels where the folder has none (T5 students).',
      dependsOn: ['score-labels'],
    }),
    'max-new-tokens': Flags.integer({ description: "Most tokens generated per text (default: the model folder's, else 64).", min: 1 }),
    'max-input-tokens': Flags.integer({
      description: "Input tokens kept per text (default: the model folder's, i.e. the trainer's max_input_length).",
      min: 2,
    }),
    ...precisionFlags,
    threads: Flags.integer({ description: 'onnxruntime intra-op threads.', min: 1, default: 1 }),
  };

  async run(): Promise<PredictionRecord[]> {
    const { argv, flags } = await this.parse(PredictCommand);
    const records = await predictTexts({
      model: flags.model,
      texts: argv as string[],
      ...(flags.input ? { inputFile: flags.input } : {}),
      explain: flags.explain,
      maxNewTokens: flags['max-new-tokens'],
      scoreLabels: flags['score-labels'],
      // JSON is for programs, which get each answer's confidence: its labels' probabilities, or a free answer's mean token log-probability.
      answerLogProbability: this.jsonEnabled(),
      ...(flags.labels ? { labels: flags.labels.split(',').map((label) => label.trim()) } : {}),
      student: { precision: requestedPrecision(flags), intraOpThreads: flags.threads, maxInputTokens: flags['max-input-tokens'] },
    });
    if (!this.jsonEnabled()) {
      for (const record of records) this.log(flags.input ? JSON.stringify(record) : formatPrediction(record));
    }
    return records;
  }
}

function formatPrediction(record: PredictionRecord): string {
  const label = record.confidence === undefined ? record.label : `${record.label}\t${record.confidence.toFixed(4)}`;
  return record.rationale === undefined ? label : `${label}\t${record.rationale}`;
}
