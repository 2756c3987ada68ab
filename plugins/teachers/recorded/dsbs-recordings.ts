import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../../../core/errors/user-error.js';
import { readJsonLines } from '../../../core/parsing/json-lines.js';
import type { Recordings } from './recordings.js';

/**
 * The Distilling Step-by-Step datasets whose PaLM-540B completions the data ships
 * (`../shared/data/README.md`): `<root>/<dataset>/llm/<split>_CoT_<n>.json`, JSON arrays of raw
 * completions in the order of the split's gold file. This teacher is the only reader of those shards.
 */
export const recordedDatasetNames = ['anli1', 'cqa', 'esnli', 'svamp'] as const;

/** One of {@link recordedDatasetNames}. */
export type RecordedDatasetName = (typeof recordedDatasetNames)[number];

/** Environment variable naming the `dsbs` folder when a pipeline gives no `root`. */
export const recordingsDirectoryVariable = 'DISTILL_DSBS_DIR';

/**
 * The gold-record field the `dsbs` dataset keys its example ids with (`<dataset>/<split>/<key>`), or
 * null where the key is the record's line index. The recordings must answer by those ids; the
 * recorded-teacher tests check the two agree on real data.
 */
const idFields: Readonly<Record<RecordedDatasetName, string | null>> = { anli1: 'uid', cqa: 'id', esnli: null, svamp: null };

/**
 * The teacher shard files of a split in shard order (`llm/train_CoT_0.json`, `…_1.json`, …); a
 * {@link UserError} when there are none or one is missing.
 */
async function shardFiles(root: string, name: RecordedDatasetName, split: string): Promise<string[]> {
  const folder = path.join(root, name, 'llm');
  const pattern = new RegExp(`^${split}_CoT_(\\d+)\\.json$`);
  const entries = await readdir(folder).catch(() => [] as string[]); // a missing folder is reported below, by name
  const shards = entries
    .map((entry) => ({ entry, match: pattern.exec(entry) }))
    .filter((candidate) => candidate.match !== null)
    .map((candidate) => ({ file: path.join(folder, candidate.entry), number: Number(candidate.match![1]) }))
    .sort((left, right) => left.number - right.number);
  if (shards.length === 0) {
    throw new UserError({
      message: `no recorded teacher outputs for ${name}/${split}: expected ${path.join(folder, `${split}_CoT_0.json`)}`,
      fix: 'point root at the dsbs folder of ../shared/data (it holds <dataset>/llm/<split>_CoT_<n>.json)',
    });
  }
  shards.forEach((shard, position) => {
    if (shard.number !== position) {
      throw new UserError({
        message: `teacher shard ${split}_CoT_${position}.json is missing in ${folder}`,
        fix: 'restore the missing shard file',
      });
    }
  });
  return shards.map((shard) => shard.file);
}

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
  return value;
}

/** The example ids of a split's gold records, in file order, as the `dsbs` dataset gives them. */
async function goldExampleIds(root: string, name: RecordedDatasetName, split: string): Promise<string[]> {
  const file = path.join(root, name, `${name}_${split}.json`);
  const idField = idFields[name];
  const ids: string[] = [];
  for await (const { value, line, index } of readJsonLines(file, `gold file of ${name}/${split}`)) {
    const key = idField === null ? index : (value as Record<string, unknown> | null)?.[idField];
    if (typeof key !== 'string' && typeof key !== 'number') {
      throw new UserError({
        message: `${file}:${line}: field "${idField}" should be a string, got ${JSON.stringify(key)}`,
        fix: 'check that the file is an unmodified dsbs gold file',
      });
    }
    ids.push(`${name}/${split}/${key}`);
  }
  return ids;
}

/**
 * The PaLM completions of one dsbs split keyed by the `dsbs` dataset's example ids. Output i of
 * shard k belongs to gold record k·shard_size + i, where the shard size is the length of the first
 * shard (every shard but the last is full; checked).
 */
export async function readDsbsRecordings(root: string, name: RecordedDatasetName, split: string): Promise<Recordings> {
  const files = await shardFiles(root, name, split);
  const shards = await Promise.all(files.map(readShard));
  const shardSize = shards[0]!.length;
  shards.slice(0, -1).forEach((shard, position) => {
    if (shard.length !== shardSize) {
      throw new UserError({
        message: `teacher shard ${files[position]} holds ${shard.length} completions, the first shard ${shardSize}`,
        fix: 'every shard but the last must have the same size; restore the shards from the dsbs data',
      });
    }
  });
  const completions = shards.flat();
  const ids = await goldExampleIds(root, name, split);
  if (completions.length > ids.length) {
    throw new UserError({
      message: `${name}/${split} has ${completions.length} recorded completions but only ${ids.length} gold records`,
      fix: 'the shards and the gold file must come from the same dsbs release',
    });
  }
  return new Map(completions.map((completion, index) => [ids[index]!, completion]));
}
