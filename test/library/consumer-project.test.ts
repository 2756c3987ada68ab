import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { tinyStudent, tinyStudentMissing, type TinyStudent } from '../core/inference/tiny-student-fixture.js';
import { repositoryRoot } from '../support/paths.js';
import { npmPack, tarballPath } from './npm-pack.js';

// A project of a user's that depends on the packed tarball, as `npm install distill` would leave it,
// offline: the tarball unpacked into node_modules/distill and distill's dependencies linked beside it
// from this checkout (nothing else: a module the library needs but does not declare fails here).

/** The T5 student's end-of-sequence id: a reference answer that ends with it stopped on its own. */
const endOfSequence = 1;

/** What a finished process left. */
interface Finished {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runNode(directory: string, args: readonly string[]): Finished {
  const finished = spawnSync(process.execPath, args, { cwd: directory, encoding: 'utf8', timeout: 180_000 });
  return { status: finished.status, stdout: finished.stdout, stderr: finished.stderr };
}

/** The consumer project: its package.json, the unpacked package, the dependencies linked, the library example. */
function consumerProject(directory: string): string {
  const tarball = tarballPath(directory, npmPack(repositoryRoot, directory));
  const project = path.join(directory, 'consumer');
  const installed = path.join(project, 'node_modules', 'distill');
  mkdirSync(installed, { recursive: true });
  const manifest = { name: 'distill-consumer', private: true, type: 'module', dependencies: { distill: `file:${tarball}` } };
  writeFileSync(path.join(project, 'package.json'), JSON.stringify(manifest, null, 2));
  const unpacked = spawnSync('tar', ['-xzf', tarball, '-C', installed, '--strip-components=1'], { encoding: 'utf8' });
  assert.equal(unpacked.status, 0, unpacked.stderr);
  const distillManifest = JSON.parse(readFileSync(path.join(installed, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  // @types/node for the TypeScript check: a TypeScript consumer has it, and the declarations use Node's types.
  for (const name of [...Object.keys(distillManifest.dependencies), '@types/node']) {
    const link = path.join(project, 'node_modules', name);
    mkdirSync(path.dirname(link), { recursive: true });
    symlinkSync(path.join(repositoryRoot, 'node_modules', name), link, 'dir');
  }
  copyFileSync(path.join(repositoryRoot, 'examples', 'library', 'predict.mjs'), path.join(project, 'predict.mjs'));
  return project;
}

describe('a project that installs the packed package', () => {
  let directory: string;
  let project: string;
  before(() => {
    directory = mkdtempSync(path.join(tmpdir(), 'distill-consumer-'));
    project = consumerProject(directory);
  });
  after(() => rmSync(directory, { recursive: true, force: true }));

  test('imports distill and distill/core through the exports map, and no deep path into dist/', () => {
    const script = [
      'const results = {};',
      "for (const specifier of ['distill', 'distill/core', 'distill/dist/plugins/index.js', 'distill/dist/core/index.js', 'distill/core/index.js']) {",
      '  try { results[specifier] = typeof (await import(specifier)).loadStudent; }',
      '  catch (error) { results[specifier] = error.code; }',
      '}',
      'console.log(JSON.stringify(results));',
    ].join('\n');
    const finished = runNode(project, ['--input-type=module', '--eval', script]);
    assert.equal(finished.status, 0, finished.stderr);
    assert.deepEqual(JSON.parse(finished.stdout), {
      distill: 'function',
      'distill/core': 'function',
      'distill/dist/plugins/index.js': 'ERR_PACKAGE_PATH_NOT_EXPORTED',
      'distill/dist/core/index.js': 'ERR_PACKAGE_PATH_NOT_EXPORTED',
      'distill/core/index.js': 'ERR_PACKAGE_PATH_NOT_EXPORTED',
    });
  });

  test('the library example predicts with a tiny exported student what PyTorch predicted', { skip: tinyStudentMissing() }, async () => {
    const fixture: TinyStudent = await tinyStudent('trained');
    const { reference } = fixture;
    // Examples whose reference answers stopped on their own: a longer generation cap cannot change them.
    const chosen = fixture.test
      .map((example, index) => ({ example, index }))
      .filter(
        ({ index }) => reference.predict_ids[index]?.at(-1) === endOfSequence && reference.explain_ids[index]?.at(-1) === endOfSequence,
      )
      .slice(0, 3);
    assert.ok(chosen.length >= 2, `only ${chosen.length} reference answers stopped within ${reference.max_new_tokens} tokens`);
    const texts = chosen.map(({ example }) => example.input);
    const finished = runNode(project, ['predict.mjs', fixture.exported, ...texts]);
    assert.equal(finished.status, 0, finished.stderr);
    const printed = finished.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as unknown);
    assert.deepEqual(
      printed,
      chosen.map(({ index }, position) => ({
        text: texts[position],
        label: reference.predict_texts[index]!.trim(),
        rationale: reference.explain_texts[index]!.trim(),
      })),
    );
  });

  test('the example without arguments prints its usage and exits 2', () => {
    const finished = runNode(project, ['predict.mjs']);
    assert.equal(finished.status, 2);
    assert.match(finished.stderr, /usage: node predict\.mjs <model folder> <text>/);
  });

  test("the package's own command validates the quickstart recipe it ships", () => {
    const installed = path.join(project, 'node_modules', 'distill');
    const finished = runNode(project, [
      path.join(installed, 'bin', 'run.js'),
      'validate',
      path.join(installed, 'pipelines', 'quickstart.yaml'),
    ]);
    assert.equal(finished.status, 0, finished.stderr);
    assert.match(finished.stdout, /quickstart\.yaml/);
  });

  test('TypeScript resolves the option and result types through the exports map, and no deep path', () => {
    const source = [
      "import { loadPipeline, loadStudent, runPipeline, UserError } from 'distill';",
      "import type { LoadStudentOptions, PipelineSource, Prediction, PredictOptions, RunPipelineOptions, RunPipelineResult } from 'distill';",
      "import type { PluginRegistry } from 'distill/core';",
      '// @ts-expect-error: dist/ is not part of the package interface',
      "import type { Student } from 'distill/dist/core/index.js';",
      '',
      "const studentOptions: LoadStudentOptions = { precision: 'int8', batchSize: 4 };",
      'const predictOptions: PredictOptions = { explain: true, maxNewTokens: 16 };',
      'export async function labels(folder: string): Promise<string[]> {',
      '  const student = await loadStudent(folder, studentOptions);',
      '  const predictions: Prediction[] = await student.predict([`a </s> b`], predictOptions);',
      '  await student.close();',
      '  return predictions.map((prediction) => prediction.label);',
      '}',
      "export async function run(file: string, options: Omit<RunPipelineOptions, 'registry'>): Promise<RunPipelineResult> {",
      '  const source: PipelineSource = await loadPipeline(file);',
      '  return runPipeline(source, options);',
      '}',
      'export const isUserError = (error: unknown): error is UserError => error instanceof UserError;',
      'export type Registry = PluginRegistry;',
      'export type Unused = Student;',
      '',
    ].join('\n');
    writeFileSync(path.join(project, 'check.ts'), source);
    const compilerOptions = {
      module: 'nodenext',
      moduleResolution: 'nodenext',
      target: 'es2022',
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      types: ['node'],
    };
    writeFileSync(path.join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['check.ts'] }));
    const finished = runNode(project, [path.join(repositoryRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project]);
    assert.equal(finished.status, 0, finished.stdout + finished.stderr);
  });
});
