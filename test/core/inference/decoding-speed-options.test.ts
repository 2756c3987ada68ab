import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { promptText } from '../../../core/inference/decoder-prompt.js';
import { decoderCaches, greedyDecode, type StudentSessions } from '../../../core/inference/greedy-decoder.js';
import { loadStudent, taskPrefixes, type LoadStudentOptions } from '../../../core/inference/load-student.js';
import { studentSessionOptions } from '../../../core/inference/session-options.js';
import { readStudentFolder, type CausalLmStudentFolder, type T5StudentFolder } from '../../../core/inference/student-folder.js';
import { createStudentTokenizer } from '../../../core/inference/student-tokenizer.js';
import { temporaryDirectory } from '../../support/temporary-directory.js';
import { tinyCausalLm, tinyCausalLmMissing } from './tiny-causal-lm-fixture.js';
import { tinyStudent, tinyStudentMissing } from './tiny-student-fixture.js';

/** The ids of `texts` from a student loaded with `options`, closed afterwards. */
async function idsWith(folder: string, options: LoadStudentOptions, texts: readonly string[]): Promise<number[][]> {
  const student = await loadStudent(folder, options);
  try {
    return await student.generateIds(texts);
  } finally {
    await student.close();
  }
}

/** A real decoder session whose every `run` is recorded (its fetches and feeds) before it runs. */
function recordedRuns(decoder: InferenceSession): {
  session: InferenceSession;
  runs: { feeds: Record<string, Tensor>; fetches: unknown }[];
} {
  const runs: { feeds: Record<string, Tensor>; fetches: unknown }[] = [];
  const session = new Proxy(decoder, {
    get(target, property, receiver) {
      if (property !== 'run') return Reflect.get(target, property, receiver) as unknown;
      return (feeds: Record<string, Tensor>, fetches: unknown) => {
        runs.push({ feeds: { ...feeds }, fetches });
        return target.run(feeds, fetches as InferenceSession.FetchesType);
      };
    },
  });
  return { session, runs };
}

describe('loadStudent reuseBuffers: preallocated caches and logits, same ids', { skip: tinyStudentMissing() }, () => {
  test('a T5 student decodes PyTorch greedy ids with and without reused buffers, at batch 1 and 16', async () => {
    // The untrained model rarely stops: most rows run every step, so the caches grow to their longest.
    const fixture = await tinyStudent('random');
    const texts = fixture.test.map((example) => taskPrefixes.explain + example.input);
    const maxNewTokens = fixture.reference.max_new_tokens;
    for (const batchSize of [1, 16]) {
      for (const reuseBuffers of [false, true]) {
        const ids = await idsWith(fixture.exported, { maxNewTokens, batchSize, reuseBuffers }, texts);
        assert.deepEqual(ids, fixture.reference.explain_ids, `batch ${batchSize}, reuseBuffers ${reuseBuffers}`);
      }
    }
  });

  test('with reused buffers the decoder writes into two buffers per cache, in turn, and reads the last one written', async () => {
    const fixture = await tinyStudent('random');
    const runtime = await import('onnxruntime-node');
    const folder = readStudentFolder(fixture.exported) as T5StudentFolder;
    const tokenizer = createStudentTokenizer(folder.tokenizer, folder.tokenizerConfig);
    const inputs = fixture.test.slice(0, 3).map((example) => tokenizer.encode(taskPrefixes.explain + example.input));
    const encoder = await runtime.InferenceSession.create(folder.encoderPath);
    const decoder = await runtime.InferenceSession.create(folder.decoderPath);
    try {
      const decode = async (reuseBuffers: boolean) => {
        const recorded = recordedRuns(decoder);
        const sessions: StudentSessions = {
          runtime,
          encoder,
          decoder: recorded.session,
          folder,
          caches: decoderCaches(decoder),
          reuseBuffers,
        };
        return { ids: await greedyDecode(sessions, inputs, 8), runs: recorded.runs };
      };
      const plain = await decode(false);
      const reused = await decode(true);
      assert.deepEqual(reused.ids, plain.ids);
      // Without the option every run names its outputs and onnxruntime allocates them.
      assert.ok(plain.runs.every((run) => Array.isArray(run.fetches)));

      const cache = 'present.0.decoder.key';
      const fetched = reused.runs.map((run) => (run.fetches as Record<string, Tensor | null>)[cache]!);
      assert.equal(fetched.length, 8, 'every step ran (the random model did not stop within 8 tokens)');
      const buffers = new Set(fetched.map((tensor) => (tensor.data as Float32Array).buffer));
      assert.equal(buffers.size, 2, 'eight steps share two buffers');
      for (let step = 1; step < fetched.length; step++) {
        assert.equal(fetched[step]!.dims[2], step + 1, 'the present grows by one position a step');
        assert.notEqual((fetched[step]!.data as Float32Array).buffer, (fetched[step - 1]!.data as Float32Array).buffer);
        // The step reads what the step before wrote: the same memory, not a copy.
        const past = reused.runs[step]!.feeds['past_key_values.0.decoder.key']!;
        assert.equal((past.data as Float32Array).buffer, (fetched[step - 1]!.data as Float32Array).buffer);
      }
      // From the second step on the logits go to one preallocated tensor.
      const logits = reused.runs.slice(1).map((run) => (run.fetches as Record<string, Tensor | null>).logits);
      assert.ok(logits.every((tensor) => tensor !== null && tensor === logits[0]));
    } finally {
      await encoder.release();
      await decoder.release();
    }
  });
});

