import type { PluginDependencies } from '../../../core/plugins/plugin-dependencies.js';
import type { Teacher, TeacherMessage } from '../../../core/plugins/kinds/teacher.js';
import { UserError } from '../../../core/errors/user-error.js';
import type { RecordedTeacherOptions } from './recorded-teacher.js';
import { dsbsRecordingSource, jsonlRecordingSource } from './recording-sources.js';

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
  const misplaced = options.source === 'dsbs' ? (['file'] as const) : (['root', 'dataset'] as const);
  const given = misplaced.filter((option) => options[option] !== undefined);
  if (given.length > 0) {
    throw new UserError({
      message: `option ${given.join(' and ')} does nothing with source ${options.source}`,
      plugin,
      fix: options.source === 'dsbs' ? 'remove file, or set source: jsonl' : 'remove root and dataset, or set source: dsbs',
    });
  }
  const { lookup, requestOptions } =
    options.source === 'dsbs' ? dsbsRecordingSource(options, dependencies) : await jsonlRecordingSource(options, dependencies);
  const model = options.model ?? (options.source === 'dsbs' ? 'palm-540b-recorded' : 'recorded');
  const countTokens = options.usage === 'zero' ? () => 0 : approximateTokens;
  return {
    provider: 'recorded',
    model,
    requestOptions,
    cacheable: false,
    // One answer is stored per example: a second sample would be the same text.
    samplingRefusal: 'recorded answers cannot be sampled',
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
