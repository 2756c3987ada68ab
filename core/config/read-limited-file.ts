import { constants, type Stats } from 'node:fs';
import { open, stat } from 'node:fs/promises';

/**
 * What {@link readLimitedFile} found: the text and its size in bytes, or that the file holds more than allowed (with its
 * size when `stat` gave it; a file that grew while being read is only known to be too large).
 */
export type LimitedRead = { readonly text: string; readonly bytes: number } | { readonly tooLarge: { readonly bytes?: number } };

/** Why a path that exists is not a file to read, in words for a message; undefined for a regular file. */
function notRegularFileReason(stats: Stats): string | undefined {
  if (stats.isFile()) return undefined;
  if (stats.isDirectory()) return 'it is a folder';
  if (stats.isFIFO()) return 'it is a named pipe (FIFO)';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'it is a device';
  if (stats.isSocket()) return 'it is a socket';
  return 'it is not a regular file';
}

/** Why a path cannot be read as a file: missing, or there but not a regular file (`reason` says what it is). */
export interface UnreadablePath {
  readonly missing: boolean;
  readonly reason: string;
}

/**
 * Why `file` cannot be read as a YAML file (missing, a folder, a device, a FIFO), or undefined when
 * it is a regular file. Only `stat` is used: opening a FIFO for reading blocks until a writer comes.
 */
export async function unreadablePath(file: string): Promise<UnreadablePath | undefined> {
  let stats: Stats;
  try {
    stats = await stat(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { missing: true, reason: 'it does not exist' };
    return { missing: false, reason: (error as Error).message };
  }
  const reason = notRegularFileReason(stats);
  return reason ? { missing: false, reason } : undefined;
}

/** What {@link readLimitedBytes} found: the file's bytes, or that it holds more than allowed. */
export type LimitedBytes = { readonly buffer: Buffer } | { readonly tooLarge: { readonly bytes?: number } };

/**
 * Reads a regular file as UTF-8, refusing one larger than `maxBytes` (see {@link readLimitedBytes}).
 */
export async function readLimitedFile(file: string, maxBytes: number): Promise<LimitedRead> {
  const read = await readLimitedBytes(file, maxBytes);
  if ('tooLarge' in read) return read;
  return { text: read.buffer.toString('utf8'), bytes: read.buffer.length };
}

/**
 * Reads a regular file's bytes, refusing one larger than `maxBytes`. The size is checked with
 * `stat` before the file is opened and enforced on the read itself, since a file can grow in between
 * and some files report a size that means nothing (`/proc`). A path that is not a regular file
 * throws an error whose message says what it is, without being opened for reading.
 */
export async function readLimitedBytes(file: string, maxBytes: number): Promise<LimitedBytes> {
  const before = await stat(file);
  const reason = notRegularFileReason(before);
  if (reason) throw new Error(reason);
  if (before.size > maxBytes) return { tooLarge: { bytes: before.size } };
  // O_NONBLOCK: should the path have become a FIFO since the stat, opening it must not wait for a writer.
  // Windows has no O_NONBLOCK (Node's types declare every flag on every platform).
  const { O_NONBLOCK: nonBlocking = 0 } = constants as Partial<typeof constants>;
  const handle = await open(file, constants.O_RDONLY | nonBlocking);
  try {
    const opened = await handle.stat();
    const openedReason = notRegularFileReason(opened);
    if (openedReason) throw new Error(openedReason);
    const buffer = Buffer.allocUnsafe(maxBytes + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > maxBytes) return { tooLarge: opened.size > maxBytes ? { bytes: opened.size } : {} };
    return { buffer: buffer.subarray(0, length) };
  } finally {
    await handle.close();
  }
}
