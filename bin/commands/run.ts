import { Args, Flags } from '@oclif/core';
import { formatUserError } from '../../core/errors/format-user-error.js';
import { UserError } from '../../core/errors/user-error.js';
import type { DryRun, DryRunOptions } from '../../core/runner/dry-run.js';
import type { RunPipelineResult } from '../../core/runner/run-pipeline.js';
import { stageNames, type StageName } from '../../core/runner/stage-name.js';
import { BaseCommand } from './base-command.js';
import { stopOnInterrupt } from './interrupts.js';
import { overrideFlags, recipeChangeFlags } from './pipeline-flags.js';

/** `distill run <pipeline>`: the whole pipeline, stage by stage, reusing what is stored. */
export default class RunCommand extends BaseCommand {
  static override summary = 'Run a pipeline end to end: teacher, student training, export, evaluation and the report.';
  static override description =
    'Each stage is stored in the run directory under a signature of its inputs; running again recomputes only the stages ' +
    'whose inputs changed (changing alpha retrains without asking the teacher again). A run stopped by Ctrl+C or a kill ' +
    'continues where it stopped when run again. --json streams every event as a JSON line on stdout. ' +
    'API keys and data folders are checked before anything is created; --dry-run lists every one missing, with its fix. ' +
    'When a recipe the pipeline inherits from an installed package changed since the run folder’s lockfile (distill.lock.json), ' +
    'the run stops before any stage and lists the changes: review them with `distill diff`, then run with --accept-recipe-changes.';
  static override examples = [
    '<%= config.bin %> run pipelines/quickstart.yaml',
    '<%= config.bin %> run pipelines/esnli-zero-shot-openai.yaml --dry-run',
    '<%= config.bin %> run pipelines/quickstart.yaml --from trainer',
    '<%= config.bin %> run pipelines/quickstart.yaml --set trainer.options.max_steps=200 --dry-run',
    '<%= config.bin %> run pipelines/quickstart.yaml --json > events.jsonl',
    '<%= config.bin %> run pipelines/quickstart.yaml --accept-recipe-changes',
  ];
  static override args = { pipeline: Args.string({ description: 'Pipeline file.', required: true }) };
  static override flags = {
    only: Flags.string({ description: 'Run only this stage (its inputs must be stored).', options: [...stageNames] }),
    from: Flags.string({ description: 'Recompute this stage and every later one.', options: [...stageNames] }),
    'dry-run': Flags.boolean({
      description: 'Validate, show which stages would run, estimate the teacher cost; spend nothing.',
      default: false,
    }),
    ...overrideFlags,
    ...recipeChangeFlags,
  };

