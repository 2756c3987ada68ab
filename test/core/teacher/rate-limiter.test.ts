import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Clock } from '../../../core/services/clock.js';
import { RateLimiter } from '../../../core/teacher/rate-limiter.js';

/** A clock that moves only when someone sleeps on it: every wait the limiter asks for is recorded. */
function steppingClock(): Clock & { time: number; readonly slept: number[] } {
  const clock = {
    time: 0,
    slept: [] as number[],
    now: () => clock.time,
    sleep: (milliseconds: number) => {
      clock.slept.push(milliseconds);
      clock.time += milliseconds;
      return Promise.resolve();
    },
  };
  return clock;
}

test('requests per minute stay exact over many minutes of requests leaving the window', async () => {
  const clock = steppingClock();
  const limiter = new RateLimiter({ requestsPerMinute: 600 }, clock);
  // Ten requests a second for five minutes: the window always holds the last 599 and admits the 600th.
  for (let index = 0; index < 3000; index++) {
    clock.time = index * 100;
    await limiter.acquire(0);
  }
  assert.deepEqual(clock.slept, []);
  // A second request at the same instant finds 600 in the window; the oldest leaves 100 ms later.
  await limiter.acquire(0);
  assert.deepEqual(clock.slept, [100]);
});

test('tokens per minute: the window total follows corrections, and a correction after an entry left changes nothing', async () => {
  const clock = steppingClock();
  const limiter = new RateLimiter({ tokensPerMinute: 1000 }, clock);
  const early = await limiter.acquire(500);
  clock.time = 61_000;
  // The early entry leaves the window here; its usage comes in only afterwards.
  const later = await limiter.acquire(100);
  early.correct(900);
  later.correct(150);
  // 150 in the window: 850 more fit now.
  await limiter.acquire(850);
  assert.deepEqual(clock.slept, []);
  // 1,000 in the window: the next waits until the entry of 61 s leaves, at 121 s.
  await limiter.acquire(1);
  assert.deepEqual(clock.slept, [60_000]);
});

test('a bound is recorded as such until it would make a request wait; then exact counts decide', async () => {
  const clock = steppingClock();
  const limiter = new RateLimiter({ tokensPerMinute: 1000 }, clock);
  const asked: string[] = [];
  const estimate = (name: string, bound: number, exact: number) => ({
    bound,
    exact: () => {
      asked.push(name);
      return exact;
    },
  });
  // Far from the limit: the bounds are recorded and nothing is counted.
  await limiter.acquire(estimate('a', 300, 100));
  await limiter.acquire(estimate('b', 300, 100));
  assert.deepEqual(asked, []);
  // 600 bounded + 600 would pass the limit, but exactly it is 200 + 500: no wait.
  await limiter.acquire(estimate('c', 600, 500));
  assert.deepEqual(asked.sort(), ['a', 'b', 'c']);
  assert.deepEqual(clock.slept, []);
  // 700 exact in the window: 400 more would not fit, exactly as without bounds.
  await limiter.acquire(estimate('d', 400, 400));
  assert.deepEqual(clock.slept, [60_000]);
});
