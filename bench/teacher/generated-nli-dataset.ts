import type { Dataset, DatasetExample } from '../../core/plugins/kinds/dataset.js';
import { asyncValues } from '../../test/support/async-values.js';

const subjects = ['A man', 'Two children', 'A woman in a red coat', 'The old fisherman', 'A group of students', 'A dog'];
const actions = [
  'walks along the river',
  'plays football in the park',
  'reads a newspaper on a bench',
  'repairs a boat',
  'sings on a stage',
  'waits for the bus',
];
const places = ['in Paris', 'at noon', 'in the rain', 'near the station', 'after school', 'on a Sunday morning'];

/** The examples of {@link generatedNliDataset}, made one at a time as they are asked for. */
function* generatedExamples(count: number, split: string): Generator<DatasetExample> {
  for (let index = 0; index < count; index++) {
    const subject = subjects[index % subjects.length]!;
    const premise = `${subject} ${actions[Math.floor(index / 6) % actions.length]} ${places[Math.floor(index / 36) % places.length]} (scene ${index}).`;
    const hypothesis = `${subject} is outside.`;
    yield {
      id: `generated-${index}`,
      split,
      fields: { premise, hypothesis },
      goldLabel: ['entailment', 'neutral', 'contradiction'][index % 3]!,
    };
  }
}

/**
 * An NLI dataset of `count` examples made up on the fly, one at a time, so that a bench can push
 * 100,000 examples through the teach stage without the dataset itself holding them in memory.
 * Every premise is distinct (it carries its index), so every request is a cache miss.
 */
export function generatedNliDataset(count: number, split = 'train'): Dataset {
  return {
    splits: [split],
    fields: ['premise', 'hypothesis'],
    labels: ['entailment', 'neutral', 'contradiction'],
    read: (requested) => asyncValues(requested === split ? generatedExamples(count, split) : []),
    studentInput: (example) => `${String(example.fields.premise)} </s> ${String(example.fields.hypothesis)}`,
    sourceFiles: () => [],
  };
}
