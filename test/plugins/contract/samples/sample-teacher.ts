import type { Teacher } from '../../../../core/plugins/kinds/teacher.js';
import type { PluginDescriptor } from '../../../../core/plugins/plugin-descriptor.js';
import { UserError } from '../../../../core/errors/user-error.js';

/** A teacher that echoes the last message, needing an API key like a real provider. */
export const sampleTeacher: PluginDescriptor<{ model: string; api_key?: string }, Teacher> = {
  id: 'sample-teacher',
  kind: 'teacher',
  version: '1.0.0',
  summary: 'Echoes the prompt back (contract sample).',
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['model'],
    properties: { model: { type: 'string' }, api_key: { type: 'string', secret: true } },
  },
  exampleOptions: { model: 'echo-1' },
  create(options, dependencies) {
    // Read lazily from options or the environment, as the style guide asks of providers.
    const apiKey = options.api_key ?? dependencies.environment.SAMPLE_API_KEY;
    if (!apiKey) throw new UserError({ message: 'sample-teacher needs an API key', fix: 'pass api_key or set SAMPLE_API_KEY' });
    return {
      provider: 'sample',
      model: options.model,
      requestOptions: {},
      cacheable: true,
      complete(request) {
        const text = request.messages.at(-1)?.content ?? '';
        return Promise.resolve({ text, usage: { promptTokens: 1, completionTokens: 1 }, model: options.model, finishReason: 'stop' });
      },
    };
  },
};
