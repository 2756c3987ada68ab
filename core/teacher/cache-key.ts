import { canonicalHash } from '../canonical-json.js';
import type { TeacherMessage } from '../plugins/kinds/teacher.js';

/** What identifies one answer in the teacher cache. */
export interface CacheKeyParts {
  readonly pluginId: string;
  readonly pluginVersion: string;
  readonly model: string;
  readonly messages: readonly TeacherMessage[];
  /** The teacher's `requestOptions`: everything that changes the answer, never secrets. */
  readonly requestOptions: Readonly<Record<string, unknown>>;
  /** Which of an example's answers (`TeacherRequest.sampleIndex`); absent or 0 for the first. */
  readonly sampleIndex?: number;
}

/**
 * The cache key: SHA-256 of the canonical JSON of plugin id, version, model, messages (role and
 * content only) and request options. The example id and split are left out on purpose: the same
 * prompt asked for two examples (duplicates in a dataset, a second pipeline) is one answer, paid once.
 *
 * The sample index is in the key from 1 on only: the first answer keeps the key it had before
 * `teacher.samples` existed, so existing caches stay valid and raising the number of samples from 1
 * reuses the answer already paid for; every further index is an answer of its own.
 */
export function teacherCacheKey(parts: CacheKeyParts): string {
  return canonicalHash({
    teacher: { id: parts.pluginId, version: parts.pluginVersion },
    model: parts.model,
    messages: parts.messages.map((message) => ({ role: message.role, content: message.content })),
    options: parts.requestOptions,
    ...(parts.sampleIndex !== undefined && parts.sampleIndex > 0 ? { sample: parts.sampleIndex } : {}),
  });
}
