import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { UserError } from '../../../../core/errors/user-error.js';
import type { JsonSchema } from '../../../../core/plugins/json-schema.js';
import { defaultVirtualenvPython } from '../../../../core/python/python-interpreter.js';
import { PythonProgramFailure } from '../../../../core/python/python-program-failure.js';
import { workerCommand } from '../../../../plugins/trainers/torch/torch-trainer-client.js';
import { clientOnlyOptions, workerOptionsSchema } from '../../../../plugins/trainers/torch/torch-trainer-options.js';
import { runWorker } from '../../../../plugins/trainers/torch/worker-process.js';
import type { WorkerEvent, WorkerTrainRequest } from '../../../../plugins/trainers/torch/worker-protocol.js';
import { repositoryRoot } from '../../../support/paths.js';
import { temporaryDirectory } from '../../../support/temporary-directory.js';
import { tinyCausalStudent, tinyScratchStudent } from './trainer-runs.js';

const properties = workerOptionsSchema.properties as Record<string, Record<string, unknown>>;

/** A request for a tiny from-scratch student on four examples, with the given options and schema. */
function tinyRequest(context: TestContext, options: Record<string, unknown>, schema: JsonSchema = workerOptionsSchema): WorkerTrainRequest {
  const output = temporaryDirectory(context, 'distill-worker-options-');
  const train = path.join(output, 'train.jsonl');
  const rows = ['a', 'b', 'c', 'd'].map((id) => ({
    id,
    input: `premise ${id} </s> hypothesis`,
    label: 'entailment',
    rationale: 'because',
  }));
  writeFileSync(train, rows.map((row) => JSON.stringify(row)).join('\n') + '\n');
  return {
    output_directory: output,
    data: { train },
    student: tinyScratchStudent,
    alpha: { start: 0.5, end: 0.5 },
    metric: 'exact-match',
    seed: 1,
    resume: false,
    options: { threads: 1, ...options },
    options_schema: schema,
  };
}

/** Runs the real worker on `request`; its events and how it ended. */
async function runRequest(
  request: WorkerTrainRequest,
  environment: NodeJS.ProcessEnv = process.env,
): Promise<{ events: WorkerEvent[]; error: unknown }> {
  const events: WorkerEvent[] = [];
  const error = await runWorker({
    command: workerCommand(defaultVirtualenvPython, {}, '', environment),
    request,
    onEvent: (event) => events.push(event),
    handshakeTimeoutMs: 120_000,
    cancelGraceMs: 5_000,
  }).then(
    () => null,
    (failure: unknown) => failure,
  );
  return { events, error };
}

test('the worker refuses an option the schema it is sent does not name, listing the ones it does', async (context) => {
  const { error } = await runRequest(tinyRequest(context, { batchsize: 2 }));
  assert.ok(error instanceof UserError, String(error));
  assert.match(error.message, /^trainer: unknown trainer option\(s\) batchsize; known options: batch_size, bf16, bucket_batches,/);
  for (const name of clientOnlyOptions) assert.ok(!error.message.includes(name), `${name} stays on the TypeScript side`);
  assert.equal(error.problems[0]!.plugin, 'trainer/torch');
});

test('the worker refuses mistyped options by the type and range the schema gives', async (context) => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ batch_size: '2' }, /option `batch_size` must be an integer, got '2'/],
    [{ bf16: 'yes' }, /option `bf16` must be true or false or "auto", got 'yes'/],
    [{ learning_rate: 0 }, /option `learning_rate` must be more than 0, got 0/],
  ];
  for (const [options, expected] of cases) {
    const { error, events } = await runRequest(tinyRequest(context, options));
    assert.ok(error instanceof UserError, String(error));
    assert.match(error.message, expected);
    assert.ok(!events.some((event) => event.type === 'started'), 'refused before any work');
  }
});

test('the worker takes its defaults from the schema it is sent, not from a list of its own', async (context) => {
  // One epoch of four examples: one batch of the schema's default 16, two of a default of 2 the request carries.
  const stepsPerEpoch = async (schema: JsonSchema) => {
    const run = await runRequest(tinyRequest(context, {}, schema));
    assert.equal(run.error, null, String(run.error));
    assert.equal(run.events.at(-1)?.type, 'done');
    return run.events.find((event) => event.type === 'started')?.steps_per_epoch;
  };
  assert.equal(await stepsPerEpoch(workerOptionsSchema), 1);
  const batchesOfTwo = { ...workerOptionsSchema, properties: { ...properties, batch_size: { ...properties.batch_size, default: 2 } } };
  assert.equal(await stepsPerEpoch(batchesOfTwo), 2);
});

test('a schema rule the worker cannot check is a bug reported as such, never skipped', async (context) => {
  const schema = { ...workerOptionsSchema, properties: { ...properties, batch_size: { type: 'integer', multipleOf: 2 } } };
  const { error } = await runRequest(tinyRequest(context, { batch_size: 2 }, schema));
  assert.ok(error instanceof PythonProgramFailure, String(error));
  assert.match(error.message, /the options schema of `batch_size` uses multipleOf, which the worker does not check/);
});