describe('loadStudent reuseBuffers on a causal-LM student', { skip: tinyCausalLmMissing() }, () => {
  test('greedy ids of a left-padded batch equal PyTorch ids with and without reused buffers', async () => {
    const fixture = await tinyCausalLm('llama');
    const folder = readStudentFolder(fixture.exported) as CausalLmStudentFolder;
    const prompts = fixture.test.map((example) => promptText(folder.descriptor, 'explain', example.input));
    for (const reuseBuffers of [false, true]) {
      assert.deepEqual(
        await idsWith(fixture.exported, { reuseBuffers }, prompts),
        fixture.reference.explain_ids,
        `reuseBuffers ${reuseBuffers}`,
      );
    }
  });
});

describe('loadStudent graphOptimizationLevel', { skip: tinyStudentMissing() }, () => {
  test('the level reaches onnxruntime: it writes a different optimised graph at each level, and the ids do not change', async (context) => {
    const fixture = await tinyStudent('trained');
    const folder = readStudentFolder(fixture.exported) as T5StudentFolder;
    const runtime = await import('onnxruntime-node');
    const directory = temporaryDirectory(context);
    const written = new Map<string, Buffer>();
    for (const graphOptimizationLevel of ['disabled', 'all'] as const) {
      const file = path.join(directory, `${graphOptimizationLevel}.onnx`);
      const session = await runtime.InferenceSession.create(folder.decoderPath, {
        ...studentSessionOptions({ graphOptimizationLevel }),
        optimizedModelFilePath: file,
      });
      await session.release();
      written.set(graphOptimizationLevel, readFileSync(file));
    }
    const original = readFileSync(folder.decoderPath);
    // Fusions make the fully optimised graph smaller than the one onnxruntime left as it was.
    assert.ok(
      written.get('all')!.length < written.get('disabled')!.length,
      `all ${written.get('all')!.length} bytes, disabled ${written.get('disabled')!.length}, original ${original.length}`,
    );

    const texts = fixture.test.map((example) => taskPrefixes.explain + example.input);
    const maxNewTokens = fixture.reference.max_new_tokens;
    for (const graphOptimizationLevel of ['disabled', 'basic', 'all'] as const) {
      assert.deepEqual(await idsWith(fixture.exported, { maxNewTokens, graphOptimizationLevel }, texts), fixture.reference.explain_ids);
    }
  });
});
