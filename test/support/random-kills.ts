import { spawnDistill } from './run-distill.js';

/**
 * `--set` flags that put a fixture teach pipeline into batch mode with quick polling and small
 * batches, so that submission, polling and collection each take several steps to kill in.
 */
export function batchModeSettings(requestsPerBatch: number): string[] {
  return [
    'teacher.mode=batch',
    'teacher.batch.poll_seconds=0.05',
    'teacher.batch.max_poll_seconds=0.2',
    `teacher.batch.max_requests_per_batch=${requestsPerBatch}`,
  ].flatMap((setting) => ['--set', setting]);
}

/** A moment to kill a run in, as the provider's server sees it: a count of calls of one kind. */
export interface KillPoint {
  /** What the run is doing then, for messages (`submit`, `poll`, `collect`, `answers`). */
  readonly phase: string;
  /** Calls of the phase's kind the server has seen so far. */
  readonly calls: () => number;
  /** How many more calls to let through before the kill: a random whole number in this range (default 1 to 3). */
  readonly between?: readonly [number, number];
}

/** What one kill met: the phase, the calls of that phase it let through, and whether the run had already ended. */
export interface KillMoment {
  readonly phase: KillPoint['phase'];
  readonly callsBeforeKill: number;
  /** The exit code when the run ended before the kill came (the kill then tested nothing), else null. */
  readonly exitedWith: number | null;
  readonly stderrTail: string;
  /** `Date.now()` once the killed process was gone. */
  readonly killedAt: number;
}

/**
 * Runs `distill <args>` once per kill point, killing it with SIGKILL once the server has seen a random
 * number (in the point's `between`) of more calls of that point's kind, plus a random instant up to
 * `jitterMilliseconds`; returns what each kill met. A run that ends before its kill is reported in `exitedWith`.
 */
export async function killAtRandomPoints(
  args: readonly string[],
  points: readonly KillPoint[],
  jitterMilliseconds = 20,
): Promise<KillMoment[]> {
  const moments: KillMoment[] = [];
  for (const point of points) {
    const before = point.calls();
    const [least, most] = point.between ?? [1, 3];
    const threshold = before + least + Math.floor(Math.random() * (most - least + 1));
    const child = spawnDistill(args);
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    const deadline = Date.now() + 120_000;
    while (point.calls() < threshold && child.exitCode === null && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 2));
    await new Promise((resolve) => setTimeout(resolve, Math.random() * jitterMilliseconds));
    const exitedWith = child.exitCode;
    const callsBeforeKill = point.calls() - before;
    child.kill('SIGKILL');
    await exited;
    moments.push({ phase: point.phase, callsBeforeKill, exitedWith, stderrTail: stderr.slice(-600), killedAt: Date.now() });
  }
  return moments;
}

/** One line per kill, for assertion messages and logs. */
export function describeKills(moments: readonly KillMoment[]): string {
  return moments
    .map(
      (moment) =>
        `${moment.phase}: killed after ${moment.callsBeforeKill} calls${moment.exitedWith === null ? '' : ` (it had exited with ${moment.exitedWith}: ${moment.stderrTail})`}`,
    )
    .join('; ');
}
