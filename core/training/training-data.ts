import type { SampleItem, Sampler } from '../plugins/kinds/sampler.js';
import type { TrainingExample } from '../plugins/kinds/trainer.js';
import type { TeacherRecord } from '../teacher/teacher-record.js';

/**
 * The label given to an example whose teacher gave none (method.md §2): `neutral` for NLI, where
 * "cannot tell" is the honest default, a blank elsewhere.
 */
export function imputedLabelFor(labels: readonly string[] | null): string {
  return labels?.includes('neutral') ? 'neutral' : '';
}

/**
 * Turns teacher records into sample items. The teacher label is imputed when missing, the label
 * defaults to the teacher's (distillation; the `label-source` sampler switches to gold), and a
 * missing rationale stays null (an empty target).
 */
export function sampleItemsFromRecords(records: readonly TeacherRecord[], imputedLabel: string): SampleItem[] {
  return records.map((record) => {
    const teacherLabel = record.teacher_label ?? imputedLabel;
    return {
      id: record.id,
      input: record.student_input,
      goldLabel: record.gold_label,
      teacherLabel,
      label: teacherLabel,
      rationale: record.rationale && record.rationale.trim() !== '' ? record.rationale : null,
    };
  });
}

/** Runs the pipeline's samplers in order. */
export function applySamplers(items: readonly SampleItem[], samplers: readonly Sampler[], seed: number): SampleItem[] {
  return samplers.reduce<SampleItem[]>((current, sampler) => sampler.apply(current, { seed }), [...items]);
}

/** The trainer's examples: a null label or rationale becomes an empty target. */
export function trainingExamplesFromItems(items: readonly SampleItem[]): TrainingExample[] {
  return items.map((item) => ({ id: item.id, input: item.input, label: item.label ?? '', rationale: item.rationale ?? '' }));
}

/** An evaluation example: the gold label, no rationale (only `predict:` runs at evaluation). */
export function evaluationExample(id: string, input: string, goldLabel: string): TrainingExample {
  return { id, input, label: goldLabel, rationale: '' };
}

/** Counts that say what the samplers did, for the log and the report. */
export interface TrainingDataSummary {
  readonly records: number;
  readonly examples: number;
  readonly withRationale: number;
  readonly imputedLabels: number;
  readonly labelsFromGold: number;
}

/** Counts rationales kept, labels imputed and labels equal to gold. */
export function summariseTrainingData(records: readonly TeacherRecord[], items: readonly SampleItem[]): TrainingDataSummary {
  return {
    records: records.length,
    examples: items.length,
    withRationale: items.filter((item) => item.rationale !== null).length,
    imputedLabels: records.filter((record) => record.teacher_label === null).length,
    labelsFromGold: items.filter((item) => item.goldLabel !== null && item.label === item.goldLabel).length,
  };
}
