import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { runPipeline } from '../../../plugins/index.js';
import { chromiumMissing, loadInChromium } from '../../support/headless-chromium.js';
import { distillBin } from '../../support/run-distill.js';
import { testPath } from '../../support/paths.js';
import { temporaryDirectory } from '../../support/temporary-directory.js';

const pipeline = testPath('core', 'runner', 'fixtures', 'tiny-quickstart.yaml');

/** The tiny pipeline with a change, as a user would make it: a file that extends it. */
function variant(directory: string, name: string, yaml: string): string {
  const file = path.join(directory, `${name}.yaml`);
  writeFileSync(file, `extends: ${JSON.stringify(pipeline)}\n${yaml}`);
  return file;
}

function teacherEvents(runDirectory: string, from: number): string[] {
  const lines = readFileSync(path.join(runDirectory, 'events.jsonl'), 'utf8').trim().split('\n').slice(from);
  return lines.map((line) => (JSON.parse(line) as { type: string }).type).filter((type) => type.startsWith('teacher.'));
}

function eventCount(runDirectory: string): number {
  return readFileSync(path.join(runDirectory, 'events.jsonl'), 'utf8').trim().split('\n').length;
}

test(
  'a run goes end to end, a second reuses every stage, a new alpha retrains without asking the teacher',
  { timeout: 600_000 },
  async (context) => {
    const runs = temporaryDirectory(context);
    const environment = { ...process.env, TINY_RUNS: runs };
    const first = await runPipeline(pipeline, { environment });
    assert.deepEqual(
      first.stages.map((stage) => `${stage.stage}:${stage.status}`),
      ['dataset:computed', 'teacher:computed', 'trainer:computed', 'export:computed', 'evaluate:computed'],
    );
    const student = first.summary.student!;
    assert.equal(student.steps, 16);
    assert.ok(
      student.exportedTestAccuracy !== null && Math.abs(student.exportedTestAccuracy - student.testAccuracy) < 1e-9,
      'the exported model scores what PyTorch scored',
    );
    assert.equal(first.summary.teacher!.examples, 240);
    for (const file of [
      'report.html',
      'report.md',
      'summary.json',
      'config.resolved.yaml',
      'distill.lock.json',
      'metrics.jsonl',
      'events.jsonl',
    ]) {
      assert.ok(existsSync(path.join(first.runDirectory, file)), `${file} is in the run directory`);
    }
    if (!chromiumMissing()) {
      const page = await loadInChromium(first.report.html);
      assert.deepEqual(
        [page.consoleErrors, page.pageErrors, page.externalRequests],
        [[], [], []],
        "the run's report renders in Chromium with no errors and fetches nothing",
      );
      assert.equal(page.svgCount, 1, 'with its loss curves');
    }
    const lockfile = JSON.parse(readFileSync(path.join(first.runDirectory, 'distill.lock.json'), 'utf8')) as {
      worker: { torch: string };
      dataFiles: Record<string, unknown>;
      recipes: unknown[];
    };
    assert.ok(lockfile.worker.torch.startsWith('2.13.0'), 'the lockfile pins the worker packages');
    assert.ok(
      Object.keys(lockfile.dataFiles).some((file: string) => file.endsWith('esnli_valid.json')),
      'and the data files',
    );
    assert.deepEqual(lockfile.recipes, [], 'and no recipe of a package: the pipeline extends files of this repository only');

    const before = eventCount(first.runDirectory);
    const started = performance.now();
    const second = await runPipeline(pipeline, { environment });
    const seconds = (performance.now() - started) / 1000;
    assert.deepEqual(
      second.stages.map((stage) => stage.status),
      ['reused', 'reused', 'reused', 'reused', 'reused'],
    );
    assert.ok(seconds < 20, `a fully reused run takes seconds (took ${seconds.toFixed(1)} s)`);
    assert.deepEqual(teacherEvents(first.runDirectory, before), []);

    const beforeAlpha = eventCount(first.runDirectory);
    const withAlpha = variant(runs, 'alpha', 'loss:\n  use: constant\n  options: { alpha: 0.8 }\n');
    const third = await runPipeline(withAlpha, { environment });
    assert.deepEqual(
      third.stages.map((stage) => `${stage.stage}:${stage.status}`),
      ['dataset:reused', 'teacher:reused', 'trainer:computed', 'export:computed', 'evaluate:computed'],
    );
    assert.deepEqual(teacherEvents(first.runDirectory, beforeAlpha), [], 'not a single teacher event: the teacher was not asked');
  },
);

test(
  'kill -9 during training, then the same command again: the run completes from its checkpoint',
  { timeout: 600_000 },
  async (context) => {
    const runs = temporaryDirectory(context);
    const environment = { ...process.env, TINY_RUNS: runs };
    const longer = variant(runs, 'longer', 'trainer:\n  options: { max_steps: 40 }\n');
    // Its own process group, so that SIGKILL takes the worker down with distill, as a killed terminal job would.
    const child = spawn(process.execPath, [distillBin, 'run', longer], { env: environment, stdio: 'ignore', detached: true });
    const metrics = path.join(runs, 'tiny-quickstart', 'metrics.jsonl');
    const deadline = Date.now() + 300_000;
    let step = 0;
    while (step < 10 && Date.now() < deadline) {
      await delay(250);
      if (!existsSync(metrics)) continue;
      for (const line of readFileSync(metrics, 'utf8').trim().split('\n')) {
        const event = JSON.parse(line) as { type: string; step?: number };
        if (event.type === 'train.progress') step = Math.max(step, event.step ?? 0);
      }
    }
    assert.ok(step >= 10, 'training reached step 10 before the kill');
    process.kill(-child.pid!, 'SIGKILL');
    await new Promise((resolve) => child.on('exit', resolve));

    const resumed = await runPipeline(longer, { environment });
    assert.deepEqual(
      resumed.stages.map((stage) => `${stage.stage}:${stage.status}`),
      ['dataset:reused', 'teacher:reused', 'trainer:computed', 'export:computed', 'evaluate:computed'],
    );
    const trained = resumed.stages.find((stage) => stage.stage === 'trainer')!;
    const record = JSON.parse(readFileSync(path.join(trained.directory, 'stage.json'), 'utf8')) as {
      output: { resumed: boolean; steps: number };
    };
    assert.equal(record.output.resumed, true, 'training continued from the checkpoint written before the kill');
    assert.equal(record.output.steps, 40);
  },
);

test(
  'a sweep trains every grid point on one shared teacher stage and reports mean and spread over seeds',
  { timeout: 600_000 },
  async (context) => {
    const runs = temporaryDirectory(context);
    const swept = variant(runs, 'swept', 'sweep:\n  mode: [standard, step-by-step]\n  seed: [1, 2]\n');
    const result = await runPipeline(swept, { environment: { ...process.env, TINY_RUNS: runs } });
    const events = readFileSync(path.join(result.runDirectory, 'events.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; stage?: string });
    assert.equal(events.filter((event) => event.type === 'teacher.start').length, 1, 'the teacher stage ran once for the whole grid');
    assert.equal(
      events.filter((event) => event.type === 'stage.start' && event.stage === 'trainer').length,
      5,
      'the pipeline itself, then four grid points',
    );
    assert.deepEqual(
      result.summary.sweep.map((point) => [point.mode, point.rationaleRate, point.alpha, point.accuracies.length]),
      [
        ['standard', 0, 1, 2],
        ['step-by-step', 1, 0.5, 2],
      ],
    );
    assert.match(readFileSync(result.report.markdown, 'utf8'), /\| standard \| 100\.0% \| 0 \| 1 \| 2 \|/);
  },
);
