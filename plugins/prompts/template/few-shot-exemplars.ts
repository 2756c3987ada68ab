import type { DatasetExample } from '../../../core/plugins/kinds/dataset.js';
import { UserError } from '../../../core/errors/user-error.js';
import { readDsbsExamples, type DsbsDatasetName } from '../../../core/parsing/dsbs-datasets.js';
import { nliLabels } from '../../../core/parsing/label-normalisation.js';
import { cleanRationale } from '../../../core/parsing/rationale-cleaning.js';
import { fieldText, fillTemplate } from '../../../core/parsing/template-placeholders.js';
import { fewShotQueries } from './built-in-templates.js';
import { svampWorkedAnswers } from './svamp-worked-answers.js';

/** A worked example: the question as the query format shows it, and the answer the teacher should imitate. */
interface Exemplar {
  readonly example: DatasetExample;
  readonly answer: string;
}

/**
 * ANLI annotators explain how they fooled the model ("The system likely was fooled because …");
 * those sentences are about the annotation game, not the inference, so exemplars leave them out.
 */
const annotationRemarkPattern = /\b(system|model|algorithm|AI|computer|machine|bot|fooled|fool|tricked|trick|confused|prompt|I)\b/i;

function withoutAnnotationRemarks(reason: string): string {
  return reason
    .split(/(?<=[.!?])\s+/)
    .filter((sentence) => !annotationRemarkPattern.test(sentence))
    .join(' ');
}

/** `( ( 13.0 + 15.0 ) / 28.0 )` → `((13 + 15) / 28)`, the way PaLM writes its answers. */
export function tidyEquation(equation: string): string {
  return equation
    .replace(/(\d+)\.0\b/g, '$1')
    .replace(/\(\s+/g, '(')
    .replace(/\s+\)/g, ')')
    .trim();
}

/** The worked answer of one example, or null when its explanation is too poor to show. */
function workedAnswer(name: DsbsDatasetName, example: DatasetExample): string | null {
  const gold = example.goldLabel!;
  switch (name) {
    case 'cqa': {
      const rationale = cleanRationale(fieldText(example.fields.abstractive_explanation));
      // Many cos_e explanations say nothing ("this word is most relavant"); one that names the answer
      // and is a whole sentence of reasoning (as the chain-of-thought exemplars are) explains it.
      if (rationale === null || !rationale.toLowerCase().includes(gold.toLowerCase())) return null;
      if (rationale.split(/\s+/).length < minimumCqaReasoningWords) return null;
      const letter = String.fromCharCode(97 + (example.fields.choices as string[]).indexOf(gold));
      return rationale === null ? null : `${withFullStop(rationale)} So the answer is (${letter}) ${gold}.`;
    }
    case 'esnli': {
      const rationale = cleanRationale(fieldText(example.fields.explanation_1));
      return rationale === null ? null : `${withFullStop(rationale)}\nAnswer: ${gold}`;
    }
    case 'anli1': {
      const rationale = cleanRationale(withoutAnnotationRemarks(fieldText(example.fields.reason)));
      return rationale === null ? null : `${withFullStop(rationale)} So the answer is ${gold}.`;
    }
    case 'svamp':
      return null; // written by hand: svampWorkedAnswers
  }
}

/** Shortest cos_e explanation shown as a CQA worked answer: shorter ones are fragments, not reasoning. */
const minimumCqaReasoningWords = 10;

/** Capitalised and ending in a full stop, as the teacher should write. */
function withFullStop(text: string): string {
  const sentence = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?]$/.test(sentence) ? sentence : `${sentence}.`;
}

/**
 * Chooses exemplars deterministically, so the prompt (and its cache key) never changes between
 * runs: the first usable examples in file order; for NLI the first of each label in turn
 * (entailment, neutral, contradiction, …) so the prompt does not lean towards one label; for
 * SVAMP the problems with written answers.
 */
async function chooseExemplars(root: string, name: DsbsDatasetName, split: string, shots: number): Promise<Exemplar[]> {
  if (name === 'svamp') {
    if (shots > svampWorkedAnswers.length) {
      throw new UserError({
        message: `svamp-few-shot has ${svampWorkedAnswers.length} worked exemplars, ${shots} shots asked`,
        plugin: 'prompt/template',
        fix: `set shots to at most ${svampWorkedAnswers.length}`,
      });
    }
    const wanted = new Map(svampWorkedAnswers.slice(0, shots).map((worked) => [worked.index, worked.reasoning]));
    const chosen: Exemplar[] = [];
    let index = 0;
    for await (const example of readDsbsExamples(root, name, split)) {
      const reasoning = wanted.get(index++);
      if (reasoning !== undefined) chosen.push({ example, answer: `${reasoning} The answer is ${tidyEquation(example.goldLabel!)}.` });
      if (chosen.length === wanted.size) break;
    }
    return chosen;
  }
  const nli = name === 'esnli' || name === 'anli1';
  const queues = new Map<string, Exemplar[]>();
  const perLabel = nli ? Math.ceil(shots / nliLabels.length) : shots;
  const enough = () =>
    nli ? nliLabels.every((label) => (queues.get(label)?.length ?? 0) >= perLabel) : (queues.get('')?.length ?? 0) >= shots;
  for await (const example of readDsbsExamples(root, name, split)) {
    const key = nli ? example.goldLabel! : '';
    const queue = queues.get(key) ?? [];
    if (queue.length >= perLabel) continue;
    const answer = workedAnswer(name, example);
    if (answer === null) continue;
    queue.push({ example, answer });
    queues.set(key, queue);
    if (enough()) break;
  }
  const chosen: Exemplar[] = [];
  if (nli) {
    for (let round = 0; chosen.length < shots && round < perLabel; round++) {
      for (const label of nliLabels) {
        const exemplar = queues.get(label)?.[round];
        if (exemplar && chosen.length < shots) chosen.push(exemplar);
      }
    }
  } else chosen.push(...(queues.get('') ?? []).slice(0, shots));
  if (chosen.length < shots) {
    throw new UserError({
      message: `only ${chosen.length} usable exemplars in ${name}/${split}, ${shots} shots asked`,
      plugin: 'prompt/template',
      fix: `lower shots to ${chosen.length}`,
    });
  }
  return chosen;
}

/** Braces in real text must not be read as placeholders. */
function escapeBraces(text: string): string {
  return text.replace(/[{}]/g, (brace) => brace + brace);
}

/**
 * The full few-shot template: worked exemplars (as literal text) followed by the query with
 * placeholders for the example being asked about.
 */
export async function buildFewShotTemplate(root: string, name: DsbsDatasetName, split: string, shots: number): Promise<string> {
  const exemplars = await chooseExemplars(root, name, split, shots);
  const query = fewShotQueries[name];
  const blocks = exemplars.map(({ example, answer }) => escapeBraces(`${fillTemplate(query, example.fields)} ${answer}`));
  return [...blocks, query].join('\n\n');
}