test("test_limit scores the trainer's own test on the first N test examples, and every count it reports says N", async (context) => {
  /** Runs one step with seven test examples; the counts of the test the worker reports. */
  const testCounts = async (options: Record<string, unknown>) => {
    const request = tinyRequest(context, { max_steps: 1, generation_max_tokens: 2, ...options });
    const test = path.join(request.output_directory, 'test.jsonl');
    const rows = Array.from({ length: 7 }, (_, index) => ({
      id: `t${index}`,
      input: `premise ${index} </s> hypothesis`,
      label: 'entailment',
    }));
    writeFileSync(test, rows.map((row) => JSON.stringify(row)).join('\n') + '\n');
    const run = await runRequest({ ...request, data: { ...request.data, test } });
    assert.equal(run.error, null, String(run.error));
    const evaluation = run.events.find((event) => event.type === 'evaluation' && event.split === 'test');
    const done = run.events.at(-1);
    assert.ok(evaluation?.type === 'evaluation' && done?.type === 'done');
    assert.ok(evaluation.correct <= evaluation.examples);
    const metrics = JSON.parse(readFileSync(path.join(done.checkpoint!, 'distill-metrics.json'), 'utf8')) as { test_examples: number };
    const started = run.events.find((event) => event.type === 'started');
    return {
      started: started?.type === 'started' ? started.test_examples : null,
      scored: evaluation.examples,
      done: done.test_examples,
      metrics: metrics.test_examples,
    };
  };
  assert.deepEqual(await testCounts({ test_limit: 3 }), { started: 3, scored: 3, done: 3, metrics: 3 });
  assert.deepEqual(await testCounts({}), { started: 7, scored: 7, done: 7, metrics: 7 }, 'absent: the whole test split');
});

test('docs/trainer-protocol.md lists every option the worker reads, with the default of the schema', () => {
  const document = readFileSync(path.join(repositoryRoot, 'docs', 'trainer-protocol.md'), 'utf8');
  const rows = new Map(
    [...document.matchAll(/^\| `([a-z_0-9]+)` \| [^|]+ \| ([^|]+) \|/gm)].map((match) => [match[1]!, match[2]!.trim()] as const),
  );
  assert.deepEqual([...rows.keys()].sort(), Object.keys(properties).sort(), 'one row per worker option, no other');
  for (const [name, property] of Object.entries(properties)) {
    const documented = 'default' in property ? `\`${JSON.stringify(property.default)}\`` : '—';
    assert.equal(rows.get(name), documented, `the documented default of ${name}`);
  }
});

test("without `threads` a student up to width 128 trains on one thread only where its threads sleep and its task passes run in turn; a wider one, or one whose passes run at once or whose threads spin, on torch's own count; the option wins", async (context) => {
  /** The thread count and policy the `started` event reports for one step of `student` with `options`, under `waitPolicy`. */
  const threadsOf = async (
    student: WorkerTrainRequest['student'],
    options: Record<string, unknown>,
    waitPolicy: 'PASSIVE' | 'ACTIVE',
    alpha = { start: 0.5, end: 0.5 },
  ) => {
    // The wait policy from the environment, which wins over `spinning: auto` (whose choice depends on the machine's load).
    const environment: NodeJS.ProcessEnv = { ...process.env, OMP_WAIT_POLICY: waitPolicy, GOMP_SPINCOUNT: '30000' };
    delete environment.OMP_NUM_THREADS;
    const request = { ...tinyRequest(context, { max_steps: 1, generation_max_tokens: 2, ...options }), student, alpha };
    const run = await runRequest(request, environment);
    assert.equal(run.error, null, String(run.error));
    const started = run.events.find((event) => event.type === 'started');
    assert.ok(started?.type === 'started');
    return { threads: started.threads, policy: started.thread_policy, passesAtOnce: started.parallel_task_passes };
  };
  const wide = { ...tinyScratchStudent, config: { ...tinyScratchStudent.config, d_model: 160, d_kv: 40 } };
  const torchDefault = await threadsOf(wide, { threads: undefined }, 'PASSIVE');
  assert.ok(torchDefault.threads >= 1);
  if (torchDefault.threads === 1) {
    context.diagnostic('torch counts one physical core here: every student trains on one thread, so only the option is checked');
    assert.equal(torchDefault.policy, 'torch default: one core');
  } else {
    assert.equal(torchDefault.policy, 'torch default: model width 160 > 128');
    const withoutRationales = { start: 1, end: 1 };
    // Both task passes at once: two threads or more, sleeping or not.
    assert.deepEqual(await threadsOf(tinyScratchStudent, { threads: undefined }, 'PASSIVE'), {
      threads: torchDefault.threads,
      policy: 'torch default: model width 16 <= 128, but its two task passes run at once',
      passesAtOnce: true,
    });
    // One pass at a time (no rationales): one thread where threads sleep, torch's count where they spin.
    assert.deepEqual(await threadsOf(tinyScratchStudent, { threads: undefined }, 'PASSIVE', withoutRationales), {
      threads: 1,
      policy: 'one thread: model width 16 <= 128, threads that sleep, one task pass at a time',
      passesAtOnce: false,
    });
    assert.deepEqual(await threadsOf(tinyScratchStudent, { threads: undefined }, 'ACTIVE', withoutRationales), {
      threads: torchDefault.threads,
      policy: 'torch default: model width 16 <= 128, but its threads spin',
      passesAtOnce: false,
    });
    // The passes turned off by their option count as one at a time.
    assert.equal((await threadsOf(tinyScratchStudent, { threads: undefined, parallel_task_passes: false }, 'PASSIVE')).threads, 1);
  }
  assert.deepEqual(await threadsOf(tinyScratchStudent, { threads: 2 }, 'PASSIVE'), {
    threads: 2,
    policy: 'option `threads`',
    passesAtOnce: true,
  });
});

