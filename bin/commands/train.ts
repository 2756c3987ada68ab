import { Args, Flags } from '@oclif/core';
import type { StageOutcome } from '../../core/runner/run-stages.js';
import type { TrainStageResult } from '../../core/training/train-stage.js';
import { BaseCommand } from './base-command.js';
import { stopOnInterrupt } from './interrupts.js';
import { overrideFlags, recipeChangeFlags } from './pipeline-flags.js';

const percent = (value: number): string => (Number.isFinite(value) ? `${(value * 100).toFixed(2)}%` : '-');

/** What `distill train --json` prints: the trainer stage's result and whether it was reused. */
export type TrainCommandResult = TrainStageResult & { readonly metric: string; readonly stage: StageOutcome['status'] };

/** `distill train <pipeline>`: the trainer stage, from the teacher stage `distill teach` stored. */
export default class TrainCommand extends BaseCommand {
  static override summary = 'Train the student from the teacher stage of a pipeline (run `distill teach` first).';
  static override description =
    'The trainer stage of `distill run`, alone: trains from the stored teacher stage and writes the chosen checkpoint (best on ' +
    'validation) with its validation and test accuracy into the stage folder `distill run` reuses. ' +
    'Ctrl+C checkpoints and stops; running the command again continues from the last checkpoint. ' +
    'Like `distill run`, it stops before the stage when an inherited recipe package changed since the run folder’s lockfile, unless --accept-recipe-changes.';
  static override examples = [
    '<%= config.bin %> train pipelines/esnli-recorded.yaml',
    '<%= config.bin %> train pipelines/esnli-recorded.yaml --restart --json',
  ];
  static override args = {
    pipeline: Args.string({ description: 'Pipeline file.', required: true }),
  };
  static override flags = {
    restart: Flags.boolean({ description: 'Start over instead of continuing from the last checkpoint.', default: false }),
    ...overrideFlags,
    ...recipeChangeFlags,
  };

  async run(): Promise<TrainCommandResult> {
    const { args, flags } = await this.parse(TrainCommand);
    const [{ builtinRegistry }, { progressListener, progressModeFor }, { runPipeline }] = await Promise.all([
      import('../../plugins/composition-root.js'),
      import('../../core/progress/progress-display.js'),
      import('../../core/runner/run-pipeline.js'),
    ]);
    // JSON mode keeps stdout for the result: progress events go to stderr.
    const display = progressListener({
      mode: progressModeFor(this.jsonEnabled()),
      ...(this.jsonEnabled() ? { write: (text: string) => process.stderr.write(text) } : {}),
    });
    const controller = new AbortController();
    const stopHandling = stopOnInterrupt(
      controller,
      'stopping: writing a checkpoint',
      'training cancelled by the user; run the same command again to continue',
    );
    try {
      const run = await runPipeline(args.pipeline, {
        registry: builtinRegistry(),
        until: 'trainer',
        requireStored: { stages: ['teacher'], fix: `run \`distill teach ${args.pipeline}\` first` },
        ...(flags.restart ? { from: 'trainer' as const, restartTrainer: true } : {}),
        overrides: flags.set ?? [],
        environmentFile: this.environmentFile,
        acceptRecipeChanges: flags['accept-recipe-changes'],
        listener: display.listener,
        signal: controller.signal,
      });
      display.finish();
      const trainer = run.outcomes.of('trainer')!;
      const result = { ...trainer.record.output, stage: trainer.status };
      if (!this.jsonEnabled()) {
        this.log(
          `${result.status ?? 'completed'} after ${result.steps} steps${result.resumed ? ' (resumed)' : ''}${trainer.status === 'reused' ? ' (stored, reused)' : ''}: ` +
            `validation ${result.metric} ${percent(result.validationAccuracy)} (step ${result.bestStep ?? '?'}), test ${percent(result.testAccuracy)}`,
        );
        this.log(`chosen checkpoint: ${result.checkpointDirectory}`);
      }
      return result;
    } catch (error) {
      display.finish();
      throw error;
    } finally {
      stopHandling();
    }
  }
}
