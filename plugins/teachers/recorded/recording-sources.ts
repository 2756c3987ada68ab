import path from 'node:path';
import type { PluginDependencies } from '../../../core/plugins/plugin-dependencies.js';
import { UserError } from '../../../core/errors/user-error.js';
import { assertReadableFile } from '../../../core/parsing/read-lines.js';
import { resolveDataFolder } from '../../../core/parsing/resolve-data-folder.js';
import { readDsbsRecordings } from './dsbs-recordings.js';
import { recordingsFolderRequest, type RecordedTeacherOptions } from './recorded-teacher.js';
import { readJsonlRecordings, type Recordings } from './recordings.js';

const plugin = 'teacher/recorded';

/** Where a recorded teacher's answers come from; recordings are read on first use. */
export interface RecordingSource {
  /** The recordings of a split, and where they are, for the missing-recording message (a plain function: callers take it out). */
  readonly lookup: (split: string) => Promise<{ readonly recordings: Recordings; readonly where: string }>;
  /** What identifies the source in the teacher's request options. */
  readonly requestOptions: Record<string, unknown>;
}

/** The PaLM shards of a dsbs dataset, read once per split. */
export function dsbsRecordingSource(options: RecordedTeacherOptions, dependencies: PluginDependencies): RecordingSource {
  const dataset = options.dataset;
  if (dataset === undefined)
    throw new UserError({ message: 'source dsbs needs the option dataset', plugin, fix: 'add dataset: anli1, cqa, esnli or svamp' });
  const root = resolveDataFolder(recordingsFolderRequest(options), dependencies.baseDirectory, dependencies.environment);
  const bySplit = new Map<string, Promise<Recordings>>();
  return {
    lookup: async (split) => {
      let loading = bySplit.get(split);
      if (!loading) {
        loading = readDsbsRecordings(root, dataset, split);
        bySplit.set(split, loading);
      }
      return { recordings: await loading, where: path.join(root, dataset, 'llm', `${split}_CoT_*.json`) };
    },
    requestOptions: { source: 'dsbs', dataset },
  };
}

/** A JSON Lines file of `{id, completion}`, checked now and read once. */
export async function jsonlRecordingSource(options: RecordedTeacherOptions, dependencies: PluginDependencies): Promise<RecordingSource> {
  if (options.file === undefined)
    throw new UserError({
      message: 'source jsonl needs the option file',
      plugin,
      fix: 'add file: path/to/completions.jsonl (lines of {"id", "completion"})',
    });
  const file = path.resolve(dependencies.baseDirectory, options.file);
  await assertReadableFile(
    file,
    'recorded completions file',
    `check the option file; relative paths resolve against the pipeline file's folder (${dependencies.baseDirectory})`,
  );
  let loading: Promise<Recordings> | null = null;
  return {
    lookup: async () => ({ recordings: await (loading ??= readJsonlRecordings(file)), where: file }),
    requestOptions: { source: 'jsonl', file: options.file },
  };
}
