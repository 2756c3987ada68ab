import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readEvaluationExamples, type EvaluationExample } from '../../../core/inference/evaluation-examples.js';
import type { ExportResult } from '../../../core/plugins/kinds/exporter.js';
import { PluginRegistry } from '../../../core/plugins/plugin-registry.js';
import { builtinPlugins } from '../../../plugins/builtin-plugins.js';
import { exportStudent } from '../../../plugins/composition-root.js';
import { repositoryRoot, testPath } from '../../support/paths.js';
import { testPython } from './tiny-student-fixture.js';

/**
 * A tiny causal-LM student made for the tests (never downloaded): `llama` is a Llama with a tied
 * output layer and a few seconds of two-tasks training, so that it answers labels and stops at the end
 * token; `qwen2` is an untrained Qwen2 (q/k/v biases, untied output layer) that wanders through the
 * vocabulary for every step, as do `qwen3` (per-head q/k norms) and `gemma3_text` (a Gemma 3 text model
 * whose first layer attends over a sliding window of 8 positions, shorter than every test prompt, and
 * whose second attends fully; scaled embeddings, sandwich norms, two rope bases, a final logit soft cap). `label-then-rationale` is the Llama trained on one row per example (label,
 * separator, rationale), so that it stops a label at the separator; `chat` is an untrained Llama whose
 * tokenizer has a ChatML template (special tokens of its own) and whose prompts are `chat` prompts.
 * All have 4 query heads sharing 2 key/value heads.
 */
export type TinyCausalLmKind = 'llama' | 'qwen2' | 'qwen3' | 'gemma3_text' | 'label-then-rationale' | 'chat';

/** PyTorch's answers for the test inputs, written by `fixtures/make_tiny_causal_lm.py`. */
export interface CausalLmReference {
  readonly max_new_tokens: number;
  readonly predict_prompt_ids: number[][];
  readonly explain_prompt_ids: number[][];
  /** The predict prompts cut to `short_input_tokens` as the contract cuts them, and their greedy ids. */
  readonly short_input_tokens: number;
  readonly short_prompt_ids: number[][];
  readonly short_predict_ids: number[][];
  /** Greedy `generate` ids of one left-padded batch of all test prompts. */
  readonly predict_ids: number[][];
  readonly explain_ids: number[][];
  readonly predict_texts: string[];
  readonly explain_texts: string[];
  /**
   * Per test input, the total log-probability of each of the folder's labels (in its order), each
   * ending with the end token, or with label-then-rationale targets the separator's first token.
   */
  readonly label_log_probabilities: number[][];
  /** label-then-rationale: the separator's first token, which stops a label in `predict_ids`. */
  readonly separator_token?: number;
  /** label-then-rationale: the whole generation (label, separator, rationale) of each predict prompt, 64 tokens at most. */
  readonly label_then_rationale_texts?: string[];
  /** label-then-rationale: the text after the separator in each of those. */
  readonly rationale_texts?: string[];
  /** chat: `apply_chat_template` of each predict prompt's real message, with the generation prompt. */
  readonly chat_template_prompt_ids?: number[][];
}

/** A checkpoint, its export (with the int8 graph), and PyTorch's answers. */
export interface TinyCausalLm {
  readonly checkpoint: string;
  readonly exported: string;
  readonly reference: CausalLmReference;
  readonly test: EvaluationExample[];
  readonly exportResult: ExportResult;
}

/** The e-SNLI sample shipped with the repository: the fixture needs no shared data. */
const sampleDirectory = path.join(repositoryRoot, 'pipelines', 'data', 'esnli-sample');
const testExampleCount = 12;
const trainExampleCount = 300;
const maxNewTokens = 12;
const shortInputTokens = 20;
const trainSteps: Record<TinyCausalLmKind, number> = {
  llama: 150,
  qwen2: 0,
  qwen3: 0,
  gemma3_text: 0,
  'label-then-rationale': 200,
  chat: 0,
};
/** The fixture script's arguments beyond the training steps. */
const variantArguments: Record<TinyCausalLmKind, string[]> = {
  llama: ['--model-type', 'llama'],
  qwen2: ['--model-type', 'qwen2'],
  qwen3: ['--model-type', 'qwen3'],
  gemma3_text: ['--model-type', 'gemma3_text'],
  'label-then-rationale': ['--model-type', 'llama', '--targets', 'label-then-rationale'],
  chat: ['--model-type', 'llama', '--prompt-format', 'chat'],
};

