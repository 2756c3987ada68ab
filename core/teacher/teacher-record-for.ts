import type { Dataset, DatasetExample } from '../plugins/kinds/dataset.js';
import type { ParsedAnswer, Parser } from '../plugins/kinds/parser.js';
import type { TokenUsage } from '../plugins/kinds/teacher.js';
import { labelProbability } from './label-probability.js';
import type { EngineOutcome } from './request-engine.js';
import type { TeacherRecord, TeacherSample } from './teacher-record.js';

function parseSafely(parser: Parser, text: string, example: DatasetExample): ParsedAnswer {
  try {
    return parser.parse(text, example);
  } catch (error) {
    // A parser bug on one odd answer must not lose the answer: keep it, unparsed, with the reason.
    return { status: 'unparsed', label: null, rationale: null, reason: `parser error: ${(error as Error).message}` };
  }
}

/** What every record of an example starts from. */
type RecordBase = Pick<TeacherRecord, 'id' | 'split' | 'fields' | 'student_input' | 'gold_label'>;

/** Prices a paid answer's usage. */
type CostOf = (usage: TokenUsage) => number;

/**
 * The record of one example, from what the request engine made of its requests (one per sample,
 * in sample order; one without `teacher.samples`): an answer (parsed here), a failure, or nothing
 * when a request was skipped (over budget, or stopped), which leaves the example for the next run.
 * `costOf` prices a paid answer; a cached one costs nothing new.
 *
 * One answer: its label and rationale; where it came with token log-probabilities (the OpenAI
 * teacher's `logprobs` option), `confidence` is the probability of the label's tokens (see
 * {@link labelProbability}), `confidence_source: 'logprobs'`.
 *
 * Several answers (self-consistency): each is parsed on its own into `samples`; `votes` counts the
 * parsed labels; `teacher_label` is the majority (a tie goes to the label of the earliest answer
 * among the tied); `confidence` is the majority's votes over ALL the answers asked, unparsed ones
 * included, since an answer that names no label does not agree with the majority
 * (`confidence_source: 'votes'`); `rationale` is the longest rationale of an answer that agrees with
 * the majority, `raw_text` the text of the first such answer; tokens and cost are summed. With no
 * parsed answer the record is `unparsed`, with no label and no confidence.
 *
 * Any request skipped: null, as for one answer. Any request failed after its retries: a `failed`
 * record, even when the other answers came, so that the next run asks again. The answers that came
 * are in the cache by then, so the next run pays only for the failed ones and combines all of them;
 * a majority of fewer answers than asked would give a confidence on another scale than its neighbours'.
 * The failed record still carries what this run paid for the answers that came.
 */
export function teacherRecordFor(
  example: DatasetExample,
  outcomes: readonly EngineOutcome[],
  plugins: { readonly dataset: Dataset; readonly parser: Parser },
  costOf: CostOf,
): TeacherRecord | null {
  if (outcomes.length === 0 || outcomes.some((outcome) => outcome.status === 'skipped')) return null;
  const base: RecordBase = {
    id: example.id,
    split: example.split,
    fields: example.fields,
    student_input: plugins.dataset.studentInput(example),
    gold_label: example.goldLabel,
  };
  if (outcomes.length > 1) return combinedRecord(base, outcomes, (text) => parseSafely(plugins.parser, text, example), costOf);
  const outcome = outcomes[0]!;
  if (outcome.status !== 'answered') return failedRecord(base, outcome.status === 'failed' ? outcome.reason : 'skipped');
  const { response, cached } = outcome;
  const parsed = parseSafely(plugins.parser, response.text, example);
  const confidence =
    parsed.status === 'parsed' && response.tokenLogprobs ? labelProbability(response.text, parsed.label, response.tokenLogprobs) : null;
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
    ...(confidence !== null ? { confidence, confidence_source: 'logprobs' as const } : {}),
  };
}

