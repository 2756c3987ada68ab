import { existsSync, renameSync } from 'node:fs';
import { appendFileNoFollow, readTextFileNoFollow } from '../files/no-follow-files.js';
import { parseLineOrNull } from '../parsing/json-lines.js';
import type { TeacherResponse, TokenLogprob } from '../plugins/kinds/teacher.js';
import type { CacheEntryOrigin, TeacherCache } from './teacher-cache.js';

/** One answer the cache could not take, as a line of the spill file. */
export interface SpilledAnswer {
  readonly key: string;
  readonly origin: CacheEntryOrigin;
  readonly response: TeacherResponse;
  readonly createdAt: number;
}

/** Name of the spill file in a teacher stage folder. */
export const cacheSpillFile = 'cache-spill.jsonl';

/**
 * Paid answers that could not be committed to the teacher cache (a full disk, a read-only file),
 * appended one JSON line each to a file in the teacher stage folder, so that no paid answer is lost
 * when the cache cannot be written. The next run of the stage imports them into the cache before it
 * asks anything ({@link importSpilledAnswers}).
 */
export function spillAnswer(file: string, answer: SpilledAnswer): void {
  appendFileNoFollow(file, JSON.stringify(answer) + '\n');
}

/** What {@link importSpilledAnswers} did. */
export interface SpillImport {
  readonly imported: number;
  /** Lines that were not an answer (torn by a kill in mid-write): nothing was paid for them that survived. */
  readonly unreadable: number;
}

/** A value read back from a file: any part of it may be missing. */
type Unverified<Value> = { readonly [Key in keyof Value]?: Value[Key] extends object ? Unverified<Value[Key]> | null : Value[Key] };

function isSpilledAnswer(value: unknown): value is SpilledAnswer {
  const answer = value as Unverified<SpilledAnswer> | null;
  return (
    typeof answer === 'object' &&
    answer !== null &&
    typeof answer.key === 'string' &&
    typeof answer.createdAt === 'number' &&
    typeof answer.origin?.pluginId === 'string' &&
    typeof answer.origin.pluginVersion === 'string' &&
    typeof answer.origin.provider === 'string' &&
    typeof answer.origin.model === 'string' &&
    typeof answer.response?.text === 'string' &&
    answer.response.text.trim() !== '' &&
    typeof answer.response.model === 'string' &&
    typeof answer.response.usage?.promptTokens === 'number' &&
    typeof answer.response.usage.completionTokens === 'number' &&
    (answer.response.tokenLogprobs === undefined || isTokenLogprobList(answer.response.tokenLogprobs))
  );
}

function isTokenLogprobList(value: unknown): boolean {
  return (
    Array.isArray(value) &&
    value.every((token: Unverified<TokenLogprob> | null) => typeof token?.token === 'string' && typeof token.logprob === 'number')
  );
}

/**
 * Commits the answers of a spill file to the cache (an answer already there is kept as it is), then renames the file to
 * `<file>.imported` (kept, not deleted: it is the only other copy of paid answers until the cache's
 * own file is backed up). A cache that still cannot be written throws, leaving the spill file as it
 * was for the next try. Returns null when there is no spill file.
 */
export function importSpilledAnswers(file: string, cache: TeacherCache): SpillImport | null {
  if (!existsSync(file)) return null;
  const answers: SpilledAnswer[] = [];
  let unreadable = 0;
  for (const line of readTextFileNoFollow(file).split('\n')) {
    if (line.trim() === '') continue;
    const parsed = parseLineOrNull(line);
    if (isSpilledAnswer(parsed)) answers.push(parsed);
    else unreadable++;
  }
  for (const { key, origin, response, createdAt } of answers) cache.put(key, origin, response, createdAt);
  renameSync(file, `${file}.imported`);
  return { imported: answers.length, unreadable };
}
