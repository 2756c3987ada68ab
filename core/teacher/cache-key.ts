import { canonicalJson, sha256Hex } from '../canonical-json.js';
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
  return teacherCacheKeys(parts)(parts.messages, parts.sampleIndex);
}

/** What {@link teacherCacheKeys} keys a teacher's requests by, beside the request's own parts. */
export type TeacherKeyParts = Omit<CacheKeyParts, 'messages' | 'sampleIndex'>;

/**
 * The cache key of each request to one teacher: {@link teacherCacheKey}, with the canonical JSON of
 * what every request shares (plugin, version, model, options) written once instead of per request,
 * since the request engine keys every request on its path. The text hashed is exactly the canonical
 * JSON of the object {@link teacherCacheKey} describes, its keys in their sorted order (`messages`,
 * `model`, `options`, `sample`, `teacher`), so the keys are those of every cache made before.
 */
export function teacherCacheKeys(parts: TeacherKeyParts): (messages: readonly TeacherMessage[], sampleIndex?: number) => string {
  const shared = `,"model":${canonicalJson(parts.model)},"options":${canonicalJson(parts.requestOptions)}`;
  const end = `,"teacher":${canonicalJson({ id: parts.pluginId, version: parts.pluginVersion })}}`;
  return (messages, sampleIndex) => {
    const sample = sampleIndex !== undefined && sampleIndex > 0 ? `,"sample":${canonicalJson(sampleIndex)}` : '';
    return sha256Hex(`{"messages":${canonicalJson(messages.map(messageParts))}${shared}${sample}${end}`);
  };
}

/** The parts of a message in the key: role and content only. */
function messageParts(message: TeacherMessage): TeacherMessage {
  return { role: message.role, content: message.content };
}