test('`packing` with a causal-LM student is refused before training, not ignored', async (context) => {
  const request = { ...tinyRequest(context, { packing: true }), student: tinyCausalStudent };
  const { error } = await runRequest(request);
  assert.ok(error instanceof UserError, String(error));
  assert.match(error.message, /option `packing` packs the rows of T5 students only; remove it for this causal-lm student/);
});

/** The `started` event of one training step of `student` with `options`. */
async function startedEvent(context: TestContext, student: WorkerTrainRequest['student'], options: Record<string, unknown>) {
  const run = await runRequest({ ...tinyRequest(context, { max_steps: 1, generation_max_tokens: 2, ...options }), student });
  assert.equal(run.error, null, String(run.error));
  const started = run.events.find((event) => event.type === 'started');
  assert.ok(started?.type === 'started');
  return started;
}

test('unset, `packing` packs the rows of a T5 student and leaves a causal LM unpacked; `false` unpacks a T5', async (context) => {
  const packedRows = async (student: WorkerTrainRequest['student'], options: Record<string, unknown>) =>
    (await startedEvent(context, student, options)).packed_rows;
  assert.equal(await packedRows(tinyScratchStudent, {}), true);
  assert.equal(await packedRows(tinyScratchStudent, { packing: false }), false);
  assert.equal(await packedRows(tinyCausalStudent, {}), false);
});

test("`fused_kernels` (on by default) replaces a T5 student's GELU and dropout modules, attention and feed-forward forwards and makes its embedding gradients sparse; `false` and a causal LM keep them", async (context) => {
  const fusedKernels = async (student: WorkerTrainRequest['student'], options: Record<string, unknown>) =>
    (await startedEvent(context, student, options)).fused_kernels;
  // One GELU per feed-forward block: one in each encoder and decoder layer.
  const layers = tinyScratchStudent.config.num_layers + tinyScratchStudent.config.num_decoder_layers;
  const replaced = await fusedKernels(tinyScratchStudent, {});
  assert.ok(replaced !== null, 'a T5 student has its modules replaced by default');
  assert.equal(replaced.gelu, layers);
  assert.ok(replaced.dropout > layers, `every dropout module replaced (${replaced.dropout})`);
  // On a CPU: each encoder layer's self-attention, each decoder layer's self- and cross-attention.
  assert.equal(replaced.attention, tinyScratchStudent.config.num_layers + 2 * tinyScratchStudent.config.num_decoder_layers);
  assert.equal(replaced.feed_forward, layers);
  // One process on a CPU: the shared table and the encoder's and decoder's lookups over it.
  assert.equal(replaced.sparse_embeddings, 3);
  assert.equal(await fusedKernels(tinyScratchStudent, { fused_kernels: false }), null);
  assert.equal(await fusedKernels(tinyCausalStudent, {}), null);
});

test("`parallel_task_passes` (on by default) runs a T5 student's two task passes at once on two threads or more; the `started` event says when it does not and why", async (context) => {
  const taskPasses = async (student: WorkerTrainRequest['student'], options: Record<string, unknown>) => {
    const started = await startedEvent(context, student, options);
    return [started.parallel_task_passes, started.task_pass_policy];
  };
  assert.deepEqual(await taskPasses(tinyScratchStudent, { threads: 2 }), [true, 'on: 1 + 1 threads']);
  assert.deepEqual(await taskPasses(tinyScratchStudent, { threads: 1 }), [false, 'off: one thread']);
  assert.deepEqual(await taskPasses(tinyScratchStudent, { threads: 2, parallel_task_passes: false }), [
    false,
    'option `parallel_task_passes: false`',
  ]);
  assert.deepEqual(await taskPasses(tinyScratchStudent, { threads: 2, task_passes: 'joint' }), [
    false,
    'off: one joint pass (`task_passes: joint`)',
  ]);
  assert.deepEqual(await taskPasses(tinyScratchStudent, { threads: 2, gradient_accumulation: 2 }), [
    false,
    "off: gradient accumulation (the passes' sums would round in either order)",
  ]);
  const withoutFusedKernels = [false, "off: needs `fused_kernels` (a T5 student's dropout drawn per thread)"];
  assert.deepEqual(await taskPasses(tinyScratchStudent, { threads: 2, fused_kernels: false }), withoutFusedKernels);
  assert.deepEqual(await taskPasses(tinyCausalStudent, { threads: 2 }), withoutFusedKernels);
});
