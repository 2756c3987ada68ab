import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { repositoryRoot } from '../support/paths.js';
import { temporaryDirectory } from '../support/temporary-directory.js';
import { npmPack } from './npm-pack.js';

// What `npm pack` (and so `npm publish`) puts in the package: the issue found a 13.2 MB tarball of 951
// files with run folders, compiled tests and benches in it. The `files` whitelist in package.json must
// keep those out, and still ship everything the installed package reads.

const megabyte = 1024 * 1024;

/** Files a package must never hold: run outputs, caches, compiled tests and benches, build leftovers. */
function isForbidden(file: string): boolean {
  return (
    /(^|\/)(runs|\.distill-cache|__pycache__|\.venv|node_modules)\//.test(file) ||
    file.startsWith('dist/test/') ||
    file.startsWith('dist/bench/') ||
    file.startsWith('test/') ||
    file.startsWith('bench/') ||
    /\.(tsbuildinfo|map|pyc)$/.test(file)
  );
}

/** Every file under `directory`, relative to the repository and `/`-separated, skipping folders named in `skip`. */
function filesUnder(directory: string, skip: ReadonlySet<string>): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(path.join(repositoryRoot, directory), { withFileTypes: true })) {
    const relative = `${directory}/${entry.name}`;
    if (entry.isDirectory()) {
      if (!skip.has(entry.name)) files.push(...filesUnder(relative, skip));
    } else files.push(relative);
  }
  return files;
}

/** The files the `exports` map, `main`, `types` and `bin` of package.json point at. */
function entryPoints(manifest: Record<string, unknown>): string[] {
  const targets: string[] = [];
  const collect = (value: unknown): void => {
    if (typeof value === 'string') targets.push(value.replace(/^\.\//, ''));
    else if (value && typeof value === 'object') Object.values(value).forEach(collect);
  };
  collect([manifest.exports, manifest.main, manifest.types, manifest.bin]);
  return targets;
}

const manifest = JSON.parse(readFileSync(path.join(repositoryRoot, 'package.json'), 'utf8')) as Record<string, unknown>;
const packed = npmPack(repositoryRoot);
const packedFiles = new Set(packed.files.map((file) => file.path));

test('the tarball is under 3 MB and holds no run, test, bench, source map or build-info file', () => {
  assert.ok(packed.size < 3 * megabyte, `the tarball is ${(packed.size / megabyte).toFixed(2)} MB`);
  assert.deepEqual(packed.files.map((file) => file.path).filter(isForbidden), []);
});

test('it holds every entry point, compiled module, recipe and Python file the installed package reads', () => {
  const sourceModules = ['core', 'plugins', 'bin'].flatMap((directory) =>
    filesUnder(directory, new Set(['__pycache__'])).filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts')),
  );
  const expected = [
    'package.json',
    'README.md',
    'LICENSE',
    'schemas/pipeline.schema.json',
    'examples/library/predict.mjs',
    ...entryPoints(manifest),
    // Each TypeScript module compiled, with its declarations for the library's types.
    ...sourceModules.map((file) => `dist/${file.replace(/\.ts$/, '.js')}`),
    ...sourceModules.filter((file) => !file.startsWith('bin/')).map((file) => `dist/${file.replace(/\.ts$/, '.d.ts')}`),
    // The trainer's worker, the exporter's Python and their requirements: every file beside the plugins' TypeScript.
    ...filesUnder('plugins', new Set(['__pycache__'])).filter((file) => !file.endsWith('.ts')),
    // The recipes `distill init` copies and the sample the quickstart reads; never a run folder.
    ...filesUnder('pipelines', new Set(['runs', '.distill-cache'])),
    // The files `distill init --recipe-package` fills in.
    ...filesUnder('templates', new Set()),
  ];
  assert.ok(sourceModules.length > 100 && expected.some((file) => file.endsWith('worker/main.py')), 'the walk found the sources');
  assert.deepEqual(
    [...new Set(expected)].filter((file) => !packedFiles.has(file)),
    [],
  );
});

test('the whitelist leaves out runs, tests, benches and build leftovers planted in a checkout', (context) => {
  const checkout = temporaryDirectory(context, 'distill-pack-');
  copyFileSync(path.join(repositoryRoot, 'package.json'), path.join(checkout, 'package.json'));
  const shipped = [
    'bin/run.js',
    'dist/core/index.js',
    'dist/core/index.d.ts',
    'dist/plugins/index.js',
    'dist/plugins/index.d.ts',
    'dist/bin/commands/index.js',
    'schemas/pipeline.schema.json',
    'pipelines/quickstart.yaml',
    'pipelines/shared/base.yaml',
    'plugins/trainers/torch/worker/main.py',
    'plugins/trainers/torch/worker/requirements.txt',
  ];
  const planted = [
    'pipelines/runs/quickstart/stages/export/0123abcd/model/onnx/model.onnx',
    'pipelines/runs/quickstart/report.html',
    'runs/mine/summary.json',
    'dist/test/core/canonical-json.test.js',
    'dist/test/support/paths.d.ts',
    'dist/bench/run-benchmarks.js',
    'dist/core/index.js.map',
    'tsconfig.tsbuildinfo',
    'dist/tsconfig.tsbuildinfo',
    'plugins/trainers/torch/worker/__pycache__/main.cpython-311.pyc',
    '.venv/bin/python',
    '.distill-cache/teacher-cache.sqlite',
    'test/library/package-contents.test.ts',
  ];
  for (const file of [...shipped, ...planted]) {
    mkdirSync(path.dirname(path.join(checkout, file)), { recursive: true });
    writeFileSync(path.join(checkout, file), `${file}\n`);
  }
  const listed = npmPack(checkout).files.map((file) => file.path);
  assert.deepEqual(listed.sort(), [...shipped, 'package.json'].sort());
});
