import type { Dataset, DatasetExample } from '../plugins/kinds/dataset.js';
import type { ParsedAnswer, Parser } from '../plugins/kinds/parser.js';
import type { EngineOutcome } from './request-engine.js';
import type { TeacherRecord } from './teacher-record.js';

function parseSafely(parser: Parser, text: string, example: DatasetExample): ParsedAnswer {
  try {
    return parser.parse(text, example);
  } catch (error) {
    // A parser bug on one odd answer must not lose the answer: keep it, unparsed, with the reason.
    return { status: 'unparsed', label: null, rationale: null, reason: `parser error: ${(error as Error).message}` };
  }
}

/**
 * The record of one example, from what the request engine made of its requests (one per sample,
 * in sample order; one without `teacher.samples`): an answer (parsed here), a failure, or nothing
 * when a request was skipped (over budget, or stopped), which leaves the example for the next run.
 * `costOf` prices a paid answer; a cached one costs nothing new.
 */
export function teacherRecordFor(
  example: DatasetExample,
  outcomes: readonly EngineOutcome[],
  plugins: { readonly dataset: Dataset; readonly parser: Parser },
  costOf: (usage: { promptTokens: number; completionTokens: number }) => number,
): TeacherRecord | null {
  // Several samples are combined by the self-consistency work of issue 16; one outcome is the usual case.
  const outcome = outcomes[0]!;
  if (outcome.status === 'skipped') return null;
  const base = {
    id: example.id,
    split: example.split,
    fields: example.fields,
    student_input: plugins.dataset.studentInput(example),
    gold_label: example.goldLabel,
  };
  if (outcome.status === 'failed') {
    const nothing = {
      teacher_label: null,
      rationale: null,
      raw_text: null,
      prompt_tokens: 0,
      completion_tokens: 0,
      cost_usd: 0,
      cached: false,
    };
    return { ...base, ...nothing, parse_status: 'failed', reason: outcome.reason };
  }
  const { response, cached } = outcome;
  const parsed = parseSafely(plugins.parser, response.text, example);
  return {
    ...base,
    teacher_label: parsed.label,
    rationale: parsed.rationale,
    parse_status: parsed.status,
    reason: parsed.status === 'unparsed' ? parsed.reason : null,
    raw_text: response.text,
    prompt_tokens: response.usage.promptTokens,
    completion_tokens: response.usage.completionTokens,
    cost_usd: cached ? 0 : costOf(response.usage),
    cached,
  };
}
