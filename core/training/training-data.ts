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
 * Self-consistency: the rationales of a record's answers whose label is the record's (majority)
 * label, non-empty, each once, longest first (ties keep sample order); undefined when the record
 * holds no samples (one answer asked) or no majority label.
 */
export function agreeingRationalesOf(record: TeacherRecord): string[] | undefined {
  if (!record.samples || record.teacher_label === null) return undefined;
  const rationales = record.samples
    .filter((sample) => sample.label === record.teacher_label && sample.rationale !== null && sample.rationale.trim() !== '')
    .map((sample) => sample.rationale!);
  // Array.prototype.sort is stable, so equal lengths stay in sample order.
  return [...new Set(rationales)].sort((left, right) => right.length - left.length);
}

/**
 * Turns teacher records into sample items. The teacher label is imputed when missing, the label
 * defaults to the teacher's (distillation; the `label-source` sampler switches to gold), and a
 * missing rationale stays null (an empty target). The teacher's confidence is carried (null when
 * unknown, and for an imputed label, which no answer supports), and with several answers per
 * example the rationales that agree with the majority label.
 */
export function sampleItemsFromRecords(records: readonly TeacherRecord[], imputedLabel: string): SampleItem[] {
  return records.map((record) => {
    const teacherLabel = record.teacher_label ?? imputedLabel;
    const agreeingRationales = agreeingRationalesOf(record);
    return {
      id: record.id,
      input: record.student_input,
      goldLabel: record.gold_label,
      teacherLabel,
      label: teacherLabel,
      rationale: record.rationale && record.rationale.trim() !== '' ? record.rationale : null,
      confidence: record.teacher_label === null ? null : (record.confidence ?? null),
      ...(agreeingRationales ? { agreeingRationales } : {}),
    };
  });
}

/** Runs the pipeline's samplers in order. */
export function applySamplers(items: readonly SampleItem[], samplers: readonly Sampler[], seed: number): SampleItem[] {
  return samplers.reduce<SampleItem[]>((current, sampler) => sampler.apply(current, { seed }), [...items]);
}

/**
 * The trainer's examples: a null label or rationale becomes an empty target. With `exampleWeight`
 * (a loss-weight plugin's), each example carries its weight; without it no example has a `weight`
 * key, so the trainer's inputs (and the stage signature) stay as they were before weights existed.
 */
export function trainingExamplesFromItems(items: readonly SampleItem[], exampleWeight?: (item: SampleItem) => number): TrainingExample[] {
  return items.map((item) => {
    const example = { id: item.id, input: item.input, label: item.label ?? '', rationale: item.rationale ?? '' };
    if (!exampleWeight) return example;
    const weight = exampleWeight(item);
    if (!Number.isFinite(weight) || weight < 0) {
      // A plugin's bug, not the user's: the worker would train on it silently otherwise.
      throw new Error(`the loss-weight plugin gave example ${item.id} the weight ${weight}; weights must be finite and at least 0`);
    }
    return { ...example, weight };
  });
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
