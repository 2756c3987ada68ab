import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readEvaluationExamples, type EvaluationExample } from '../../../core/inference/evaluation-examples.js';
import { exportStudent } from '../../../plugins/composition-root.js';
import { defaultVirtualenvPython, pythonEnvironmentVariable } from '../../../core/python/python-interpreter.js';
import type { ExportResult } from '../../../core/plugins/kinds/exporter.js';
import { PluginRegistry } from '../../../core/plugins/plugin-registry.js';
import { builtinPlugins } from '../../../plugins/builtin-plugins.js';
import { dsbsDirectory, repositoryRoot, sharedDataMissing, testPath } from '../../support/paths.js';

/**
 * A tiny T5 student made for the tests (never downloaded): `random` is untrained with wide weights so
 * that it wanders through the vocabulary for all `maxNewTokens` steps; `trained` had a few seconds of
 * multi-task training on real e-SNLI lines, so it stops at `</s>` and predicts labels.
 */
export type TinyStudentKind = 'random' | 'trained';

/** PyTorch's answers for the test inputs, written by `fixtures/make_tiny_t5.py`. */
export interface PyTorchReference {
  readonly steps: number;
  readonly max_new_tokens: number;
  readonly input_ids: number[][];
  /** The same inputs truncated to 16 tokens by the Python tokenizer. */
  readonly truncated_input_ids: number[][];
  readonly predict_ids: number[][];
  readonly explain_ids: number[][];
  readonly predict_texts: string[];
  readonly explain_texts: string[];
}

/** A checkpoint, its export (with int8 graphs for `trained`), and PyTorch's answers. */
export interface TinyStudent {
  readonly checkpoint: string;
  readonly exported: string;
  readonly reference: PyTorchReference;
  /** The e-SNLI test examples the reference answers are for (the first {@link testExampleCount}). */
  readonly test: EvaluationExample[];
  readonly exportResult: ExportResult;
}

/** How many e-SNLI test examples the fixtures answer. */
export const testExampleCount = 24;
const trainExampleCount = 400;
const maxNewTokens = 20;

/** The Python of the tests: `$DISTILL_PYTHON` or the project virtualenv. */
export const testPython = process.env[pythonEnvironmentVariable] ?? defaultVirtualenvPython;

/** The reason to skip tests that need the tiny student (no data, no Python), or false. */
export function tinyStudentMissing(): string | false {
  const data = sharedDataMissing();
  if (data) return data;
  return existsSync(testPython) ? false : `no Python at ${testPython}; run \`npm run setup:python\``;
}

function fixtureKey(): string {
  const hash = createHash('sha256');
  for (const file of [
    testPath('core', 'inference', 'fixtures', 'make_tiny_t5.py'),
    path.join(repositoryRoot, 'plugins', 'exporters', 'onnx', 'python', 'export_onnx.py'),
    path.join(repositoryRoot, 'plugins', 'exporters', 'onnx', 'python', 't5_onnx_modules.py'),
    path.join(repositoryRoot, 'plugins', 'exporters', 'onnx', 'python', 'line_protocol.py'),
  ]) {
    hash.update(readFileSync(file));
  }
  hash.update(JSON.stringify({ testExampleCount, trainExampleCount, maxNewTokens }));
  return hash.digest('hex').slice(0, 16);
}

const built = new Map<TinyStudentKind, Promise<TinyStudent>>();

/** The plugins the fixture reads its named dataset through. */
const registry = new PluginRegistry(builtinPlugins);

/**
 * Builds the tiny student once per fixture version (cached under the OS temp folder, keyed by the
 * hash of the fixture script and the export program, so a change to either rebuilds it). The
 * export goes through the `onnx` exporter plugin, exactly as `distill export` runs it.
 */
export function tinyStudent(kind: TinyStudentKind): Promise<TinyStudent> {
  let promise = built.get(kind);
  if (!promise) {
    promise = buildTinyStudent(kind);
    built.set(kind, promise);
  }
  return promise;
}

async function buildTinyStudent(kind: TinyStudentKind): Promise<TinyStudent> {
  const cacheRoot = path.join(tmpdir(), `distill-tiny-t5-${fixtureKey()}`);
  const folder = path.join(cacheRoot, kind);
  const test = (await readEvaluationExamples({ dataset: 'esnli', split: 'test', root: dsbsDirectory, limit: testExampleCount }, registry))
    .examples;
  const resultFile = path.join(folder, 'export-result.json');
  if (!existsSync(resultFile)) {
    const staging = `${folder}.${process.pid}.${Date.now()}`;
    mkdirSync(staging, { recursive: true });
    const train = (
      await readEvaluationExamples({ dataset: 'esnli', split: 'valid', root: dsbsDirectory, limit: trainExampleCount }, registry)
    ).examples;
    const rationales = readRationales(trainExampleCount);
    const data = {
      train: train.map((example, index) => ({ ...example, rationale: rationales[index] ?? '' })),
      test,
      max_new_tokens: maxNewTokens,
    };
    writeFileSync(path.join(staging, 'data.json'), JSON.stringify(data));
    const made = spawnSync(
      testPython,
      [
        testPath('core', 'inference', 'fixtures', 'make_tiny_t5.py'),
        '--data',
        path.join(staging, 'data.json'),
        '--output',
        staging,
        '--train-steps',
        kind === 'trained' ? '200' : '0',
      ],
      { encoding: 'utf8', env: { ...process.env, TRANSFORMERS_VERBOSITY: 'error' } },
    );
    if (made.status !== 0) throw new Error(`make_tiny_t5.py failed:\n${made.stderr}`);
    const exportResult = await exportStudent({
      checkpoint: path.join(staging, 'checkpoint'),
      output: path.join(staging, 'exported'),
      quantize: kind === 'trained',
      python: testPython,
      ...(kind === 'trained' ? { comparison: { dataset: 'esnli', split: 'test', root: dsbsDirectory, limit: testExampleCount } } : {}),
    });
    writeFileSync(path.join(staging, 'export-result.json'), JSON.stringify(exportResult));
    try {
      renameSync(staging, folder);
    } catch {
      // Another test process built it first; theirs is as good as ours.
      rmSync(staging, { recursive: true, force: true });
    }
  }
  const exportResult = JSON.parse(readFileSync(resultFile, 'utf8')) as ExportResult;
  return {
    checkpoint: path.join(folder, 'checkpoint'),
    exported: path.join(folder, 'exported'),
    reference: JSON.parse(readFileSync(path.join(folder, 'reference.json'), 'utf8')) as PyTorchReference,
    test,
    // The cached result names the staging folder it was written in; point it at the final one.
    exportResult: { ...exportResult, outputDirectory: path.join(folder, 'exported') },
  };
}

/** The first human explanation of each e-SNLI validation line, as the rationale target. */
function readRationales(limit: number): string[] {
  const lines = readFileSync(path.join(dsbsDirectory, 'esnli', 'esnli_valid.json'), 'utf8')
    .split('\n')
    .slice(0, limit);
  return lines.map((line) => (JSON.parse(line) as { explanation_1?: string }).explanation_1 ?? '');
}
