import type { Disposable } from 'tsyringe';
import { TeacherCache } from './teacher-cache.js';

/**
 * The teacher caches a run has open, one connection per file: a run service, so that disposing the
 * run's container closes them on success, failure and Ctrl+C alike, and no code path has to
 * remember to.
 */
export class TeacherCaches implements Disposable {
  private readonly caches = new Map<string, TeacherCache>();

  /** The cache at `file`, opened (and created when missing) on first use in this run. */
  open(file: string): TeacherCache {
    let cache = this.caches.get(file);
    if (!cache) {
      cache = TeacherCache.open(file);
      this.caches.set(file, cache);
    }
    return cache;
  }

  /** Closes every cache this run opened, committing what is pending. */
  dispose(): void {
    for (const cache of this.caches.values()) cache.close();
    this.caches.clear();
  }
}
