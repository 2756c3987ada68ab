import { readCsvRecords } from './csv.js';
import { readJsonLines } from '../../../core/parsing/json-lines.js';
import { UserError } from '../../../core/errors/user-error.js';

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

/** One record of a table file, with where it is for error messages. */
export interface TableRecord {
  readonly value: Readonly<Record<string, unknown>>;
  readonly index: number;
  /** `file:line`. */
  readonly where: string;
}

/** Streams the records of a JSON Lines or CSV file as objects. */
export async function* readTableRecords(file: string, format: TableFormat, what: string): AsyncGenerator<TableRecord> {
  if (format === 'csv') {
    for await (const record of readCsvRecords(file, what))
      yield { value: record.value, index: record.index, where: `${file}:${record.line}` };
    return;
  }
  for await (const record of readJsonLines(file, what)) {
    if (typeof record.value !== 'object' || record.value === null || Array.isArray(record.value)) {
      throw new UserError({
        message: `line ${record.line} of ${file} is not a JSON object`,
        file,
        line: record.line,
        fix: 'each line must be an object such as {"text": "…", "label": "…"}',
      });
    }
    yield { value: record.value as Record<string, unknown>, index: record.index, where: `${file}:${record.line}` };
  }
}
