import { Args, Flags } from '@oclif/core';
import type { CalibrateResult } from '../../core/calibration/calibrate-model.js';
import { UserError } from '../../core/errors/user-error.js';
import { BaseCommand } from './base-command.js';

/** `distill calibrate`: the student's confidence thresholds for target agreements, written into the model folder. */
export default class CalibrateCommand extends BaseCommand {
  static override summary =
    "Find the student's confidence threshold for each target agreement on validation (student above it, teacher below), write calibration.json, and check it on test.";
  static override examples = [
    '<%= config.bin %> calibrate pipelines/runs/quickstart',
    '<%= config.bin %> calibrate pipelines/runs/quickstart/model --against gold --targets 0.9,0.95 --json',
  ];
  static override args = {
    folder: Args.string({ description: 'A run folder (runs/<name>) or its model folder (runs/<name>/model).', required: true }),
  };
  static override flags = {
    against: Flags.string({
      description: "What the combined system must agree with: the teacher's answers, or the gold labels.",
      options: ['teacher', 'gold'],
      default: 'teacher',
    }),
    targets: Flags.string({ description: 'Comma-separated target agreements, each between 0 and 1.', default: '0.9,0.95,0.98,0.99' }),
    labels: Flags.string({ description: 'Comma-separated closed label set to score, where the run recorded none (T5 students).' }),
    threads: Flags.integer({ description: 'onnxruntime intra-op threads.', min: 1, default: 1 }),
  };

  async run(): Promise<CalibrateResult> {
    const { args, flags } = await this.parse(CalibrateCommand);
    const [{ builtinRegistry }, { calibrateModel }, { parseTargets }] = await Promise.all([
      import('../../plugins/composition-root.js'),
      import('../../core/calibration/calibrate-model.js'),
      import('../../core/calibration/thresholds.js'),
    ]);
    const targets = parseTargets(flags.targets);
    if (typeof targets === 'string') {
      throw new UserError({ message: `--targets: ${targets}`, fix: 'give agreements such as --targets 0.9,0.95,0.99' });
    }
    const result = await calibrateModel({
      folder: args.folder,
      registry: builtinRegistry(),
      against: flags.against as 'teacher' | 'gold',
      targets,
      ...(flags.labels ? { labels: flags.labels.split(',').map((label) => label.trim()) } : {}),
      student: { intraOpThreads: flags.threads },
    });
    if (!this.jsonEnabled()) for (const line of calibrationLines(result)) this.log(line);
    return result;
  }
}

/** The human summary: one line per target, promise beside what test achieved. */
function calibrationLines(result: CalibrateResult): string[] {
  const { calibration } = result;
  const percent = (value: number | null | undefined) => (value === null || value === undefined ? '-' : `${(value * 100).toFixed(1)}%`);
  const lines = [
    `calibrated against ${calibration.against} on ${calibration.examples} validation examples (${calibration.confidence}, ` +
      `Clopper-Pearson ${calibration.bound.level} lower bound)`,
  ];
  for (const entry of calibration.thresholds) {
    const test = calibration.test?.find((point) => point.target === entry.target);
    const threshold = entry.threshold === null ? 'none reaches it' : `threshold ${entry.threshold.toPrecision(4)}`;
    lines.push(
      `target ${percent(entry.target)}: ${threshold}, coverage ${percent(entry.expected_coverage)}, ` +
        `agreement ${percent(entry.validation_agreement)} (bound ${percent(entry.agreement_lower_bound)})` +
        (test ? `; test: coverage ${percent(test.coverage)}, agreement ${percent(test.agreement)} on ${test.examples}` : ''),
    );
  }
  if (result.skippedValidation > 0) lines.push(`${result.skippedValidation} validation examples had no teacher answer and were left out`);
  if (result.testMissing) lines.push(`test not scored: ${result.testMissing}`);
  lines.push(`wrote ${result.file}`);
  return lines;
}
