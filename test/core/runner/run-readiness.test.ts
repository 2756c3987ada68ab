import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { RequirementProblem } from '../../../core/config/requirement-problems.js';
import { UserError } from '../../../core/errors/user-error.js';
import { assertPathsPresent, blockingRequirements, planStages } from '../../../core/runner/run-readiness.js';
import { stageDirectory, stageSignatures } from '../../../core/runner/run-stages.js';
import type { AnyStageDefinition } from '../../../core/runner/stage-definition.js';
import { writeStageRecord } from '../../../core/runner/stage-record.js';
import { temporaryDirectory } from '../../support/temporary-directory.js';

// Stages whose work is never done here: the plan only reads which records the run folder holds.
const stages = (['dataset', 'teacher', 'trainer'] as const).map((name) => ({
  name,
  inputs: { name },
  run: () => Promise.reject(new Error('a plan runs nothing')),
})) as unknown as AnyStageDefinition[];

/** Stores a finished record for each named stage, as `runStages` would have. */
function store(runDirectory: string, names: readonly string[]): void {
  const signatures = stageSignatures(stages);
  for (const [index, stage] of stages.entries()) {
    if (!names.includes(stage.name)) continue;
    const directory = stageDirectory(runDirectory, stage.name, signatures[index]!);
    mkdirSync(directory, { recursive: true });
    const record = {
      stage: stage.name,
      signature: signatures[index]!,
      directory: path.relative(runDirectory, directory),
      inputs: stage.inputs,
    };
    writeStageRecord(directory, { ...record, startedAt: '', finishedAt: '', output: {} });
  }
}

const missingKey: RequirementProblem = {
  kind: 'teacher',
  variable: true,
  message: 'no API key: KEY is not set',
  pointer: '/teacher/options/api_key',
};
const missingData: RequirementProblem = {
  kind: 'dataset',
  variable: false,
  message: 'data folder not found: /nowhere',
  pointer: '/dataset/options/root',
};

test('a plan says which stages a run would compute, as runStages decides', (context) => {
  const runDirectory = temporaryDirectory(context);
  const fate = (selection = {}) =>
    planStages(stages, runDirectory, selection).map(
      (stage) => `${stage.stage}:${stage.stored ? 'stored' : '-'}:${stage.runs ? 'runs' : '-'}`,
    );
  assert.deepEqual(fate(), ['dataset:-:runs', 'teacher:-:runs', 'trainer:-:runs']);
  store(runDirectory, ['dataset', 'teacher']);
  assert.deepEqual(fate(), ['dataset:stored:-', 'teacher:stored:-', 'trainer:-:runs']);
  assert.deepEqual(fate({ from: 'teacher' }), ['dataset:stored:-', 'teacher:stored:runs', 'trainer:-:runs']);
  assert.deepEqual(fate({ only: 'dataset' }), ['dataset:stored:runs', 'teacher:stored:-', 'trainer:-:-']);
  assert.deepEqual(fate({ until: 'teacher' }), ['dataset:stored:-', 'teacher:stored:-', 'trainer:-:-']);
});

test('a missing key blocks a run only when the stage that needs it would run', (context) => {
  const runDirectory = temporaryDirectory(context);
  const loaded = { unmetRequirements: [missingKey] };
  assert.deepEqual(blockingRequirements(loaded, planStages(stages, runDirectory)), [missingKey], 'the teacher would be asked');
  store(runDirectory, ['dataset', 'teacher']);
  assert.deepEqual(
    blockingRequirements(loaded, planStages(stages, runDirectory)),
    [],
    'its answers are stored: no key needed to train again',
  );
  assert.deepEqual(
    blockingRequirements(loaded, planStages(stages, runDirectory, { from: 'teacher' })),
    [missingKey],
    '--from teacher asks again',
  );
  assert.deepEqual(
    blockingRequirements(loaded, planStages(stages, temporaryDirectory(context), { requireStored: { stages: ['teacher'] } })),
    [],
    'distill train refuses an unstored teacher stage itself, with its own fix',
  );
});

test('missing data stops the plan at once, listing the missing key with it', () => {
  assert.doesNotThrow(() => assertPathsPresent({ unmetRequirements: [missingKey] }), 'a key alone waits for the plan');
  assert.throws(
    () => assertPathsPresent({ unmetRequirements: [missingData, missingKey] }),
    (error: unknown) => error instanceof UserError && error.problems.length === 2 && !('kind' in error.problems[0]!),
  );
});
