import { readFile } from 'node:fs/promises';
import { UserError } from '../../../core/errors/user-error.js';
import { dsbsShardFiles, readDsbsExamples, type DsbsDatasetName } from '../../../core/parsing/dsbs-datasets.js';
import { readJsonLines } from '../../../core/parsing/json-lines.js';
import { assertReadableFile } from '../../../core/parsing/read-lines.js';

/** Recorded completions by example id, for one split or a whole file. */
export type Recordings = ReadonlyMap<string, string>;

/** Parses one teacher shard: a JSON array of completion strings. */
async function readShard(file: string): Promise<string[]> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new UserError({
      message: `teacher shard ${file} is not valid JSON: ${(error as Error).message}`,
      file,
      fix: 'restore the shard from the dsbs data',
    });
  }
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new UserError({
      message: `teacher shard ${file} should be a JSON array of strings`,
      file,
      fix: 'restore the shard from the dsbs data',
    });
  }
  return value as string[];
}

/**
 * The PaLM completions of one dsbs split keyed by the `dsbs` dataset's example ids. Output i of
 * shard k belongs to gold record k·shard_size + i, where the shard size is the length of the first
 * shard (every shard but the last is full; checked). Ids come from reading the gold file the same
 * way the dataset does, so the two cannot disagree.
 */
export async function readDsbsRecordings(root: string, name: DsbsDatasetName, split: string): Promise<Recordings> {
  const shardFiles = await dsbsShardFiles(root, name, split);
  const shards = await Promise.all(shardFiles.map(readShard));
  const shardSize = shards[0]!.length;
  shards.slice(0, -1).forEach((shard, position) => {
    if (shard.length !== shardSize) {
      throw new UserError({
        message: `teacher shard ${shardFiles[position]} holds ${shard.length} completions, the first shard ${shardSize}`,
        fix: 'every shard but the last must have the same size; restore the shards from the dsbs data',
      });
    }
  });
  const completions = shards.flat();
  const recordings = new Map<string, string>();
  let index = 0;
  for await (const example of readDsbsExamples(root, name, split)) {
    const shard = Math.floor(index / shardSize);
    const completion = shards[shard]?.[index - shard * shardSize];
    if (completion !== undefined) recordings.set(example.id, completion);
    index++;
  }
  if (completions.length > index) {
    throw new UserError({
      message: `${name}/${split} has ${completions.length} recorded completions but only ${index} gold records`,
      fix: 'the shards and the gold file must come from the same dsbs release',
    });
  }
  return recordings;
}

/**
 * Recordings from a JSON Lines file of `{"id": …, "completion": …}` lines, for answers recorded
 * from any teacher. A duplicate id is a mistake, not a second answer.
 */
export async function readJsonlRecordings(file: string): Promise<Recordings> {
  await assertReadableFile(file, 'recorded completions file');
  const recordings = new Map<string, string>();
  for await (const { value, line } of readJsonLines(file, 'recorded completions file')) {
    const record = value as { id?: unknown; completion?: unknown } | null;
    if (typeof record !== 'object' || record === null || typeof record.id !== 'string' || typeof record.completion !== 'string') {
      throw new UserError({
        message: `line ${line} of ${file} should be {"id": "…", "completion": "…"}`,
        file,
        line,
        fix: 'write one object with a string id and a string completion per line',
      });
    }
    if (recordings.has(record.id)) {
      throw new UserError({
        message: `line ${line} of ${file} repeats id "${record.id}"`,
        file,
        line,
        fix: 'keep one completion per example id',
      });
    }
    recordings.set(record.id, record.completion);
  }
  return recordings;
}
