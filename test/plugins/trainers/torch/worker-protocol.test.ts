import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { pluginOptionsValidator } from '../../../../core/config/plugin-options-validator.js';
import { UserError } from '../../../../core/errors/user-error.js';
import type { TrainingExample } from '../../../../core/plugins/kinds/trainer.js';
import { defaultVirtualenvPython } from '../../../../core/python/python-interpreter.js';
import { PythonProgramFailure } from '../../../../core/python/python-program-failure.js';
import { LocalEventStream, type DistillEvent } from '../../../../core/services/event-stream.js';
import { workerCommand } from '../../../../plugins/trainers/torch/torch-trainer-client.js';
import { workerOptionsSchema, type TorchTrainerOptions } from '../../../../plugins/trainers/torch/torch-trainer-options.js';
import { torchTrainer } from '../../../../plugins/trainers/torch/torch-trainer.js';
import { workerMainScript } from '../../../../plugins/trainers/torch/worker-location.js';
import { runWorker, type WorkerCommand } from '../../../../plugins/trainers/torch/worker-process.js';
import type { WorkerEvent, WorkerTrainRequest } from '../../../../plugins/trainers/torch/worker-protocol.js';
import { testPath } from '../../../support/paths.js';
import { testDependencies } from '../../../support/test-dependencies.js';
import { tinyScratchStudent } from './trainer-runs.js';

const python = defaultVirtualenvPython;

function fixtureCommand(script: string): WorkerCommand {
  return {
    executable: python,
    args: [testPath('plugins', 'trainers', 'torch', 'fixtures', script)],
    environment: process.env,
    requestChannel: 'stdin',
  };
}

const unusedRequest = {
  output_directory: tmpdir(),
  data: { train: '/nonexistent' },
  student: {},
  alpha: { start: 0.5, end: 0.5 },
  metric: 'exact-match',
  seed: 1,
  resume: false,
  options: {},
  options_schema: workerOptionsSchema,
} satisfies WorkerTrainRequest;

function runFixture(script: string, handshakeTimeoutMs = 20_000, events: WorkerEvent[] = []) {
  return runWorker({
    command: fixtureCommand(script),
    request: unusedRequest,
    onEvent: (event) => events.push(event),
    handshakeTimeoutMs,
    cancelGraceMs: 5_000,
  });
}

const examples: TrainingExample[] = [
  { id: 'a', input: 'A man sleeps. </s> A man is awake.', label: 'contradiction', rationale: 'One cannot sleep and be awake.' },
  { id: 'b', input: 'A dog runs. </s> An animal moves.', label: 'entailment', rationale: 'A dog is an animal.' },
];

test('a worker speaking another protocol version is refused with a clear error', async () => {
  await assert.rejects(runFixture('old-protocol-worker.py'), (error: unknown) => {
    assert.ok(error instanceof UserError);
    assert.match(error.message, /the trainer worker speaks protocol 0, this distill speaks protocol 1/);
    assert.match(error.problems[0]!.fix ?? '', /npm run setup:python/);
    return true;
  });
});

