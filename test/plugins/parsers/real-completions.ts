import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { DatasetExample } from '../../../core/plugins/kinds/dataset.js';
import { dsbsGoldFile, type DsbsDatasetName } from '../../../plugins/datasets/dsbs/dsbs-layout.js';
import { dsbsExample } from '../../../plugins/datasets/dsbs/dsbs-records.js';
import { dsbsDirectory } from '../../support/paths.js';

/**
 * A real PaLM completion and its example, read from ../shared/data/dsbs at test time (the data is
 * never copied into the project). `index` is the record's line index in the split's gold file.
 */
export async function realCase(
  name: DsbsDatasetName,
  split: string,
  index: number,
): Promise<{ completion: string; example: DatasetExample }> {
  const goldLines = (await readFile(dsbsGoldFile(dsbsDirectory, name, split), 'utf8')).split('\n');
  const firstShard = JSON.parse(await readFile(path.join(dsbsDirectory, name, 'llm', `${split}_CoT_0.json`), 'utf8')) as string[];
  const shard = Math.floor(index / firstShard.length);
  const completions =
    shard === 0
      ? firstShard
      : (JSON.parse(await readFile(path.join(dsbsDirectory, name, 'llm', `${split}_CoT_${shard}.json`), 'utf8')) as string[]);
  return {
    completion: completions[index - shard * firstShard.length]!,
    example: dsbsExample(name, split, JSON.parse(goldLines[index]!), index, `${name}/${split}:${index + 1}`),
  };
}

/** An example with just the given fields, for made-up answers. */
export function madeUpExample(fields: Record<string, unknown> = {}, goldLabel: string | null = null): DatasetExample {
  return { id: 'made-up/0', split: 'test', fields, goldLabel };
}
