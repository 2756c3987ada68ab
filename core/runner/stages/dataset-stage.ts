import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Dataset } from '../../plugins/kinds/dataset.js';
import { hashFiles } from '../file-hashes.js';
import type { StageDefinition } from '../stage-definition.js';
import type { DatasetStageOutput } from '../stage-outputs.js';
import { stepIdentity } from '../step-identity.js';
import type { PipelineContext } from './pipeline-context.js';
import { writeTestSplit, type TestExample } from './test-split.js';

/** Examples read from one split (up to its limit), its gold-label counts, and its examples with gold labels. */
async function readSplit(dataset: Dataset, split: string, limit: number | undefined) {
  let count = 0;
  const labels = new Map<string, number>();
  const withGold: TestExample[] = [];
  for await (const example of dataset.read(split)) {
    if (limit !== undefined && count >= limit) break;
    count++;
    if (example.goldLabel === null) continue;
    labels.set(example.goldLabel, (labels.get(example.goldLabel) ?? 0) + 1);
    withGold.push({ id: example.id, input: dataset.studentInput(example), label: example.goldLabel });
  }
  return { count, labels, withGold };
}

/**
 * The dataset stage: counts each role's split, finds the test split's majority class, and stores the
 * test split (with gold labels) that training scores on and the exported model is evaluated on.
 */
export async function datasetStage(context: PipelineContext): Promise<StageDefinition<'dataset'>> {
  const { loaded, instances } = context;
  const step = loaded.config.dataset;
  const dataset = await instances.of(loaded, 'dataset', step);
  const { splits, limit } = step;
  const roleSplits = [splits.train, splits.validation, splits.test].filter((split): split is string => split !== undefined);
  const files = await hashFiles(roleSplits.flatMap((split) => dataset.sourceFiles(split)));
  return {
    name: 'dataset',
    inputs: { ...stepIdentity(loaded, 'dataset', step), splits, limit, validation_fraction: step.validation_fraction, files },
    async run(stage): Promise<DatasetStageOutput> {
      const examples: Record<string, number> = {};
      let majorityClass: DatasetStageOutput['majorityClass'] = null;
      const testFile = path.join(stage.stageDirectory, 'test.jsonl');
      for (const [role, split] of Object.entries(splits)) {
        const read = await readSplit(dataset, split, limit[role as keyof typeof limit]);
        examples[role] = read.count;
        if (role !== 'test') continue;
        writeTestSplit(testFile, read.withGold);
        if (read.labels.size > 0 && dataset.labels !== null) {
          const [label, count] = [...read.labels].sort((left, right) => right[1] - left[1])[0]!;
          majorityClass = { label, share: count / read.count };
        }
      }
      return { examples, majorityClass, testFile };
    },
    // Records stored before the stage kept its test split have none: the stage runs again in place
    // (seconds), and the stages after it stay stored.
    reusable: (output) => typeof output.testFile === 'string' && existsSync(output.testFile),
  };
}
