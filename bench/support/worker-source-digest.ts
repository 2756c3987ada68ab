import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { workerMainScript } from '../../plugins/trainers/torch/worker-location.js';

/** A digest of the worker's Python sources: trainings carried over from an earlier run must come from the same code. */
export function workerSourceDigest(): string {
  const folder = path.dirname(workerMainScript);
  const hash = createHash('sha256');
  const files = [
    path.join(folder, 'main.py'),
    ...readdirSync(path.join(folder, 'distill_worker'))
      .filter((name) => name.endsWith('.py'))
      .sort()
      .map((name) => path.join(folder, 'distill_worker', name)),
  ];
  for (const file of files) hash.update(path.relative(folder, file)).update('\0').update(readFileSync(file)).update('\0');
  return hash.digest('hex').slice(0, 16);
}
