import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { UserError } from '../errors/user-error.js';
import type { TeacherRecord } from '../teacher/teacher-record.js';

/**
 * The records of a teacher stage's `teacher-records.jsonl`. A missing file means the teacher
 * stage has not run; a line that is not a record is reported with its line number. A last line
 * cut short (a teacher stage killed mid-write) is skipped, as the teacher stage itself does on
 * resume.
 */
export async function readTeacherRecords(file: string, pipelineFile?: string): Promise<TeacherRecord[]> {
  if (!existsSync(file)) {
    throw new UserError({
      message: `no teacher records at ${file}`,
      fix: `run \`distill teach ${pipelineFile ?? '<pipeline>'}\` first: training reads the teacher's labels and rationales`,
    });
  }
  const lines = (await readFile(file, 'utf8')).split('\n');
  const records: TeacherRecord[] = [];
  for (const [index, line] of lines.entries()) {
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      if (index >= lines.length - 2) continue;
      throw new UserError({
        message: `${file}:${index + 1}: not a JSON line`,
        fix: `delete the file and run \`distill teach\` again (answers come from the cache)`,
      });
    }
    const record = value as Partial<TeacherRecord>;
    if (typeof record.id !== 'string' || typeof record.split !== 'string' || typeof record.student_input !== 'string') {
      throw new UserError({
        message: `${file}:${index + 1}: not a teacher record (needs id, split and student_input)`,
        fix: 'delete the file and run `distill teach` again',
      });
    }
    records.push(record as TeacherRecord);
  }
  return records;
}
