import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { TeacherRecord } from '../../../../core/teacher/teacher-record.js';
import { dsbsDirectory } from '../../../support/paths.js';

const labels = ['entailment', 'neutral', 'contradiction'];
const shardSize = 5500;

/**
 * Teacher records for e-SNLI's `valid` split from the real PaLM chain-of-thought outputs, parsed
 * as `../shared/data/README.md` says (rationale before `Answer:`, label the word after it), the way
 * the teacher stage would write them. `count` takes the first records only.
 */
export async function esnliTeacherRecords(count: number): Promise<TeacherRecord[]> {
  const folder = path.join(dsbsDirectory, 'esnli');
  const gold = (await readFile(path.join(folder, 'esnli_valid.json'), 'utf8')).split('\n').filter((line) => line.trim() !== '');
  const shards = Math.ceil(Math.min(count, gold.length) / shardSize);
  const completions: string[] = [];
  for (let shard = 0; shard < shards; shard++) {
    completions.push(...(JSON.parse(await readFile(path.join(folder, 'llm', `valid_CoT_${shard}.json`), 'utf8')) as string[]));
  }
  return gold.slice(0, count).map((line, index) => {
    const record = JSON.parse(line) as { premise: string; hypothesis: string; label: number };
    const completion = completions[index] ?? '';
    const answerAt = completion.indexOf('Answer:');
    const word = answerAt < 0 ? null : (/^\s*([A-Za-z]+)/.exec(completion.slice(answerAt + 'Answer:'.length))?.[1]?.toLowerCase() ?? null);
    const teacherLabel = word && labels.includes(word) ? word : null;
    const rationale = answerAt < 0 ? null : completion.slice(0, answerAt).trim().replace(/\s+/g, ' ');
    return {
      id: `esnli/valid/${index}`,
      split: 'valid',
      fields: { premise: record.premise, hypothesis: record.hypothesis },
      student_input: `${record.premise} </s> ${record.hypothesis}`,
      gold_label: labels[record.label]!,
      teacher_label: teacherLabel,
      rationale: rationale && rationale.split(' ').length >= 5 ? rationale : null,
      parse_status: teacherLabel ? 'parsed' : 'unparsed',
      reason: null,
      raw_text: completion,
      prompt_tokens: 0,
      completion_tokens: 0,
      cost_usd: 0,
      cached: true,
    };
  });
}

/** The first `count` gold examples of e-SNLI `test`, as trainer examples. */
export async function esnliTestExamples(count: number): Promise<{ id: string; input: string; label: string; rationale: string }[]> {
  const lines = (await readFile(path.join(dsbsDirectory, 'esnli', 'esnli_test.json'), 'utf8'))
    .split('\n')
    .filter((line) => line.trim() !== '');
  return lines.slice(0, count).map((line, index) => {
    const record = JSON.parse(line) as { premise: string; hypothesis: string; label: number };
    return { id: `esnli/test/${index}`, input: `${record.premise} </s> ${record.hypothesis}`, label: labels[record.label]!, rationale: '' };
  });
}
