import type { Dataset, WorkedExample } from '../../../core/plugins/kinds/dataset.js';
import { UserError } from '../../../core/errors/user-error.js';
import { exampleChoices } from '../../../core/parsing/regex-answer-parser.js';
import { fillTemplate } from '../../../core/parsing/template-placeholders.js';
import { fewShotQueries, type FewShotFormat } from './built-in-templates.js';

/** `( ( 13.0 + 15.0 ) / 28.0 )` → `((13 + 15) / 28)`, the way PaLM writes its answers. */
export function tidyEquation(equation: string): string {
  return equation
    .replace(/(\d+)\.0\b/g, '$1')
    .replace(/\(\s+/g, '(')
    .replace(/\s+\)/g, ')')
    .trim();
}

/** Capitalised and ending in a full stop, as the teacher should write. */
function withFullStop(text: string): string {
  const sentence = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?]$/.test(sentence) ? sentence : `${sentence}.`;
}

/** The letter of the gold choice (`c` for the third), or null when the example's choices do not hold it. */
function choiceLetter({ example, label }: WorkedExample): string | null {
  const position = exampleChoices(example, null)?.indexOf(label) ?? -1;
  return position < 0 ? null : String.fromCharCode(97 + position);
}

/** The answer the teacher should imitate, in each format's words; null when the example cannot be shown in it. */
const answerFormats: Readonly<Record<FewShotFormat, (worked: WorkedExample) => string | null>> = {
  cqa(worked) {
    const letter = choiceLetter(worked);
    return letter === null ? null : `${withFullStop(worked.rationale)} So the answer is (${letter}) ${worked.label}.`;
  },
  esnli: (worked) => `${withFullStop(worked.rationale)}\nAnswer: ${worked.label}`,
  anli1: (worked) => `${withFullStop(worked.rationale)} So the answer is ${worked.label}.`,
  svamp: (worked) => `${withFullStop(worked.rationale)} The answer is ${tidyEquation(worked.label)}.`,
};

/** A worked example and its answer in the template's format. */
interface Exemplar {
  readonly worked: WorkedExample;
  readonly answer: string;
}

/**
 * Takes exemplars in the dataset's order: where the dataset has a closed label set, the first of
 * each label in turn (entailment, neutral, contradiction, …) so the prompt does not lean towards one
 * label; otherwise the first ones.
 */
async function takeExemplars(
  workedExamples: AsyncIterable<WorkedExample>,
  labelSet: readonly string[] | null,
  shots: number,
  format: FewShotFormat,
): Promise<Exemplar[]> {
  const labels = labelSet ?? [''];
  const perLabel = Math.ceil(shots / labels.length);
  const queues = new Map<string, Exemplar[]>(labels.map((label) => [label, []]));
  const enough = () => labels.every((label) => queues.get(label)!.length >= perLabel);
  for await (const worked of workedExamples) {
    const queue = queues.get(labelSet === null ? '' : worked.label);
    if (queue === undefined || queue.length >= perLabel) continue;
    const answer = answerFormats[format](worked);
    if (answer === null) continue;
    queue.push({ worked, answer });
    if (enough()) break;
  }
  const chosen: Exemplar[] = [];
  for (let round = 0; chosen.length < shots && round < perLabel; round++) {
    for (const label of labels) {
      const exemplar = queues.get(label)![round];
      if (exemplar && chosen.length < shots) chosen.push(exemplar);
    }
  }
  return chosen;
}

/** Braces in real text must not be read as placeholders. */
function escapeBraces(text: string): string {
  return text.replace(/[{}]/g, (brace) => brace + brace);
}

/**
 * The full few-shot template: worked examples of the dataset's `split` (as literal text) followed by
 * the query with placeholders for the example being asked about. Exemplars are chosen
 * deterministically, so the prompt (and its cache key) never changes between runs.
 */
export async function buildFewShotTemplate(dataset: Dataset, format: FewShotFormat, split: string, shots: number): Promise<string> {
  if (!dataset.workedExamples) {
    throw new UserError({
      message: 'the few-shot templates take their exemplars from the dataset, and this dataset has no worked examples',
      plugin: 'prompt/template',
      fix: 'use a dataset with explanations, or write your exemplars into your own template text',
    });
  }
  const exemplars = await takeExemplars(dataset.workedExamples(split), dataset.labels, shots, format);
  if (exemplars.length < shots) {
    throw new UserError({
      message: `only ${exemplars.length} usable worked examples in split "${split}" of the dataset, ${shots} shots asked`,
      plugin: 'prompt/template',
      fix: exemplars.length > 0 ? `lower shots to ${exemplars.length}` : 'set exemplar_split to a split with worked examples',
    });
  }
  const query = fewShotQueries[format];
  const blocks = exemplars.map(({ worked, answer }) => escapeBraces(`${fillTemplate(query, worked.example.fields)} ${answer}`));
  return [...blocks, query].join('\n\n');
}
