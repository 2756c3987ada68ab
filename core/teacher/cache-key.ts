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
}

/**
 * The cache key: SHA-256 of the canonical JSON of plugin id, version, model, messages (role and
 * content only) and request options. The example id and split are left out on purpose: the same
 * prompt asked for two examples (duplicates in a dataset, a second pipeline) is one answer, paid once.
 */
export function teacherCacheKey(parts: CacheKeyParts): string {
  return canonicalHash({
    teacher: { id: parts.pluginId, version: parts.pluginVersion },
    model: parts.model,
    messages: parts.messages.map((message) => ({ role: message.role, content: message.content })),
    options: parts.requestOptions,
  });
}
