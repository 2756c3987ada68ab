import assert from 'node:assert/strict';
import test from 'node:test';
import type { Teacher } from '../../../core/plugins/kinds/teacher.js';
import { startTimer, systemClock, type Clock } from '../../../core/services/clock.js';
import { LocalEventStream } from '../../../core/services/event-stream.js';
import { defaultHttpSettings } from '../../../core/services/http-settings.js';
import { RequestEngine } from '../../../core/teacher/request-engine.js';

const wait = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds));

/** A clock with only `now` and `sleep`, as a library user may write one. */
const sleepOnlyClock: Clock = {
  now: () => systemClock.now(),
  sleep: (milliseconds, signal) => systemClock.sleep(milliseconds, signal),
};

for (const [name, clock] of [
  ['the system clock (its own timers)', systemClock],
  ['a clock without `after` (a cancellable sleep)', sleepOnlyClock],
] as const) {
  test(`timers of ${name} fire once after their time, and never once cancelled`, async () => {
    const fired: string[] = [];
    startTimer(clock, 10, () => fired.push('kept'));
    const cancel = startTimer(clock, 10, () => fired.push('cancelled'));
    cancel();
    await wait(60);
    assert.deepEqual(fired, ['kept']);
    // Cancelling after it fired changes nothing.
    cancel();
  });
}

test('on the system clock, a teacher that never answers and ignores its signal is timed out, and the engine frees its slot', async () => {
  const signals: AbortSignal[] = [];
  const silent: Teacher = {
    provider: 'test',
    model: 'silent',
    requestOptions: {},
    cacheable: true,
    complete: (_request, signal) => {
      signals.push(signal);
      return new Promise(() => undefined);
    },
  };
  const engine = new RequestEngine({
    teacher: silent,
    pluginId: 'silent',
    pluginVersion: '1.0.0',
    cache: null,
    clock: systemClock,
    httpSettings: { ...defaultHttpSettings, timeoutMilliseconds: 40 },
    limits: { concurrency: 1, maxRetries: 1 },
    tokenCounter: null,
    events: new LocalEventStream(),
    random: () => 0,
  });
  const started = Date.now();
  const outcomes = await Promise.all(
    ['a', 'b'].map((prompt) =>
      engine.request({ exampleId: prompt, split: 'train', messages: [{ role: 'user', content: prompt }] }, new AbortController().signal),
    ),
  );
  for (const outcome of outcomes) {
    assert.ok(outcome.status === 'failed', JSON.stringify(outcome));
    assert.match(outcome.reason, /^no answer within 0\.04 s \(timeout\) \(gave up after 2 attempts\)$/);
  }
  // One slot: the second request got it only because the first one's attempts were timed out.
  assert.equal(signals.length, 4);
  assert.ok(signals.every((signal) => signal.aborted));
  assert.ok(Date.now() - started < 5000);
});
