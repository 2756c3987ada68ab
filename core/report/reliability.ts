import { createReadStream, existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { TeacherRecord } from '../teacher/teacher-record.js';
import { labelsEqual, type LabelsMatch } from '../teacher/teacher-report.js';

/** One bin of teacher confidence, with how often the teacher was right in it. */
export interface ReliabilityBin {
  /** Lowest confidence of the bin (inclusive). */
  readonly low: number;
  /** Highest confidence of the bin (exclusive, except for the last bin, which holds 1). */
  readonly high: number;
  /** Records with a confidence in the bin and a gold label. */
  readonly records: number;
  /** Of those, the records whose teacher label matches gold. */
  readonly correct: number;
  /** Mean confidence of those records (0..1); null for an empty bin. */
  readonly meanConfidence: number | null;
}

/** Records by where their confidence comes from (`none`: no confidence). */
export interface ConfidenceSourceCount {
  readonly source: 'votes' | 'logprobs' | 'none';
  readonly records: number;
}

/**
 * The teacher's reliability: its accuracy on gold in bins of its own confidence. A calibrated
 * teacher is right 70% of the time where it says 0.7, so its bins sit on the diagonal.
 */
export interface ReliabilitySummary {
  /** Every record of the teacher stage. */
  readonly records: number;
  /** Records with a confidence and a gold label: those in the bins. */
  readonly binned: number;
  readonly bins: readonly ReliabilityBin[];
  /** Records per source of confidence, over all records; sources with no records are left out. */
  readonly sources: readonly ConfidenceSourceCount[];
}

/** Bins of width 0.1: fine enough to show the shape, coarse enough for a few hundred records. */
export const reliabilityBinCount = 10;

/**
 * The running counts behind a {@link ReliabilitySummary}, fed one record at a time so that a
 * teacher stage of any size is read in constant memory. Accuracy uses the teach stage's default
 * label comparison, so the bins count as right what the teacher's accuracy counts.
 */
export class ReliabilityTotals {
  private records = 0;
  private readonly counts = Array.from({ length: reliabilityBinCount }, () => ({ records: 0, correct: 0, confidence: 0 }));
  private readonly sources = new Map<ConfidenceSourceCount['source'], number>();

  constructor(private readonly matches: LabelsMatch = labelsEqual) {}

  /** Counts one record. */
  add(record: TeacherRecord): void {
    this.records++;
    const confidence = typeof record.confidence === 'number' && Number.isFinite(record.confidence) ? record.confidence : null;
    const source = confidence === null ? 'none' : (record.confidence_source ?? 'none');
    this.sources.set(source, (this.sources.get(source) ?? 0) + 1);
    if (confidence === null || record.gold_label === null || record.teacher_label === null) return;
    // The small epsilon keeps 3/5 × 10 in bin 6 whatever the rounding; 1 goes to the last bin.
    const index = Math.min(reliabilityBinCount - 1, Math.max(0, Math.floor(confidence * reliabilityBinCount + 1e-9)));
    const bin = this.counts[index]!;
    bin.records++;
    bin.confidence += confidence;
    if (this.matches(record.teacher_label, record.gold_label)) bin.correct++;
  }

  /** The summary; null when no record has both a confidence and a gold label (nothing to chart). */
  summary(): ReliabilitySummary | null {
    const binned = this.counts.reduce((sum, bin) => sum + bin.records, 0);
    if (binned === 0) return null;
    const order: ConfidenceSourceCount['source'][] = ['votes', 'logprobs', 'none'];
    return {
      records: this.records,
      binned,
      bins: this.counts.map((bin, index) => ({
        low: index / reliabilityBinCount,
        high: (index + 1) / reliabilityBinCount,
        records: bin.records,
        correct: bin.correct,
        meanConfidence: bin.records > 0 ? bin.confidence / bin.records : null,
      })),
      sources: order.filter((source) => this.sources.has(source)).map((source) => ({ source, records: this.sources.get(source)! })),
    };
  }
}

/** The reliability of a list of records (see {@link ReliabilityTotals}). */
export function reliabilityOfRecords(records: Iterable<TeacherRecord>, matches?: LabelsMatch): ReliabilitySummary | null {
  const totals = new ReliabilityTotals(matches);
  for (const record of records) totals.add(record);
  return totals.summary();
}

/**
 * The reliability of a teacher stage's `teacher-records.jsonl`, read line by line; null when the
 * file is missing or holds no record with a confidence and gold. A line that is not JSON (the last
 * one cut short by a kill) is skipped: the report never fails on it.
 */
export async function reliabilityOfFile(file: string, matches?: LabelsMatch): Promise<ReliabilitySummary | null> {
  if (!existsSync(file)) return null;
  const totals = new ReliabilityTotals(matches);
  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    try {
      totals.add(JSON.parse(line) as TeacherRecord);
    } catch {
      continue;
    }
  }
  return totals.summary();
}
