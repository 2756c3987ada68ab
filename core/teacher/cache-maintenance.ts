import { existsSync } from 'node:fs';
import { resolveCachePath } from './cache-location.js';
import { TeacherCache, type CacheClearFilter, type CacheStatistics } from './teacher-cache.js';

/** Which cache a maintenance command works on. */
export interface CacheSelection {
  /** An explicit file (`--path`); otherwise the default location from the environment. */
  readonly path?: string;
  readonly environment: Readonly<Record<string, string | undefined>>;
}

function cacheFile(selection: CacheSelection): string {
  return resolveCachePath({ configuredPath: selection.path, environment: selection.environment });
}

/** `distill cache stats`: entries, size and a breakdown by provider and model; a missing file is an empty cache. */
export function cacheStatistics(selection: CacheSelection): CacheStatistics {
  const file = cacheFile(selection);
  if (!existsSync(file)) return { file, exists: false, entries: 0, sizeBytes: 0, oldest: null, newest: null, byModel: [] };
  const cache = TeacherCache.open(file);
  try {
    return cache.statistics();
  } finally {
    cache.close();
  }
}

/** What `distill cache clear` did. */
export interface CacheClearResult {
  readonly file: string;
  readonly removed: number;
  readonly remaining: number;
}

/** `distill cache clear`: removes answers (all, or older than some days, or of one model). */
export function clearCache(selection: CacheSelection, filter: CacheClearFilter, now: number = Date.now()): CacheClearResult {
  const file = cacheFile(selection);
  if (!existsSync(file)) return { file, removed: 0, remaining: 0 };
  const cache = TeacherCache.open(file);
  try {
    const removed = cache.clear(filter, now);
    return { file, removed, remaining: cache.statistics().entries };
  } finally {
    cache.close();
  }
}
