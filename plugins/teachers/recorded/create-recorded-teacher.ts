import path from 'node:path';
import type { PluginDependencies } from '../../../core/plugins/plugin-dependencies.js';
import type { Teacher, TeacherMessage } from '../../../core/plugins/kinds/teacher.js';
import { UserError } from '../../../core/errors/user-error.js';
import { resolveDsbsRoot } from '../../../core/parsing/resolve-data-root.js';
import { assertReadableFile } from '../../../core/parsing/read-lines.js';
import type { RecordedTeacherOptions } from './recorded-teacher.js';
import { readDsbsRecordings, readJsonlRecordings, type Recordings } from './recordings.js';

/** A request for an example that has no recorded completion: final, retrying cannot help. */
export class MissingRecordingError extends Error {
  constructor(
    readonly exampleId: string,
    where: string,
  ) {
    super(`no recorded completion for example "${exampleId}" in ${where}`);
    this.name = 'MissingRecordingError';
  }
}

/** Characters per token of the `approximate` usage: the usual rule of thumb for English text. */
export const recordedCharactersPerToken = 4;

function approximateTokens(text: string): number {
  return Math.ceil(text.length / recordedCharactersPerToken);
}

/** Builds the teacher; recordings are read on first use, once per split (dsbs) or once (jsonl). */
export async function createRecordedTeacher(options: RecordedTeacherOptions, dependencies: PluginDependencies): Promise<Teacher> {
  const plugin = 'teacher/recorded';
  let lookup: (split: string) => Promise<{ recordings: Recordings; where: string }>;
  let requestOptions: Record<string, unknown>;
  const misplaced = options.source === 'dsbs' ? (['file'] as const) : (['root', 'dataset'] as const);
  const given = misplaced.filter((option) => options[option] !== undefined);
  if (given.length > 0) {
    throw new UserError({
      message: `option ${given.join(' and ')} does nothing with source ${options.source}`,
      plugin,
      fix: options.source === 'dsbs' ? 'remove file, or set source: jsonl' : 'remove root and dataset, or set source: dsbs',
    });
  }
  if (options.source === 'dsbs') {
    if (options.dataset === undefined)
      throw new UserError({ message: 'source dsbs needs the option dataset', plugin, fix: 'add dataset: anli1, cqa, esnli or svamp' });
    const root = resolveDsbsRoot(options.root, dependencies.baseDirectory, dependencies.environment, plugin);
    const dataset = options.dataset;
    const bySplit = new Map<string, Promise<Recordings>>();
    lookup = async (split) => {
      let loading = bySplit.get(split);
      if (!loading) {
        loading = readDsbsRecordings(root, dataset, split);
        bySplit.set(split, loading);
      }
      return { recordings: await loading, where: path.join(root, dataset, 'llm', `${split}_CoT_*.json`) };
    };
    requestOptions = { source: 'dsbs', dataset };
  } else {
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
    lookup = async () => ({ recordings: await (loading ??= readJsonlRecordings(file)), where: file });
    requestOptions = { source: 'jsonl', file: options.file };
  }
  const model = options.model ?? (options.source === 'dsbs' ? 'palm-540b-recorded' : 'recorded');
  const countTokens = options.usage === 'zero' ? () => 0 : approximateTokens;
  return {
    provider: 'recorded',
    model,
    requestOptions,
    cacheable: false,
    async complete(request) {
      const { recordings, where } = await lookup(request.split);
      const text = recordings.get(request.exampleId);
      if (text === undefined) throw new MissingRecordingError(request.exampleId, where);
      const promptText = request.messages.map((message: TeacherMessage) => message.content).join('\n');
      return {
        text,
        usage: { promptTokens: countTokens(promptText), completionTokens: countTokens(text) },
        model,
        finishReason: null,
      };
    },
  };
}
