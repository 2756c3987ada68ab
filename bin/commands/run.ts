import { Args, Flags } from '@oclif/core';
import { progressListener, progressModeFor } from '../../core/progress/progress-display.js';
import { dryRunPipeline, type DryRun } from '../../core/runner/dry-run.js';
import { modelUsageLines } from '../../core/runner/model-usage.js';
import { runPipeline, type RunPipelineResult } from '../../core/runner/run-pipeline.js';
import { stageNames, type StageName } from '../../core/runner/stage-name.js';
import { formatTeacherFailures } from '../../core/teacher/format-teacher-report.js';
import { builtinRegistry } from '../../plugins/composition-root.js';
import { BaseCommand } from './base-command.js';
import { stopOnInterrupt } from './interrupts.js';

/** `distill run <pipeline>`: the whole pipeline, stage by stage, reusing what is stored. */
export default class RunCommand extends BaseCommand {
  static override summary = 'Run a pipeline end to end: teacher, student training, export, evaluation and the report.';
  static override description =
    'Each stage is stored in the run directory under a signature of its inputs; running again recomputes only the stages ' +
    'whose inputs changed (changing alpha retrains without asking the teacher again). A run stopped by Ctrl+C or a kill ' +
    'continues where it stopped when run again. --json streams every event as a JSON line on stdout.';
  static override examples = [
    '<%= config.bin %> run pipelines/quickstart.yaml',
    '<%= config.bin %> run pipelines/esnli-zero-shot-openai.yaml --dry-run',
    '<%= config.bin %> run pipelines/quickstart.yaml --from trainer',
    '<%= config.bin %> run pipelines/quickstart.yaml --json > events.jsonl',
  ];
  static override args = { pipeline: Args.string({ description: 'Pipeline file.', required: true }) };
  static override flags = {
    only: Flags.string({ description: 'Run only this stage (its inputs must be stored).', options: [...stageNames] }),
    from: Flags.string({ description: 'Recompute this stage and every later one.', options: [...stageNames] }),
    'dry-run': Flags.boolean({
      description: 'Validate, show which stages would run, estimate the teacher cost; spend nothing.',
      default: false,
    }),
  };

  async run(): Promise<RunPipelineResult | DryRun | undefined> {
    const { args, flags } = await this.parse(RunCommand);
    if (flags['dry-run']) {
      const plan = await dryRunPipeline(args.pipeline, builtinRegistry());
      if (!this.jsonEnabled()) this.showPlan(plan);
      return plan;
    }
    const cancel = new AbortController();
    const stopHandling = stopOnInterrupt(
      cancel,
      'stopping: the running stage is saving its progress (the teacher waits for the answers in flight)',
    );
    const display = progressListener({ mode: progressModeFor(this.jsonEnabled()) });
    try {
      const result = await runPipeline(args.pipeline, {
        registry: builtinRegistry(),
        only: flags.only as StageName | undefined,
        from: flags.from as StageName | undefined,
        listener: display.listener,
        signal: cancel.signal,
      });
      display.finish();
      if (result.stopped === 'teacher') {
        const report = result.outcomes.of('teacher')!.record.output;
        if (report.stopped === 'cancelled') {
          process.stderr.write('stopped; run the same command again to continue where it stopped\n');
          process.exitCode = 130;
        } else if (report.stopped === 'failures') {
          process.stderr.write(
            `the teacher stage stopped: ${report.failed} of ${report.examples} examples got no answer, more than teacher.max_failure_rate allows\n` +
              formatTeacherFailures(report) +
              '\nrun the same command again to ask them again (answers already paid for come from the cache), or raise teacher.max_failure_rate to train without them\n',
          );
          process.exitCode = 1;
        } else {
          process.stderr.write(
            `the teacher stage stopped at its budget after ${report.records} examples ($${report.cost_usd.toFixed(4)}); ` +
              'raise budget.max_usd (or max_requests) and run again: answers already paid for come from the cache\n',
          );
          process.exitCode = 1;
        }
        return result;
      }
      if (result.partial === 'teacher') {
        const report = result.outcomes.of('teacher')!.record.output;
        process.stderr.write(
          `warning: ${report.failed} of ${report.examples} teacher examples got no answer (within teacher.max_failure_rate); the student was trained without them and the next run asks them again (a sweep waits until every example has an answer)\n` +
            formatTeacherFailures(report) +
            '\n',
        );
      }
      if (!this.jsonEnabled()) {
        const student = result.summary.student;
        if (student)
          this.log(
            `student test accuracy ${(student.testAccuracy * 100).toFixed(1)}% (majority class ${student.majorityClassAccuracy === null ? '–' : (student.majorityClassAccuracy * 100).toFixed(1) + '%'})`,
          );
        this.log(`report: ${result.report.html}`);
        this.log(`        ${result.report.markdown}`);
        if (result.model) for (const line of modelUsageLines(result.model, process.cwd())) this.log(line);
      }
      return result;
    } catch (error) {
      display.finish();
      if (cancel.signal.aborted) {
        process.stderr.write('stopped; run the same command again to continue where it stopped\n');
        process.exitCode = 130;
        return undefined;
      }
      throw error;
    } finally {
      stopHandling();
    }
  }

  /** What `--dry-run` found: the run directory, each stage's fate, the teacher's estimated cost. */
  private showPlan(plan: DryRun): void {
    this.log(`run directory: ${plan.runDirectory}`);
    for (const stage of plan.stages) this.log(`  ${stage.stage.padEnd(9)} ${stage.stored ? 'stored, would be reused' : 'would run'}`);
    for (const row of plan.estimate.rows) {
      this.log(
        `  ${row.provider}/${row.model}: ${row.prompt_tokens} prompt + ${row.completion_tokens} completion tokens, ${row.cost_usd === null ? 'no price known' : `$${row.cost_usd.toFixed(4)}`}`,
      );
    }
  }

  /** One line, so that `--json` output is JSON Lines: the events, then the result. */
  override logJson(json: unknown): void {
    process.stdout.write(JSON.stringify(json) + '\n');
  }
}
