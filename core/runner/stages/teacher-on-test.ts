import path from 'node:path';
import { UserError } from '../../errors/user-error.js';
import type { Evaluator } from '../../plugins/kinds/evaluator.js';
import type { TeacherRecord } from '../../teacher/teacher-record.js';
import type { TeacherReport } from '../../teacher/teacher-report.js';
import { readTeacherRecords } from '../../training/read-teacher-records.js';
import type { StageContext } from '../stage-definition.js';
import type { TeacherOnTestOutput } from '../stage-outputs.js';
import type { PipelineContext } from './pipeline-context.js';
import { askTeacher } from './teacher-stage.js';
import type { TestExample } from './test-split.js';

/** What the teacher stage left of the pipeline's budget: the test answers may spend only that. */
function budgetLeft(context: PipelineContext, training: TeacherReport | undefined) {
  const { max_usd: maxUsd, max_requests: maxRequests } = context.loaded.config.budget;
  const paid = training ? training.records - training.cached - training.failed : 0;
  return {
    ...(maxUsd !== undefined ? { max_usd: Math.max(0, maxUsd - (training?.cost_usd ?? 0)) } : {}),
    ...(maxRequests !== undefined ? { max_requests: Math.max(0, maxRequests - paid) } : {}),
  };
}

/**
 * Asks the teacher for the test split (`evaluation.teacher_on_test`) into `teacher-test/` in the
 * evaluate stage's folder, through the same cache and request engine as its training answers, and
 * scores its labels with the student's evaluator on exactly the student's test examples (an example
 * it did not answer counts as wrong). Stopped part way (the budget, a cancel, too many failures), the
 * stage fails with the fix and keeps the answers, and the next run resumes them.
 */
export async function teacherOnTest(
  context: PipelineContext,
  stage: StageContext,
  examples: readonly TestExample[],
  evaluator: Evaluator,
): Promise<{ readonly output: TeacherOnTestOutput; readonly records: ReadonlyMap<string, TeacherRecord> }> {
  const { loaded } = context;
  const { splits, limit } = loaded.config.dataset;
  const split = splits.test;
  const directory = path.join(stage.stageDirectory, 'teacher-test');
  const report = await askTeacher(context, stage, {
    splits: [{ split, limit: limit.test }],
    directory,
    budget: budgetLeft(context, stage.upstream.teacher?.output),
  });
  if (report.stopped === 'cancelled') throw stage.signal.reason ?? new Error('the teacher was cancelled');
  if (report.stopped !== null) {
    throw new UserError({
      file: loaded.file,
      pointer: '/evaluation/teacher_on_test',
      message: `the teacher stopped (${report.stopped}) after ${report.records} of ${report.examples} test examples asked for evaluation.teacher_on_test`,
      fix:
        report.stopped === 'budget'
          ? 'raise budget.max_usd or budget.max_requests and run again (the answers so far are kept), or remove teacher_on_test'
          : 'run again to ask the failed examples once more (the answers so far are kept), or remove teacher_on_test',
    });
  }
  const records = new Map(
    (await readTeacherRecords(path.join(directory, 'teacher-records.jsonl'), loaded.file)).map((record) => [record.id, record]),
  );
  let correct = 0;
  for (const example of examples) {
    const label = records.get(example.id)?.teacher_label;
    if (label !== null && label !== undefined) correct += evaluator.score(label, example.label);
  }
  const accuracy = examples.length === 0 ? 0 : correct / examples.length;
  const recordsFile = path.join('teacher-test', 'teacher-records.jsonl');
  return { output: { examples: examples.length, correct, accuracy, recordsFile, report }, records };
}
