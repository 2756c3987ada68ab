import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync } from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { distillBin } from '../support/run-distill.js';
import { dsbsDirectory, repositoryRoot, sharedDataMissing } from '../support/paths.js';
import { temporaryDirectory } from '../support/temporary-directory.js';

// A newcomer's checkout: the recipes copied into a fresh folder (no run folders, no data beside it),
// an environment without API keys or DISTILL_DSBS_DIR, and a scratch teacher cache.
const stackTraceLine = /^\s+at .+:\d+:\d+\)?$/m;
const recipe = 'pipelines/esnli-zero-shot-openai.yaml';

function freshProject(context: TestContext): string {
  const project = temporaryDirectory(context, 'distill-newcomer-');
  cpSync(path.join(repositoryRoot, 'pipelines'), path.join(project, 'pipelines'), {
    recursive: true,
    filter: (source) => path.basename(source) !== 'runs',
  });
  return project;
}

function distillIn(project: string, args: string[], extra: Record<string, string> = {}) {
  // The newcomer has neither a key nor a data folder unless the test gives them.
  const inherited = Object.entries(process.env).filter(([name]) => name !== 'OPENAI_API_KEY' && name !== 'DISTILL_DSBS_DIR');
  const environment: NodeJS.ProcessEnv = { ...Object.fromEntries(inherited), DISTILL_CACHE_DIR: path.join(project, 'cache'), ...extra };
  const result = spawnSync(process.execPath, [distillBin, ...args], { cwd: project, env: environment, encoding: 'utf8', timeout: 170_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('without data and key, a real run reports both with their fixes and creates nothing', { timeout: 180_000 }, (context) => {
  const project = freshProject(context);
  const result = distillIn(project, ['run', recipe]);
  assert.equal(result.status, 1, result.stdout + result.stderr);
  assert.match(
    result.stderr,
    /\/dataset\/options\/root \[dataset\/dsbs\]\n {2}path not found: .*\n {2}fix: DISTILL_DSBS_DIR is not set.*export DISTILL_DSBS_DIR=/,
  );
  assert.match(
    result.stderr,
    /\/teacher\/options\/api_key \[teacher\/openai\]\n {2}no API key for the OpenAI teacher: OPENAI_API_KEY is not set\n {2}fix: export OPENAI_API_KEY=/,
  );
  assert.match(result.stderr, /2 problems/);
  assert.doesNotMatch(result.stdout + result.stderr, stackTraceLine);
  assert.equal(existsSync(path.join(project, 'pipelines', 'runs')), false, 'no run folder');
  assert.equal(existsSync(path.join(project, 'runs')), false);
});

test('the dry run reports the same problems at once, and exits 1', { timeout: 180_000 }, (context) => {
  const project = freshProject(context);
  const result = distillIn(project, ['run', recipe, '--dry-run']);
  assert.equal(result.status, 1);
  assert.match(result.stderr, /DISTILL_DSBS_DIR is not set/);
  assert.match(result.stderr, /OPENAI_API_KEY is not set/);
  assert.doesNotMatch(result.stdout + result.stderr, stackTraceLine);
});

test(
  'a relative DISTILL_DSBS_DIR resolves against the working directory, not the pipeline’s folder',
  { skip: sharedDataMissing(), timeout: 180_000 },
  (context) => {
    const project = freshProject(context);
    const relative = path.relative(project, dsbsDirectory);
    assert.equal(existsSync(path.resolve(project, 'pipelines', relative)), false, 'from the pipeline’s folder it would name nothing');
    const dryRun = distillIn(project, ['run', recipe, '--dry-run'], { DISTILL_DSBS_DIR: relative });
    // The data is found: the plan and the estimate print, and only the key is missing.
    assert.match(dryRun.stdout, /teacher +would run/);
    assert.match(dryRun.stdout, /openai\/gpt-4o-mini: \d+ prompt \+ \d+ completion tokens, \$\d+\.\d{4} \(teacher\)/);
    assert.match(
      dryRun.stderr,
      /a real run would stop before it starts:\n.*\/teacher\/options\/api_key \[teacher\/openai\]\n {2}no API key for the OpenAI teacher: OPENAI_API_KEY is not set/,
    );
    assert.doesNotMatch(dryRun.stderr, /dsbs/);
    assert.equal(dryRun.status, 1, 'a plan a real run would refuse is no success');
    const withKey = distillIn(project, ['run', recipe, '--dry-run'], {
      DISTILL_DSBS_DIR: relative,
      OPENAI_API_KEY: 'sk-preflight-test-key',
    });
    assert.equal(withKey.status, 0, withKey.stderr);
    // A real run without the key stops before the dataset stage, with nothing written.
    const real = distillIn(project, ['run', recipe], { DISTILL_DSBS_DIR: relative });
    assert.equal(real.status, 1);
    assert.match(real.stderr, /OPENAI_API_KEY is not set/);
    assert.equal(existsSync(path.join(project, 'pipelines', 'runs')), false, 'no run folder');
  },
);

test('--only and --from offer only the stages a run has: no sampler', { timeout: 60_000 }, (context) => {
  const project = freshProject(context);
  const help = distillIn(project, ['run', '--help']);
  assert.match(help.stdout, /--only=<option>[\s\S]*<options: dataset\|teacher\|trainer\|export\|evaluate>/);
  assert.doesNotMatch(help.stdout, /sampler/);
  const result = distillIn(project, ['run', recipe, '--only', 'sampler']);
  assert.notEqual(result.status, 0);
  // oclif wraps its error at the terminal's width, with a › on each line.
  const message = result.stderr.replaceAll(/\s+(›\s+)?/g, ' ');
  assert.match(message, /Expected --only=sampler to be one of: dataset, teacher, trainer, export, evaluate/);
  assert.doesNotMatch(result.stdout + result.stderr, stackTraceLine);
});