/** A record with no answer to use; `paid` adds what answers that came cost. */
function failedRecord(
  base: RecordBase,
  reason: string,
  paid?: Pick<TeacherRecord, 'prompt_tokens' | 'completion_tokens' | 'cost_usd' | 'samples'>,
): TeacherRecord {
  return {
    ...base,
    teacher_label: null,
    rationale: null,
    parse_status: 'failed',
    reason,
    raw_text: null,
    prompt_tokens: 0,
    completion_tokens: 0,
    cost_usd: 0,
    cached: false,
    ...paid,
  };
}

/** One answer of several, parsed on its own. */
interface ParsedSample {
  readonly sample: TeacherSample;
  readonly text: string | null;
  readonly reason: string | null;
}

/** The record of several answers to one example; see {@link teacherRecordFor}. */
function combinedRecord(
  base: RecordBase,
  outcomes: readonly EngineOutcome[],
  parse: (text: string) => ParsedAnswer,
  costOf: CostOf,
): TeacherRecord {
  const asked = outcomes.length;
  const parsedSamples: ParsedSample[] = outcomes.map((outcome) => {
    if (outcome.status !== 'answered') {
      const reason = outcome.status === 'failed' ? outcome.reason : 'skipped';
      return { sample: { label: null, rationale: null, parse_status: 'failed', cached: false }, text: null, reason };
    }
    const parsed = parse(outcome.response.text);
    return {
      sample: { label: parsed.label, rationale: parsed.rationale, parse_status: parsed.status, cached: outcome.cached },
      text: outcome.response.text,
      reason: parsed.status === 'unparsed' ? parsed.reason : null,
    };
  });
  const samples = parsedSamples.map((each) => each.sample);
  const paid = { ...usageOf(outcomes, costOf), samples };
  const failures = parsedSamples.filter((each) => each.sample.parse_status === 'failed');
  if (failures.length > 0) {
    const share = failures.length === asked ? `all ${asked}` : `${failures.length} of ${asked}`;
    return failedRecord(base, `${share} answers failed: ${failures[0]!.reason}`, paid);
  }
  const votes = new Map<string, number>();
  for (const { label } of samples) if (label !== null) votes.set(label, (votes.get(label) ?? 0) + 1);
  // Labels are met in the order of their earliest answer, and only a larger count replaces the
  // leader: a tie goes to the label whose earliest answer comes first.
  let majority: string | null = null;
  for (const [label, count] of votes) if (majority === null || count > votes.get(majority)!) majority = label;
  const cached = samples.every((sample) => sample.cached);
  if (majority === null) {
    const first = parsedSamples[0]!;
    return {
      ...base,
      ...paid,
      teacher_label: null,
      rationale: first.sample.rationale,
      parse_status: 'unparsed',
      reason: `none of the ${asked} answers has a label; the first: ${first.reason}`,
      raw_text: first.text,
      cached,
      votes: {},
    };
  }
  const agreeing = parsedSamples.filter((each) => each.sample.label === majority);
  // The longest rationale; among equally long ones, the earliest answer's.
  const rationale = agreeing.reduce<string | null>(
    (longest, { sample }) =>
      sample.rationale !== null && (longest === null || sample.rationale.length > longest.length) ? sample.rationale : longest,
    null,
  );
  return {
    ...base,
    ...paid,
    teacher_label: majority,
    rationale,
    parse_status: 'parsed',
    reason: null,
    raw_text: agreeing[0]!.text,
    cached,
    confidence: votes.get(majority)! / asked,
    confidence_source: 'votes',
    votes: Object.fromEntries(votes),
  };
}

/** Tokens of every answer that came, and the cost of those paid for now. */
function usageOf(
  outcomes: readonly EngineOutcome[],
  costOf: CostOf,
): Pick<TeacherRecord, 'prompt_tokens' | 'completion_tokens' | 'cost_usd'> {
  const totals = { prompt_tokens: 0, completion_tokens: 0, cost_usd: 0 };
  for (const outcome of outcomes) {
    if (outcome.status !== 'answered') continue;
    totals.prompt_tokens += outcome.response.usage.promptTokens;
    totals.completion_tokens += outcome.response.usage.completionTokens;
    if (!outcome.cached) totals.cost_usd += costOf(outcome.response.usage);
  }
  return totals;
}
