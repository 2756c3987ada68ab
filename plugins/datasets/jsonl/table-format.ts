import { UserError } from '../../../core/errors/user-error.js';
import { csvTableReader, readJsonObjectLines, type TableReader } from '../../../core/parsing/table-records.js';

/** File formats the `jsonl` dataset reads. */
export const tableFormats = ['jsonl', 'csv'] as const;

/** One of {@link tableFormats}. */
export type TableFormat = (typeof tableFormats)[number];

/** The format a file name implies: `.csv` is CSV, `.jsonl`, `.ndjson` and `.json` are JSON Lines. */
export function formatFromExtension(file: string): TableFormat | null {
  const lower = file.toLowerCase();
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson') || lower.endsWith('.json')) return 'jsonl';
  return null;
}

/** The reader of a file in the given format, else the one its extension implies; neither is a user error. */
export function readerForFormat(format: TableFormat | undefined, file: string, given: string): TableReader {
  const chosen = format ?? formatFromExtension(file);
  if (chosen === null) {
    throw new UserError({
      message: `cannot tell the format of ${given} from its extension`,
      plugin: 'dataset/jsonl',
      fix: 'name the file .jsonl or .csv, or set format: jsonl or format: csv',
    });
  }
  return chosen === 'csv' ? csvTableReader() : readJsonObjectLines;
}
