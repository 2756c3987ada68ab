import type { TeacherRecord, TeacherSample } from '../../../core/teacher/teacher-record.js';
import { esnliTeacherRecords } from '../../plugins/trainers/torch/esnli-teacher-records.js';

const labels = ['entailment', 'neutral', 'contradiction'];

/** The first words of a rationale, as a shorter answer that argues the same way would read. */
function shortened(rationale: string): string {
  const words = rationale.split(' ');
  return words.slice(0, Math.max(3, Math.ceil(words.length / 2))).join(' ');
}

/**
 * Self-consistency records of `teacher.samples: 5` over real e-SNLI examples (the PaLM answers of
 * `esnliTeacherRecords`), the way the teacher stage writes them: example i gets `2 + i % 4` answers
 * with its real label (its real rationale, a shortened one, the real one again, and one without a
 * rationale, in turn) and the rest with other labels and another example's rationale; the majority
 * label, its vote share as confidence, and the longest agreeing rationale. Every seventh example is
 * a single answer without a confidence (a record of a cached run from before samples).
 */
export async function selfConsistencyRecords(count: number): Promise<TeacherRecord[]> {
  const real = (await esnliTeacherRecords(count + 1)).filter((record) => record.teacher_label !== null && record.rationale !== null);
  return real.slice(0, count).map((record, index) => {
    if (index % 7 === 6) return record;
    const label = record.teacher_label!;
    const others = labels.filter((each) => each !== label);
    const agreeing = 2 + (index % 4);
    const own = [record.rationale, shortened(record.rationale!), record.rationale, null, record.rationale];
    const samples: TeacherSample[] = Array.from({ length: 5 }, (_, sample) =>
      sample < agreeing
        ? { label, rationale: own[sample]!, parse_status: 'parsed', cached: false }
        : { label: others[sample % 2]!, rationale: real[(index + sample) % real.length]!.rationale, parse_status: 'parsed', cached: false },
    );
    const votes: Record<string, number> = {};
    for (const sample of samples) votes[sample.label!] = (votes[sample.label!] ?? 0) + 1;
    return { ...record, samples, votes, confidence: agreeing / 5, confidence_source: 'votes' as const };
  });
}