  async run(): Promise<RunPipelineResult | DryRun | undefined> {
    const { args, flags } = await this.parse(RunCommand);
    const selection = {
      only: flags.only as StageName | undefined,
      from: flags.from as StageName | undefined,
      overrides: flags.set ?? [],
      environmentFile: this.environmentFile,
      acceptRecipeChanges: flags['accept-recipe-changes'],
    };
    if (flags['dry-run']) return this.dryRun(args.pipeline, selection);
    const [{ builtinRegistry }, { progressListener, progressModeFor }, { formatTeacherFailures }, { runPipeline }] = await Promise.all([
      import('../../plugins/composition-root.js'),
      import('../../core/progress/progress-display.js'),
      import('../../core/teacher/format-teacher-report.js'),
      import('../../core/runner/run-pipeline.js'),
    ]);
    const cancel = new AbortController();
    const stopHandling = stopOnInterrupt(
      cancel,
      'stopping: the running stage is saving its progress (the teacher waits for the answers in flight)',
    );
    const display = progressListener({ mode: progressModeFor(this.jsonEnabled()) });
    try {
      const result = await runPipeline(args.pipeline, {
        registry: builtinRegistry(),
        ...selection,
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
      if (!this.jsonEnabled()) await this.showResult(result);
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

  /** What a finished run prints: the student's accuracy, where the report is, the model folder and how to try it. */
  private async showResult(result: RunPipelineResult): Promise<void> {
    const [{ modelUsageLines }, { studentFirstLines }] = await Promise.all([
      import('../../core/runner/model-usage.js'),
      import('../../core/calibration/student-first-lines.js'),
    ]);
    const student = result.summary.student;
    if (student) {
      // The exported model scored in Node on the whole test split where the evaluate stage ran; else the trainer's own test.
      const exported = student.exportedTestAccuracy !== null;
      const accuracy = exported ? student.exportedTestAccuracy : student.testAccuracy;
      const examples = exported ? student.exportedTestExamples : student.testExamples;
      const majority = student.majorityClassAccuracy === null ? '–' : `${(student.majorityClassAccuracy * 100).toFixed(1)}%`;
      this.log(
        `student test accuracy ${(accuracy * 100).toFixed(1)}%${examples === null ? '' : ` on ${examples} examples`} (majority class ${majority})`,
      );
    }
    const calibration = result.summary.calibration?.calibration;
    if (calibration) for (const line of studentFirstLines(calibration)) this.log(line);
    this.log(`report: ${result.report.html}`);
    this.log(`        ${result.report.markdown}`);
    if (result.model) for (const line of modelUsageLines(result.model, process.cwd())) this.log(line);
  }

  /** `--dry-run`: the plan, its cost and what a real run would stop at; exits 1 when it would stop. */
  private async dryRun(pipeline: string, options: DryRunOptions): Promise<DryRun> {
    const [{ builtinRegistry }, { dryRunPipeline }] = await Promise.all([
      import('../../plugins/composition-root.js'),
      import('../../core/runner/dry-run.js'),
    ]);
    const plan = await dryRunPipeline(pipeline, builtinRegistry(), process.env, options);
    if (!this.jsonEnabled()) this.showPlan(plan);
    // A plan that a real run would refuse is not a success: scripts checking a dry run see it.
    if (plan.problems.length > 0) process.exitCode = 1;
    return plan;
  }

  /** What `--dry-run` found: the run directory, each stage's fate, the teacher's estimated cost, what is missing. */
  private showPlan(plan: DryRun): void {
    this.log(`run directory: ${plan.runDirectory}`);
    for (const stage of plan.stages) {
      const fate = stage.runs
        ? stage.stored
          ? 'stored, would be recomputed'
          : 'would run'
        : stage.stored
          ? 'stored, would be reused'
          : 'not in this run';
      this.log(`  ${stage.stage.padEnd(9)} ${fate}`);
    }
    const teacherRuns = plan.stages.some((stage) => stage.stage === 'teacher' && stage.runs);
    this.log(`teacher cost estimate${teacherRuns ? '' : ' (the teacher stage is stored: this run would spend nothing on it)'}:`);
    for (const row of plan.estimate.rows) {
      const batch = row.batch_cost_usd === null ? '' : `; in batch mode $${row.batch_cost_usd.toFixed(4)}`;
      const mode = row.teacher && plan.teacherMode === 'batch' ? ' (teacher, batch mode)' : row.teacher ? ' (teacher)' : '';
      this.log(
        `  ${row.provider}/${row.model}: ${row.prompt_tokens} prompt + ${row.completion_tokens} completion tokens, ${row.cost_usd === null ? 'no price known' : `$${row.cost_usd.toFixed(4)}`}${mode}${batch}`,
      );
    }
    for (const notice of plan.notices) this.log(`note: ${notice}`);
    if (plan.problems.length > 0) {
      process.stderr.write(`\na real run would stop before it starts:\n${formatUserError(new UserError([...plan.problems]))}\n`);
    }
  }

  /** One line, so that `--json` output is JSON Lines: the events, then the result. */
  override logJson(json: unknown): void {
    process.stdout.write(JSON.stringify(json) + '\n');
  }
}