/** The reason to skip tests that need the tiny causal LM (no Python), or false. */
export function tinyCausalLmMissing(): string | false {
  return existsSync(testPython) ? false : `no Python at ${testPython}; run \`npm run setup:python\``;
}

function fixtureKey(): string {
  const hash = createHash('sha256');
  const exporter = path.join(repositoryRoot, 'plugins', 'exporters', 'onnx', 'python');
  for (const file of [
    testPath('core', 'inference', 'fixtures', 'make_tiny_causal_lm.py'),
    ...['export_onnx.py', 'causal_lm_export.py', 'decoder_onnx_modules.py', 'line_protocol.py'].map((name) => path.join(exporter, name)),
  ]) {
    hash.update(readFileSync(file));
  }
  hash.update(JSON.stringify({ testExampleCount, trainExampleCount, maxNewTokens, shortInputTokens, trainSteps, variantArguments }));
  return hash.digest('hex').slice(0, 16);
}

const built = new Map<TinyCausalLmKind, Promise<TinyCausalLm>>();
const registry = new PluginRegistry(builtinPlugins);

/**
 * Builds the tiny causal LM once per fixture version (cached under the OS temp folder, keyed by the
 * hash of the fixture script and the export program). The export goes through the `onnx` exporter
 * plugin with `quantize`, exactly as `distill export --quantize` runs it.
 */
export function tinyCausalLm(kind: TinyCausalLmKind): Promise<TinyCausalLm> {
  let promise = built.get(kind);
  if (!promise) {
    promise = buildTinyCausalLm(kind);
    built.set(kind, promise);
  }
  return promise;
}

async function buildTinyCausalLm(kind: TinyCausalLmKind): Promise<TinyCausalLm> {
  const folder = path.join(tmpdir(), `distill-tiny-causal-lm-${fixtureKey()}`, kind);
  const read = async (split: string, limit: number) =>
    (await readEvaluationExamples({ dataset: 'esnli', split, root: sampleDirectory, limit }, registry)).examples;
  const test = await read('test', testExampleCount);
  const resultFile = path.join(folder, 'export-result.json');
  if (!existsSync(resultFile)) {
    const staging = `${folder}.${process.pid}.${Date.now()}`;
    mkdirSync(staging, { recursive: true });
    const train = await read('valid', trainExampleCount);
    const rationales = readFileSync(path.join(sampleDirectory, 'esnli', 'esnli_valid.json'), 'utf8')
      .split('\n')
      .slice(0, trainExampleCount)
      .map((line) => (JSON.parse(line) as { explanation_1?: string }).explanation_1 ?? '');
    const data = {
      train: train.map((example, index) => ({ ...example, rationale: rationales[index] ?? '' })),
      test,
      max_new_tokens: maxNewTokens,
      short_input_tokens: shortInputTokens,
    };
    writeFileSync(path.join(staging, 'data.json'), JSON.stringify(data));
    const script = testPath('core', 'inference', 'fixtures', 'make_tiny_causal_lm.py');
    const made = spawnSync(
      testPython,
      [
        script,
        '--data',
        path.join(staging, 'data.json'),
        '--output',
        staging,
        ...variantArguments[kind],
        '--train-steps',
        String(trainSteps[kind]),
      ],
      { encoding: 'utf8', env: { ...process.env, TRANSFORMERS_VERBOSITY: 'error' } },
    );
    if (made.status !== 0) throw new Error(`make_tiny_causal_lm.py failed:\n${made.stderr}`);
    const exportResult = await exportStudent({
      checkpoint: path.join(staging, 'checkpoint'),
      output: path.join(staging, 'exported'),
      quantize: true,
      python: testPython,
    });
    writeFileSync(resultFile.replace(folder, staging), JSON.stringify(exportResult));
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
    reference: JSON.parse(readFileSync(path.join(folder, 'reference.json'), 'utf8')) as CausalLmReference,
    test,
    exportResult: { ...exportResult, outputDirectory: path.join(folder, 'exported') },
  };
}
