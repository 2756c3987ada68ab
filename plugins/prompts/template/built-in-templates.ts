/**
 * The zero-shot templates of Vöge, Gurgul and Lessmann (2024), verbatim from `docs/method.md` §1:
 * the ones their prompt search ended with. `nli-zero-shot` is the ANLI template, used for e-SNLI too.
 */
export const zeroShotTemplates = {
  'nli-zero-shot': 'Based on {premise}, determine whether the claim "{hypothesis}" is true, false, or inconclusive?',
  'cqa-zero-shot':
    'Given the following options, what do you think is the correct answer to the question below:\n\n{question}\n\nOptions:\na){a}\nb){b}\nc){c}\nd){d}\ne){e}\n\nExplain your answer with one sentence.',
  'svamp-zero-shot': '{question}\n\nGo step by step, but clearly state your final answer.',
  /** Label-given rationalisation: `{label}` is the gold label, only the rationale is wanted. */
  'nli-label-given':
    'Premise: {premise}\nClaim: {hypothesis}\n\nWhy is the hypothesis "{label}" towards the premise? Answer in a single sentence starting with: "The hypothesis is "{label}" towards the premise, because..."',
} as const;

/** The question-and-answer formats of Distilling Step-by-Step's PaLM prompts, one per task it prompted for. */
export type FewShotFormat = 'anli1' | 'cqa' | 'esnli' | 'svamp';

/**
 * Few-shot chain-of-thought templates for comparison, one per format of Distilling Step-by-Step's
 * PaLM prompts, so the `palm` parser reads the answers. Exemplars are the worked examples of the
 * pipeline's dataset (see `few-shot-exemplars.ts`); the default shot counts are those of the
 * chain-of-thought papers.
 */
export const fewShotTemplates = {
  'anli1-few-shot': { format: 'anli1', defaultShots: 6 },
  'cqa-few-shot': { format: 'cqa', defaultShots: 7 },
  'esnli-few-shot': { format: 'esnli', defaultShots: 6 },
  'svamp-few-shot': { format: 'svamp', defaultShots: 8 },
} as const satisfies Record<string, { format: FewShotFormat; defaultShots: number }>;

/** Every built-in template name. */
export const builtInTemplateNames = [...Object.keys(zeroShotTemplates), ...Object.keys(fewShotTemplates)].sort();

/** The question each few-shot format ends with; the teacher completes the answer. */
export const fewShotQueries: Readonly<Record<FewShotFormat, string>> = {
  anli1: 'Premise: {premise}\nHypothesis: {hypothesis}\nAnswer:',
  cqa: 'Q: {question}\nAnswer Choices:\n(a) {a}\n(b) {b}\n(c) {c}\n(d) {d}\n(e) {e}\nA:',
  esnli: 'Premise: {premise}\nHypothesis: {hypothesis}\nReasonings:',
  svamp: 'Q: {question}\nA:',
};
