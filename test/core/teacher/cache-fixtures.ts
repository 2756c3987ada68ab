import { closeSync, copyFileSync, openSync, readFileSync, statSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { TeacherCache, type CachedAnswer, type StoredAnswer } from '../../../core/teacher/teacher-cache.js';

/** The answer stored under `key` by {@link writeRealCache}: long enough to spread a few hundred over many pages. */
export function fixtureAnswer(key: string, index: number): StoredAnswer {
  return {
    key,
    origin: { pluginId: 'openai', pluginVersion: '1.0.0', provider: 'openai', model: 'gpt-4o-mini' },
    response: {
      text: `Answer: yes, for ${key}. ${'because the number decides it; '.repeat(20)}`,
      usage: { promptTokens: 30 + index, completionTokens: 10 },
      model: 'gpt-4o-mini-2024-07-18',
      finishReason: 'stop',
    },
    createdAt: 1_700_000_000_000 + index,
  };
}

/** Writes a real cache of `count` answers (keys `k0`, `k1`, …) one commit each, closed so it is one self-contained file. */
export function writeRealCache(file: string, count: number): string[] {
  const cache = TeacherCache.open(file);
  const keys = Array.from({ length: count }, (_, index) => `k${index}`);
  keys.forEach((key, index) => {
    const { origin, response, createdAt } = fixtureAnswer(key, index);
    cache.put(key, origin, response, createdAt);
  });
  cache.close();
  return keys;
}

/** SQLite's page size, from the file header. */
export function pageSize(file: string): number {
  const size = readFileSync(file).readUInt16BE(16);
  return size === 1 ? 65_536 : size;
}

/** Overwrites `count` pages from `firstPage` (1-based) with garbage, as a bad disk or a stray write would. */
export function overwritePages(file: string, firstPage: number, count: number): void {
  const size = pageSize(file);
  const descriptor = openSync(file, 'r+');
  try {
    writeSync(descriptor, Buffer.alloc(size * count, 0x5a), 0, size * count, (firstPage - 1) * size);
  } finally {
    closeSync(descriptor);
  }
}

/** Damages a few pages in the middle of the file, leaving the first page (the schema) intact. */
export function damageMiddle(file: string): void {
  const pages = statSync(file).size / pageSize(file);
  overwritePages(file, Math.floor(pages / 2), 3);
}

/** Cuts the file at half its size, as an interrupted copy would. */
export function truncateToHalf(file: string): void {
  truncateSync(file, Math.floor(statSync(file).size / 2));
}

/**
 * Three caches that cannot be opened, in `directory`: a real cache of 200 answers cut at half its
 * size, a file of text that is not a database, and a 0-byte file.
 */
export function writeUnreadableCaches(directory: string): { readonly truncated: string; readonly garbage: string; readonly empty: string } {
  const healthy = path.join(directory, 'healthy.sqlite');
  writeRealCache(healthy, 200);
  const truncated = path.join(directory, 'truncated.sqlite');
  copyFileSync(healthy, truncated);
  truncateToHalf(truncated);
  const garbage = path.join(directory, 'garbage.sqlite');
  writeFileSync(garbage, 'this is not a database\n'.repeat(1000));
  const empty = path.join(directory, 'empty.sqlite');
  writeFileSync(empty, '');
  return { truncated, garbage, empty };
}

/** For each key, the answer a plain `SELECT` on the file still gives, or null where it gives none or fails. */
export function readableAnswers(file: string, keys: readonly string[]): Map<string, CachedAnswer | null> {
  const cache = TeacherCache.open(file);
  try {
    return new Map(
      keys.map((key) => {
        try {
          return [key, cache.get(key)];
        } catch {
          return [key, null];
        }
      }),
    );
  } finally {
    cache.close();
  }
}
