import { Args, Flags } from '@oclif/core';
import path from 'node:path';
import { UserError } from '../../core/errors/user-error.js';
import type { SplitRole } from '../../core/teacher/teach-pipeline.js';
import type { TeacherReport } from '../../core/teacher/teacher-report.js';
import { BaseCommand } from './base-command.js';
import { stopOnInterrupt } from './interrupts.js';
import { overrideFlags, recipeChangeFlags } from './pipeline-flags.js';

/** `distill teach <pipeline>`: the teacher stage alone. */
export default class TeachCommand extends BaseCommand {
  static override summary = 'Run the teacher stage of a pipeline: label and explain every example, cached, resumable, costed.';
  static override description =
    'The teacher stage of `distill run`, alone: writes teacher-records.jsonl as it goes and teacher-report.json at the end, in the stage folder `distill run` reuses (<output>/<name>/stages/teacher/<signature>/). ' +
    'Answers are cached (shared by all pipelines), so a killed or budget-stopped run resumes without paying twice. ' +
    'Ctrl+C stops cleanly. With --json every event is one JSON line on stdout, the report the last. ' +
    'Like `distill run`, it stops before the stage when an inherited recipe package changed since the run folder’s lockfile, unless --accept-recipe-changes.';
  static override examples = [
    '<%= config.bin %> teach pipelines/esnli-recorded.yaml',
    '<%= config.bin %> teach pipelines/anli1-zero-shot-openai.yaml --splits train,test',
    '<%= config.bin %> teach pipelines/anli1-zero-shot-openai.yaml --json > events.jsonl',
  ];
  static override args = {
    pipeline: Args.string({ description: 'Pipeline file.', required: true }),
  };
  static override flags = {
    splits: Flags.string({ description: 'Roles to label, comma-separated: train, validation, test.', default: 'train' }),
    ...overrideFlags,
    ...recipeChangeFlags,
  };

  async run(): Promise<TeacherReport> {
    const { args, flags } = await this.parse(TeachCommand);
    const roles = flags.splits.split(',').map((role) => role.trim()) as SplitRole[];
    for (const role of roles) {
      if (!['train', 'validation', 'test'].includes(role))
        throw new UserError({ message: `--splits: unknown role "${role}"`, fix: 'use train, validation or test, comma-separated' });
    }
    const [{ builtinRegistry }, { progressListener, progressModeFor }, { formatTeacherReport }, { runPipeline }] = await Promise.all([
      import('../../plugins/composition-root.js'),
      import('../../core/progress/progress-display.js'),
      import('../../core/teacher/format-teacher-report.js'),
      import('../../core/runner/run-pipeline.js'),
    ]);
    const json = this.jsonEnabled();
    const display = progressListener({ mode: progressModeFor(json) });
    const cancel = new AbortController();
    const stopHandling = stopOnInterrupt(cancel, 'stopping: no new requests; waiting for the answers in flight');
    try {
      const result = await runPipeline(args.pipeline, {
        registry: builtinRegistry(),
        until: 'teacher',
        teacherRoles: roles,
        overrides: flags.set ?? [],
        environmentFile: this.environmentFile,
        acceptRecipeChanges: flags['accept-recipe-changes'],
        listener: display.listener,
        signal: cancel.signal,
      });
      display.finish();
      const teacher = result.outcomes.of('teacher')!;
      const report = teacher.record.output;
      const files = {
        outputFile: path.join(teacher.directory, 'teacher-records.jsonl'),
        reportFile: path.join(teacher.directory, 'teacher-report.json'),
      };
      if (!json) this.log(formatTeacherReport(report, files));
      // Like a shell job stopped by Ctrl+C, so scripts can tell a cancelled stage from a finished one.
      if (report.stopped === 'cancelled') process.exitCode = 130;
      // Work was lost (examples with no answer): never a success, whatever the output format.
      if (report.stopped === 'failures') process.exitCode = 1;
      return report;
    } finally {
      stopHandling();
    }
  }

  /** One line, so that `--json` output is JSON Lines: the events, then the report. */
  override logJson(json: unknown): void {
    process.stdout.write(JSON.stringify(json) + '\n');
  }
}
