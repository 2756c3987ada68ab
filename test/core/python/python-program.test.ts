import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { UserError } from '../../../core/errors/user-error.js';
import type { ProgramDone, ProgramError, ProgramHello } from '../../../core/python/program-protocol.js';
import { defaultVirtualenvPython } from '../../../core/python/python-interpreter.js';
import { PythonProgramFailure } from '../../../core/python/python-program-failure.js';
import { runPythonProgram, type PythonProgramSettings } from '../../../core/python/python-program.js';
import { repositoryRoot, testPath } from '../../support/paths.js';

// The fixture speaks through the exporter's copy of line_protocol.py: the real Python side of the protocol.
const lineProtocolFolder = path.join(repositoryRoot, 'plugins', 'exporters', 'onnx', 'python');

/** The fixture's lines: the envelope and its `progress`. */
type FixtureEvent =
  ProgramHello | ProgramError | (ProgramDone & { readonly echoed: number }) | { readonly type: 'progress'; readonly message: string };

function fixtureSettings(mode: string, overrides: Partial<PythonProgramSettings<FixtureEvent>> = {}): PythonProgramSettings<FixtureEvent> {
  return {
    name: 'the fixture program',
    plugin: 'exporter/fixture',
    command: {
      executable: defaultVirtualenvPython,
      args: [testPath('core', 'python', 'fixtures', 'protocol-program.py'), lineProtocolFolder, mode],
      environment: process.env,
    },
    eventTypes: new Set(['progress']),
    fixes: { user: 'the default fix' },
    handshakeTimeoutMs: 20_000,
    cancelGraceMs: 5_000,
    ...overrides,
  };
}

/** Whether a process id still names a live process. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('a program that finishes: hello, the request it was sent, its events in order, then done', async () => {
  const events: string[] = [];
  const outcome = await runPythonProgram(
    fixtureSettings('done', {
      onHandshake: (program) => program.send({ type: 'work', value: 42 }),
      onEvent: (event) => events.push(event.type),
    }),
  );
  assert.equal(outcome.hello.protocol, 1);
  assert.equal(outcome.hello.program, 'protocol-fixture');
  assert.equal(outcome.done.echoed, 42, 'the request sent after the handshake reached the program');
  assert.deepEqual(events, ['hello', 'progress', 'done']);
});

test("a user's mistake is a UserError with the program's message and fix, naming the plugin", async () => {
  await assert.rejects(runPythonProgram(fixtureSettings('user-mistake')), (error: unknown) => {
    assert.ok(error instanceof UserError, String(error));
    assert.equal(error.message, 'exporter: checkpoint folder /nowhere lacks config.json');
    assert.equal(error.problems[0]!.plugin, 'exporter/fixture');
    assert.equal(error.problems[0]!.fix, 'pass the folder the trainer wrote');
    return true;
  });
});

test('a bug is a failure with the Python traceback and the stderr tail', async () => {
  await assert.rejects(runPythonProgram(fixtureSettings('bug')), (error: unknown) => {
    assert.ok(error instanceof PythonProgramFailure, String(error));
    assert.match(error.message, /^the fixture program failed: ZeroDivisionError: integer division or modulo by zero\nTraceback/);
    assert.match(error.traceback ?? '', /return 1 \/\/ 0/);
    assert.equal(error.stderrTail, 'loading the libraries\nabout to divide');
    return true;
  });
});

test('a crash without a last line names the exit status and quotes the stderr tail', async () => {
  await assert.rejects(runPythonProgram(fixtureSettings('crash')), (error: unknown) => {
    assert.ok(error instanceof PythonProgramFailure, String(error));
    assert.equal(
      error.message,
      'the fixture program exited with code 3 before finishing; last lines of its stderr:\n' +
        'loading the libraries\nnative library: illegal memory access in kernel 7',
    );
    return true;
  });
});

test('a line that is not protocol JSON fails the run at once and kills the program', async () => {
  const started = Date.now();
  let pid = 0;
  await assert.rejects(
    runPythonProgram(fixtureSettings('bad-line', { onEvent: (event) => (pid = event.type === 'hello' ? event.pid : pid) })),
    /the fixture program wrote a line that is not protocol JSON: "Loading checkpoint shards: 100%"/,
  );
  assert.ok(Date.now() - started < 30_000, 'the program (which sleeps 60 s) was killed rather than waited for');
  assert.ok(pid > 0 && !alive(pid), 'the program is gone');
});

test('an event of a type the program does not declare fails the run', async () => {
  await assert.rejects(
    runPythonProgram(fixtureSettings('unknown-type')),
    /the fixture program wrote an unknown message: \{"type":"mystery"/,
  );
});

test('cancel: SIGTERM by default, SIGKILL after the grace period, and the signal reason is the rejection', async () => {
  for (const mode of ['wait', 'ignore-term']) {
    const controller = new AbortController();
    let pid = 0;
    const started = Date.now();
    const run = runPythonProgram(
      fixtureSettings(mode, {
        signal: controller.signal,
        cancelGraceMs: 1_000,
        onEvent: (event) => {
          if (event.type === 'hello') pid = event.pid;
          if (event.type === 'progress') controller.abort(new Error(`stopped by the test (${mode})`));
        },
      }),
    );
    await assert.rejects(run, new RegExp(`stopped by the test \\(${mode}\\)`));
    assert.ok(pid > 0 && !alive(pid), `the ${mode} program is gone`);
    assert.ok(Date.now() - started < 30_000, `the ${mode} program did not sleep its 60 s out`);
  }
});

test('a signal aborted before the start: the cancel hook runs at once and no request follows', async () => {
  const controller = new AbortController();
  controller.abort(new Error('cancelled before the start'));
  const sent: string[] = [];
  await assert.rejects(
    runPythonProgram(
      fixtureSettings('done', {
        signal: controller.signal,
        onHandshake: () => sent.push('request'),
        cancel: (program) => {
          sent.push(program.hello ? 'cancel line' : 'SIGTERM');
          program.signal('SIGTERM');
        },
      }),
    ),
    /cancelled before the start/,
  );
  assert.deepEqual(sent, ['SIGTERM'], 'an aborted signal cancels at once, and no request follows a late handshake');
});
