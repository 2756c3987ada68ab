import type { Trainer } from '../../../../core/plugins/kinds/trainer.js';
import type { PluginDescriptor } from '../../../../core/plugins/plugin-descriptor.js';

/** Trains nothing; reports the request's output folder as the checkpoint. */
export const sampleTrainer: PluginDescriptor<Record<string, never>, Trainer> = {
  id: 'sample-trainer',
  kind: 'trainer',
  version: '1.0.0',
  summary: 'Trains nothing (contract sample).',
  optionsSchema: { type: 'object', additionalProperties: false, properties: {} },
  create: () => ({
    train: (request) =>
      Promise.resolve({ checkpointDirectory: request.outputDirectory, steps: 0, validationAccuracy: Number.NaN, testAccuracy: Number.NaN }),
  }),
};