test('the real worker refuses a train request of another protocol version', async () => {
  const child = spawn(python, [workerMainScript], { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: Record<string, unknown>[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => lines.push(JSON.parse(line) as Record<string, unknown>));
  child.stdin.write(JSON.stringify({ type: 'train', protocol: 2, request: unusedRequest }) + '\n');
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 2);
  assert.equal(lines[0]!.type, 'hello');
  assert.equal(lines[0]!.protocol, 1);
  assert.equal(lines[1]!.type, 'error');
  assert.equal(lines[1]!.kind, 'user');
  assert.match(String(lines[1]!.message), /protocol mismatch: the request speaks protocol 2, this worker speaks 1/);
});

test('a worker that crashes mid-training becomes an error naming the signal and its stderr, not a hang', async () => {
  const events: WorkerEvent[] = [];
  await assert.rejects(runFixture('crashing-worker.py', 20_000, events), (error: unknown) => {
    assert.ok(error instanceof PythonProgramFailure);
    assert.match(error.message, /the trainer worker was killed by SIGSEGV before finishing/);
    assert.match(error.message, /native library: illegal memory access in kernel 7/);
    return true;
  });
  assert.deepEqual(
    events.map((event) => event.type),
    ['hello', 'progress'],
    'events before the crash were delivered',
  );
});

test('a line on stdout that is not protocol JSON fails the run at once', async () => {
  const started = Date.now();
  await assert.rejects(
    runFixture('chatty-worker.py'),
    /the trainer worker wrote a line that is not protocol JSON: "Loading checkpoint shards: 100%"/,
  );
  assert.ok(Date.now() - started < 30_000, 'the worker (which sleeps 60 s) was killed rather than waited for');
});

test('a worker that never says hello times out with a clear error', async () => {
  await assert.rejects(runFixture('silent-worker.py', 1_500), /the trainer worker did not send its handshake within 2 s/);
});

test('handshake and a bad option: the real worker reports its versions, then refuses the option by name', async () => {
  const events = new LocalEventStream();
  const seen: DistillEvent[] = [];
  events.subscribe((event) => seen.push(event));
  const trainer = await torchTrainer.create({ schedule: 'exponential' as never }, testDependencies({ events, environment: process.env }));
  const output = await mkdtemp(path.join(tmpdir(), 'distill-bad-option-'));
  await assert.rejects(
    trainer.train(
      {
        outputDirectory: output,
        train: examples,
        validation: [],
        test: [],
        student: { size: 'tiny', max_input_length: 32, max_target_length: 16 },
        alpha: { start: 0.5, end: 0.5 },
        metric: 'exact-match',
        seed: 1,
        resume: false,
      },
      events,
      new AbortController().signal,
    ),
    (error: unknown) => {
      assert.ok(error instanceof UserError, String(error));
      assert.match(error.message, /option `schedule` must be one of linear, cosine, constant, got 'exponential'/);
      return true;
    },
  );
  const handshake = seen.find((event) => event.type === 'train.handshake')!;
  assert.equal(handshake.protocol, 1);
  const versions = handshake.versions as Record<string, string>;
  assert.match(versions.torch!, /^2\.13\.0/);
  assert.equal(versions.transformers, '5.23.0');
  const capabilities = handshake.capabilities as Record<string, unknown>;
  assert.equal(typeof capabilities.cuda_available, 'boolean');
  assert.equal(typeof capabilities.threads, 'number');
  assert.equal(typeof capabilities.bf16_supported, 'boolean');
  assert.equal(typeof capabilities.cpu_bf16_supported, 'boolean');
});

test('the options schema rejects bad options before any worker starts', () => {
  const validate = pluginOptionsValidator(torchTrainer);
  assert.equal(typeof validate, 'function');
  if (typeof validate !== 'function') return;
  assert.equal(validate.call({ baseDirectory: process.cwd() }, { batch_size: 0 }), false);
  assert.equal(validate.call({ baseDirectory: process.cwd() }, { batchsize: 16 }), false);
  assert.equal(validate.call({ baseDirectory: process.cwd() }, { schedule: 'exponential' }), false);
  assert.equal(validate.call({ baseDirectory: process.cwd() }, { batch_size: 8, schedule: 'cosine', bf16: 'auto', devices: 2 }), true);
});

test('a missing or broken Python environment names the setup command', async () => {
  await assert.rejects(
    async () => torchTrainer.create({ python: '/nonexistent/bin/python' }, testDependencies({ environment: process.env })),
    (error: unknown) => error instanceof UserError && /npm run setup:python/.test(error.problems[0]!.fix ?? ''),
  );
  // A Python without torch: the worker dies on import, before its handshake.
  const trainer = await torchTrainer.create({ python: '/usr/bin/python3' }, testDependencies({ environment: { PATH: process.env.PATH } }));
  const output = await mkdtemp(path.join(tmpdir(), 'distill-broken-env-'));
  await assert.rejects(
    trainer.train(
      {
        outputDirectory: output,
        train: examples,
        validation: [],
        test: [],
        student: { size: 'tiny', max_input_length: 32, max_target_length: 16 },
        alpha: { start: 1, end: 1 },
        metric: 'exact-match',
        seed: 1,
        resume: false,
      },
      new LocalEventStream(),
      new AbortController().signal,
    ),
    (error: unknown) => {
      assert.ok(error instanceof UserError, String(error));
      assert.match(error.message, /cannot import torch, transformers and tokenizers/);
      assert.match(error.problems[0]!.fix ?? '', /npm run setup:python/);
      return true;
    },
  );
});

test('SIGTERM to a worker run as a plain program: it checkpoints, says done (cancelled) and exits 0', { timeout: 120_000 }, async () => {
  const output = await mkdtemp(path.join(tmpdir(), 'distill-sigterm-'));
  const { writeFile } = await import('node:fs/promises');
  const train = path.join(output, 'train.jsonl');
  await writeFile(train, examples.map((example) => JSON.stringify(example)).join('\n') + '\n');
  const requestFile = path.join(output, 'request.json');
  const request = {
    ...unusedRequest,
    output_directory: output,
    data: { train },
    student: tinyScratchStudent,
    options: { batch_size: 2, max_steps: 100_000, checkpoint_every: 100_000, threads: 1 },
  };
  await writeFile(requestFile, JSON.stringify({ type: 'train', protocol: 1, request }));
  const child = spawn(python, [workerMainScript, '--request', requestFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Record<string, unknown>[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    const event = JSON.parse(line) as Record<string, unknown>;
    lines.push(event);
    if (event.type === 'progress' && event.step === 3) child.kill('SIGTERM');
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 0);
  const checkpoint = lines.find((line) => line.type === 'checkpoint')!;
  assert.equal(checkpoint.reason, 'cancel');
  assert.ok((checkpoint.step as number) >= 3);
  assert.deepEqual(lines.at(-1), { ...lines.at(-1), type: 'done', status: 'cancelled', steps: checkpoint.step });
  const position = JSON.parse(await readFile(path.join(output, 'checkpoints', 'last', 'position.json'), 'utf8')) as { step: number };
  assert.equal(position.step, checkpoint.step);
});

test('the trainer passes `spinning` to the worker in its environment (auto by default) and leaves OpenMP to the worker and the user', () => {
  const environmentOf = (options: TorchTrainerOptions, environment: Record<string, string>) =>
    workerCommand('/usr/bin/python3', options, '/tmp/request.json', environment).environment;
  assert.equal(environmentOf({}, {}).DISTILL_WORKER_SPINNING, 'auto');
  assert.equal(environmentOf({ spinning: true }, {}).DISTILL_WORKER_SPINNING, 'true');
  assert.equal(environmentOf({ spinning: false, devices: 2 }, {}).DISTILL_WORKER_SPINNING, 'false', 'torchrun ranks get it too');
  assert.equal(environmentOf({ spinning: true }, {}).OMP_WAIT_POLICY, undefined);
  assert.equal(environmentOf({ spinning: true }, { OMP_WAIT_POLICY: 'PASSIVE' }).OMP_WAIT_POLICY, 'PASSIVE');
});

test("the worker's OpenMP wait policy: the environment wins, then the option; auto spins, bounded, only on idle cores", () => {
  // The worker's own function, run by the worker's Python with the machine's load given.
  const cases = [
    { option: 'auto', environment: {}, threads: 2, cores: 2, busy: 0.1 },
    { option: 'auto', environment: {}, threads: 2, cores: 2, busy: 1.0 },
    { option: 'auto', environment: {}, threads: 2, cores: 8, busy: 5.0 },
    { option: 'auto', environment: {}, threads: 2, cores: 8, busy: 6.6 },
    { option: 'auto', environment: { GOMP_SPINCOUNT: '500' }, threads: 2, cores: 2, busy: 0 },
    { option: 'auto', environment: {}, threads: 1, cores: 2, busy: null },
    { option: 'auto', environment: {}, threads: 2, cores: 2, busy: null },
    { option: true, environment: {}, threads: 2, cores: 2, busy: 2.0 },
    { option: false, environment: {}, threads: 2, cores: 2, busy: 0 },
    { option: true, environment: { OMP_WAIT_POLICY: 'passive' }, threads: 2, cores: 2, busy: 0 },
  ];
  const script = [
    'import json, sys',
    'from distill_worker import wait_policy',
    'for case in json.loads(sys.argv[1]):',
    '    print(json.dumps(wait_policy.choose(case["option"], case["environment"], case["threads"], case["cores"], lambda: case["busy"])))',
  ].join('\n');
  const run = spawnSync(python, ['-c', script, JSON.stringify(cases)], { cwd: path.dirname(workerMainScript), encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const chosen = run.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as [string, string, Record<string, string>]);
  assert.deepEqual(chosen, [
    ['ACTIVE', 'auto: 0.10 of 2 cores busy at start, so idle threads spin (30000 rounds)', { GOMP_SPINCOUNT: '30000' }],
    ['PASSIVE', 'auto: 1.00 of 2 cores busy at start, so idle threads sleep rather than compete', {}],
    ['ACTIVE', 'auto: 5.00 of 8 cores busy at start, so idle threads spin (30000 rounds)', { GOMP_SPINCOUNT: '30000' }],
    ['PASSIVE', 'auto: 6.60 of 8 cores busy at start, so idle threads sleep rather than compete', {}],
    ['ACTIVE', 'auto: 0.00 of 2 cores busy at start, so idle threads spin (500 rounds)', { GOMP_SPINCOUNT: '500' }],
    ['PASSIVE', 'auto: one thread, nothing to wake', {}],
    ['PASSIVE', "auto: the machine's CPU load is unknown", {}],
    ['ACTIVE', 'option `spinning: true`', {}],
    ['PASSIVE', 'option `spinning: false`', {}],
    ['PASSIVE', '$OMP_WAIT_POLICY', {}],
  ]);
});

test("auto measures the machine's load from /proc/stat over a short wait", () => {
  const script = [
    'from distill_worker import wait_policy',
    'readings = iter([(100, 1000), (250, 1200)])',
    'print(wait_policy.busy_cores(4, read=lambda: next(readings), sleep=lambda seconds: None))',
    'print(wait_policy.busy_cores(4, read=lambda: None, sleep=lambda seconds: None))',
    'busy, total = wait_policy.read_cpu_times()',
    'print(0 <= busy <= total)',
  ].join('\n');
  const run = spawnSync(python, ['-c', script], { cwd: path.dirname(workerMainScript), encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  // 150 of 200 jiffies busy across 4 cores: 3 cores.
  assert.deepEqual(run.stdout.trim().split('\n'), ['3.0', 'None', 'True']);
});
