import { readdirSync } from 'node:fs';
import path from 'node:path';
import { linkRefused } from './no-follow-files.js';

/**
 * Refuses a folder with a symbolic link anywhere inside it (the folder itself may be reached through
 * links: a user may keep `runs/` on another disk). Run before a run writes to its folder: distill's
 * own writes never create links, so one found there was put there by someone else, and following it
 * would read or write outside the folder.
 */
export function assertNoLinks(directory: string): void {
  const folders = [directory];
  for (let folder = folders.pop(); folder !== undefined; folder = folders.pop()) {
    let entries;
    try {
      entries = readdirSync(folder, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    for (const entry of entries) {
      const full = path.join(folder, entry.name);
      if (entry.isSymbolicLink()) throw linkRefused(full);
      if (entry.isDirectory()) folders.push(full);
    }
  }
}
