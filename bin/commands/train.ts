import { Args, Flags } from '@oclif/core';
import { attachProgressDisplay, progressModeFor } from '../../core/progress/progress-display.js';
import { LocalEventStream } from '../../core/services/event-stream.js';
import { trainPipeline, type TrainPipelineResult } from '../../core/training/train-pipeline.js';
import { BaseCommand } from './base-command.js';

const percent = (value: number): string => (Number.isFinite(value) ? `${(value * 100).toFixed(2)}%` : '-');

/** `distill train <pipeline>`: the trainer stage, from the teacher records of the pipeline's run. */
export default class TrainCommand extends BaseCommand {
  static override summary = 'Train the student from the teacher records of a pipeline run (run `distill teach` first).';
  static override description =
    'Writes the chosen checkpoint (best on validation) with its validation and test accuracy to <output>/<name>/train/best. ' +
    'Ctrl+C checkpoints and stops; running the command again continues from the last checkpoint.';
  static override examples = ['<%= config.bin %> train pipelines/esnli-recorded.yaml', '<%= config.bin %> train pipelines/esnli-recorded.yaml --restart --json'];
  static override args = {
    pipeline: Args.string({ description: 'Pipeline file.', required: true }),
  };
  static override flags = {
    restart: Flags.boolean({ description: 'Start over instead of continuing from the last checkpoint.', default: false }),
  };

  async run(): Promise<TrainPipelineResult> {
    const { args, flags } = await this.parse(TrainCommand);
    const events = new LocalEventStream();
    const stopDisplay = attachProgressDisplay(events, { mode: progressModeFor(this.jsonEnabled()), ...(this.jsonEnabled() ? { write: (text: string) => process.stderr.write(text) } : {}) });
    const controller = new AbortController();
    const onInterrupt = () => {
      process.stderr.write('\nstopping: writing a checkpoint (Ctrl+C again to force)\n');
      controller.abort(new Error('training cancelled by the user; run the same command again to continue'));
      process.once('SIGINT', () => process.exit(130));
    };
    process.once('SIGINT', onInterrupt);
    try {
      const result = await trainPipeline(args.pipeline, { events, signal: controller.signal, restart: flags.restart });
      stopDisplay();
      if (!this.jsonEnabled()) {
        this.log(
          `${result.status ?? 'completed'} after ${result.steps} steps${result.resumed ? ' (resumed)' : ''}: ` +
            `validation ${result.metric} ${percent(result.validationAccuracy)} (step ${result.bestStep ?? '?'}), test ${percent(result.testAccuracy)}`,
        );
        this.log(`chosen checkpoint: ${result.checkpointDirectory}`);
      }
      return result;
    } catch (error) {
      stopDisplay();
      throw error;
    } finally {
      process.removeListener('SIGINT', onInterrupt);
    }
  }
}
