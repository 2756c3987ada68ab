import { randomBytes } from 'node:crypto';
import { closeSync, constants, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { redactKnownSecrets } from '../config/redact.js';
import { UserError } from '../errors/user-error.js';

/**
 * Writing the files of a run folder without ever following a symbolic link, and without ever writing
 * a secret. A run folder is data: anyone who can put a link in it (a shared disk, an unpacked archive
 * of someone else's run) could otherwise make distill overwrite or append to any file the user can
 * write. Every file is opened with `O_NOFOLLOW` (a link as the last component fails with `ELOOP`), a
 * whole file is written under a fresh name created with `O_EXCL` and renamed into place (a rename
 * replaces a link, it never writes through one), and {@link assertNoLinks} refuses a run folder with
 * links anywhere inside before a run writes to it. Every text written has the secrets of the loaded
 * pipelines replaced ({@link redactKnownSecrets}).
 */

const { O_WRONLY, O_RDONLY, O_CREAT, O_EXCL, O_APPEND, O_NOFOLLOW } = constants;

/** The user error for a link where distill was about to write or read. */
export function linkRefused(file: string): UserError {
  return new UserError({
    message: `${file} is a symbolic link: distill never reads or writes through links in a run folder`,
    fix: `remove the link (rm ${JSON.stringify(file)}) and run again`,
  });
}

/** Opens with `O_NOFOLLOW`, turning `ELOOP` (the last component is a link) into {@link linkRefused}. */
function openNoFollow(file: string, flags: number): number {
  try {
    return openSync(file, flags | O_NOFOLLOW, 0o644);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOOP') throw linkRefused(file);
    throw error;
  }
}

function writeAll(descriptor: number, data: string | Uint8Array): void {
  const buffer = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let offset = 0;
  while (offset < buffer.length) offset += writeSync(descriptor, buffer, offset, buffer.length - offset);
}

/**
 * Writes a whole file atomically: a kill at any moment leaves the old file or the new one, and a
 * link at `file` is replaced by the file, not followed. Text has the registered secrets redacted.
 */
export function writeFileNoFollow(file: string, data: string | Uint8Array): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const descriptor = openNoFollow(temporary, O_WRONLY | O_CREAT | O_EXCL);
  try {
    writeAll(descriptor, typeof data === 'string' ? redactKnownSecrets(data) : data);
  } catch (error) {
    closeSync(descriptor);
    unlinkSync(temporary);
    throw error;
  }
  closeSync(descriptor);
  renameSync(temporary, file);
}

/** Appends text to a file (created when missing) with one write, never through a link. */
export function appendFileNoFollow(file: string, text: string): void {
  const appender = new NoFollowAppender(file);
  try {
    appender.append(text);
  } finally {
    appender.close();
  }
}

/** Reads a whole text file, refusing a link. */
export function readTextFileNoFollow(file: string): string {
  const descriptor = openNoFollow(file, O_RDONLY);
  try {
    return readFileSync(descriptor, 'utf8');
  } finally {
    closeSync(descriptor);
  }
}

/**
 * A file kept open for appending lines (the event log, teacher records), opened on the first append
 * (so the file appears with its first line, never empty) without following a link. Each
 * {@link append} is one `write` call, so a kill loses at most the line being written.
 */
export class NoFollowAppender {
  private descriptor: number | null = null;

  constructor(readonly file: string) {}

  /** Appends text, secrets redacted. */
  append(text: string): void {
    if (this.descriptor === null) {
      mkdirSync(path.dirname(this.file), { recursive: true });
      this.descriptor = openNoFollow(this.file, O_WRONLY | O_CREAT | O_APPEND);
    }
    writeAll(this.descriptor, redactKnownSecrets(text));
  }

  /** Closes the file (when it was opened). */
  close(): void {
    if (this.descriptor !== null) closeSync(this.descriptor);
    this.descriptor = null;
  }
}
