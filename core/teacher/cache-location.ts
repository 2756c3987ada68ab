import os from 'node:os';
import path from 'node:path';

/** File name of the teacher cache inside its folder. */
export const teacherCacheFileName = 'teacher-cache.sqlite';

/** Where the cache is, as a pipeline and environment say. */
export interface CacheLocationInput {
  /** The pipeline's `cache.path`, relative to `baseDirectory` when not absolute. */
  readonly configuredPath?: string;
  /** Folder of the pipeline file. */
  readonly baseDirectory?: string;
  readonly environment: Readonly<Record<string, string | undefined>>;
}

/**
 * The teacher cache file. One cache is shared by every pipeline of a user, so the same prompt sent
 * to the same model is paid for once across experiments. In order of precedence:
 *
 * 1. the pipeline's `cache.path` (relative to the pipeline file);
 * 2. `$DISTILL_CACHE_DIR/teacher-cache.sqlite`;
 * 3. `$XDG_CACHE_HOME/distill/teacher-cache.sqlite`;
 * 4. `~/.cache/distill/teacher-cache.sqlite`.
 */
export function resolveCachePath(input: CacheLocationInput): string {
  const { configuredPath, baseDirectory, environment } = input;
  if (configuredPath) return path.resolve(baseDirectory ?? process.cwd(), configuredPath);
  if (environment.DISTILL_CACHE_DIR) return path.resolve(environment.DISTILL_CACHE_DIR, teacherCacheFileName);
  if (environment.XDG_CACHE_HOME) return path.resolve(environment.XDG_CACHE_HOME, 'distill', teacherCacheFileName);
  return path.join(environment.HOME ?? os.homedir(), '.cache', 'distill', teacherCacheFileName);
}
