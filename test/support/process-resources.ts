import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';

/** Open descriptors of this process on a file or its companions (an SQLite database's `-wal`, `-shm`). */
export function descriptorsOn(file: string): number {
  return readdirSync('/proc/self/fd').filter((descriptor) => {
    try {
      return readlinkSync(path.join('/proc/self/fd', descriptor)).startsWith(file);
    } catch {
      return false; // the descriptor readdir itself used, closed meanwhile
    }
  }).length;
}

/** The process ids of this process's living children, as the kernel lists them. */
export function childProcessIds(): number[] {
  const ids: number[] = [];
  for (const thread of readdirSync(`/proc/${process.pid}/task`)) {
    try {
      ids.push(...readFileSync(`/proc/${process.pid}/task/${thread}/children`, 'utf8').split(/\s+/).filter(Boolean).map(Number));
    } catch {
      // a thread that ended meanwhile
    }
  }
  return ids;
}
