import type { Teacher } from '../../../core/plugins/kinds/teacher.js';
import type { PluginDescriptor } from '../../../core/plugins/plugin-descriptor.js';
import { dataFolderRequirement, type DataFolderRequest } from '../../../core/parsing/resolve-data-folder.js';
import { recordedDatasetNames, recordingsDirectoryVariable, type RecordedDatasetName } from './dsbs-recordings.js';

/** Options of {@link recordedTeacher}. */
export interface RecordedTeacherOptions {
  /** `dsbs`: the PaLM shards of the dsbs data; `jsonl`: a file of `{id, completion}` lines. */
  readonly source: 'dsbs' | 'jsonl';
  /** dsbs folder (source dsbs); default: `$DISTILL_DSBS_DIR`. */
  readonly root?: string;
  /** Which dsbs dataset (source dsbs). */
  readonly dataset?: RecordedDatasetName;
  /** File of recorded completions (source jsonl), relative to the pipeline file. */
  readonly file?: string;
  /** Model id reported; default `palm-540b-recorded` (dsbs) or `recorded` (jsonl). */
  readonly model?: string;
  /** `approximate`: one token per 4 characters of prompt and completion; `zero`: report 0 tokens. */
  readonly usage?: 'approximate' | 'zero';
}

/** The dsbs folder of `source: dsbs` recordings, as the `root` option or `$DISTILL_DSBS_DIR` names it. */
export function recordingsFolderRequest(options: RecordedTeacherOptions): DataFolderRequest {
  return {
    given: options.root,
    option: 'root',
    variable: recordingsDirectoryVariable,
    what: 'dsbs data folder',
    holds: 'the folder holding <dataset>/llm/<split>_CoT_<n>.json (e.g. ../shared/data/dsbs)',
    plugin: 'teacher/recorded',
  };
}

/**
 * A teacher that answers from recorded completions instead of calling a model, so a pipeline runs
 * offline and reproducibly (e.g. on the real PaLM outputs of Distilling Step-by-Step). Not
 * cacheable: its answers are already stored. An example without a recording fails that request
 * with a non-retryable error naming the example.
 */
export const recordedTeacher: PluginDescriptor<RecordedTeacherOptions, Teacher> = {
  id: 'recorded',
  kind: 'teacher',
  version: '1.0.0',
  summary: 'Answers from recorded completions (the dsbs PaLM shards, or a JSON Lines file of {id, completion}).',
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['source'],
    properties: {
      source: {
        enum: ['dsbs', 'jsonl'],
        description: 'dsbs: PaLM shards under root/<dataset>/llm; jsonl: a file of {id, completion} lines.',
      },
      root: { type: 'string', existingPath: true, description: `dsbs folder (source dsbs); default: $${recordingsDirectoryVariable}.` },
      dataset: { enum: [...recordedDatasetNames], description: 'Which dsbs dataset (source dsbs).' },
      file: { type: 'string', existingPath: true, description: 'JSON Lines file of {"id", "completion"} (source jsonl).' },
      model: { type: 'string', minLength: 1, description: 'Model id to report.' },
      usage: { enum: ['approximate', 'zero'], default: 'approximate', description: 'Token counts: about 4 characters a token, or 0.' },
    },
    allOf: [
      { if: { properties: { source: { const: 'dsbs' } }, required: ['source'] }, then: { required: ['dataset'] } },
      { if: { properties: { source: { const: 'jsonl' } }, required: ['source'] }, then: { required: ['file'] } },
    ],
  },
  exampleOptions: { source: 'dsbs', dataset: 'esnli', root: '../shared/data/dsbs' },
  // The recordings of source dsbs are checked before a run; a jsonl file is checked by its schema (existingPath).
  requirements: (options, context) =>
    options.source === 'dsbs' && options.dataset !== undefined
      ? { paths: [dataFolderRequirement(recordingsFolderRequest(options), context, `${options.dataset}/llm`)] }
      : {},
  async create(options, dependencies) {
    const { createRecordedTeacher } = await import('./create-recorded-teacher.js');
    return createRecordedTeacher(options, dependencies);
  },
};
