import path from 'node:path';
import type { PluginDescriptor } from '../../../core/plugins/plugin-descriptor.js';
import type { Trainer } from '../../../core/plugins/kinds/trainer.js';
import { findPythonInterpreter } from '../../../core/python/python-interpreter.js';
import { torchTrainerOptionsSchema, type TorchTrainerOptions } from './torch-trainer-options.js';

/**
 * The PyTorch trainer: a Python worker (`worker/`) trains a T5 student on label and rationale
 * tasks, driven over the JSON-lines protocol of docs/trainer-protocol.md.
 */
export const torchTrainer: PluginDescriptor<TorchTrainerOptions, Trainer> = {
  id: 'torch',
  kind: 'trainer',
  version: '1.0.0',
  summary: 'Trains a T5 student with PyTorch (CPU, CUDA, DDP via torchrun) in a Python worker.',
  optionsSchema: torchTrainerOptionsSchema,
  exampleOptions: { batch_size: 16, learning_rate: 5e-4, max_steps: 2000, eval_every: 250, checkpoint_every: 250 },
  async create(options, dependencies) {
    // Fails here, before any work, when the environment is missing (names `npm run setup:python`).
    const python = options.python?.includes('/') ? path.resolve(dependencies.baseDirectory, options.python) : options.python;
    const interpreter = findPythonInterpreter(python, dependencies.environment);
    const { TorchTrainer } = await import('./torch-trainer-client.js');
    return new TorchTrainer(options, interpreter, dependencies.environment, dependencies.logger, dependencies.processes);
  },
};
