import type { DatasetExample, WorkedExample } from '../../../core/plugins/kinds/dataset.js';
import { cleanRationale } from '../../../core/parsing/rationale-cleaning.js';
import { fieldText } from '../../../core/parsing/template-placeholders.js';
import { assertDsbsSplit, type DsbsDatasetName } from './dsbs-layout.js';
import { readDsbsExamples } from './dsbs-records.js';
import { svampWorkedAnswers, svampWorkedAnswersSplit } from './svamp-worked-answers.js';

/**
 * ANLI annotators explain how they fooled the model ("The system likely was fooled because …");
 * those sentences are about the annotation game, not the inference, so worked examples leave them out.
 */
const annotationRemarkPattern = /\b(system|model|algorithm|AI|computer|machine|bot|fooled|fool|tricked|trick|confused|prompt|I)\b/i;

function withoutAnnotationRemarks(reason: string): string {
  return reason
    .split(/(?<=[.!?])\s+/)
    .filter((sentence) => !annotationRemarkPattern.test(sentence))
    .join(' ');
}

/** Shortest cos_e explanation kept for CQA: shorter ones are fragments, not reasoning. */
const minimumCqaReasoningWords = 10;

/** The usable explanation of one example, or null when it is too poor to show a teacher. */
const explanationReaders: Readonly<Record<Exclude<DsbsDatasetName, 'svamp'>, (example: DatasetExample) => string | null>> = {
  cqa(example) {
    const rationale = cleanRationale(fieldText(example.fields.abstractive_explanation));
    // Many cos_e explanations say nothing ("this word is most relavant"); one that names the answer
    // and is a whole sentence of reasoning (as the chain-of-thought exemplars are) explains it.
    if (rationale === null || !rationale.toLowerCase().includes(example.goldLabel!.toLowerCase())) return null;
    return rationale.split(/\s+/).length < minimumCqaReasoningWords ? null : rationale;
  },
  esnli: (example) => cleanRationale(fieldText(example.fields.explanation_1)),
  anli1: (example) => cleanRationale(withoutAnnotationRemarks(fieldText(example.fields.reason))),
};

/** SVAMP ships equations without explanations: the problems with hand-written reasoning, in order. */
async function* svampWorkedExamples(root: string, split: string): AsyncGenerator<WorkedExample> {
  assertDsbsSplit('svamp', split);
  // The reasoning was written for the train problems: another split has other problems at those lines.
  if (split !== svampWorkedAnswersSplit) return;
  const reasoningByIndex = new Map(svampWorkedAnswers.map((worked) => [worked.index, worked.reasoning]));
  const lastIndex = Math.max(...reasoningByIndex.keys());
  let index = 0;
  for await (const example of readDsbsExamples(root, 'svamp', split)) {
    const reasoning = reasoningByIndex.get(index);
    if (reasoning !== undefined) yield { example, label: example.goldLabel!, rationale: reasoning };
    if (++index > lastIndex) return;
  }
}

/**
 * The worked examples of a dsbs split in file order: the examples whose human explanation (cos_e for
 * CQA, e-SNLI's first explanation, the ANLI annotator's reason without remarks about fooling the
 * model) is usable, and for SVAMP the problems with hand-written reasoning.
 */
export async function* dsbsWorkedExamples(root: string, name: DsbsDatasetName, split: string): AsyncGenerator<WorkedExample> {
  if (name === 'svamp') {
    yield* svampWorkedExamples(root, split);
    return;
  }
  const explanation = explanationReaders[name];
  for await (const example of readDsbsExamples(root, name, split)) {
    const rationale = explanation(example);
    if (rationale !== null) yield { example, label: example.goldLabel!, rationale };
  }
}
