import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { readTextFileNoFollow, writeFileNoFollow } from '../files/no-follow-files.js';

/** Name of the note a teacher stage folder keeps about the cache it used. */
export const cacheUseNoteFile = 'cache-used.json';

/** What a teacher stage notes about the cache it used, when it ends. */
export interface CacheUseNote {
  readonly file: string;
  /** Answers in the cache then. */
  readonly entries: number;
  /** ISO time of the note. */
  readonly at: string;
}

/** Notes that the stage in `stageDirectory` used `file`, holding `entries` answers, now. */
export function writeCacheUseNote(stageDirectory: string, file: string, entries: number, now: Date): void {
  const note: CacheUseNote = { file, entries, at: now.toISOString() };
  writeFileNoFollow(path.join(stageDirectory, cacheUseNoteFile), JSON.stringify(note, null, 2) + '\n');
}

/**
 * A cache that a teacher stage of this run folder used, with answers in it, and that is missing now:
 * the most recent such note, or null. Deleting or moving the cache makes every answer in it paid for
 * again by a stage that cannot take it from its own records (a new prompt or parser, a new pipeline):
 * that is worth saying before the first request. The stage folders of the teacher of one run folder
 * are siblings (`stages/teacher/<signature>/`), so all of them are read.
 */
export function missingCacheNote(stageDirectory: string, file: string): CacheUseNote | null {
  if (existsSync(file)) return null;
  const teacherStages = path.dirname(stageDirectory);
  if (!existsSync(teacherStages)) return null;
  let latest: CacheUseNote | null = null;
  for (const folder of readdirSync(teacherStages)) {
    const noteFile = path.join(teacherStages, folder, cacheUseNoteFile);
    if (!existsSync(noteFile)) continue;
    let note: CacheUseNote;
    try {
      note = JSON.parse(readTextFileNoFollow(noteFile)) as CacheUseNote;
    } catch {
      continue; // a note is a hint; an unreadable one says nothing
    }
    if (note.file === file && note.entries > 0 && (latest === null || note.at > latest.at)) latest = note;
  }
  return latest;
}
