import type { LoadedPipeline } from '../../config/load-pipeline.js';
import { redactText } from '../../config/redact.js';
import { UserError } from '../../errors/user-error.js';
import type { DatasetExample } from '../../plugins/kinds/dataset.js';
import type { Parser } from '../../plugins/kinds/parser.js';
import type { Prompt } from '../../plugins/kinds/prompt.js';
import { standalonePluginDependencies } from '../../plugins/plugin-dependencies.js';
import { PipelineInstances } from '../../runner/pipeline-instances.js';
import { resolveCachePath } from '../../teacher/cache-location.js';
import { findPrice } from '../../teacher/price-table.js';
import { RequestEngine } from '../../teacher/request-engine.js';
import { TeachBudget } from '../../teacher/teach-budget.js';
import { TeacherCache } from '../../teacher/teacher-cache.js';
import type { ServingMetrics } from './serving-metrics.js';

/** The split name served examples carry in teacher requests (and so in their cache keys). */
export const servedSplit = 'serve';

/** What the teacher made of one served text. */
export type TeacherAnswer =
  | { readonly status: 'answered'; readonly label: string; readonly rationale: string | null }
  /** No usable answer: the reason is redacted of the pipeline's secrets. `budget` when the pipeline's budget is spent. */
  | { readonly status: 'failed'; readonly reason: string; readonly cause: 'failed' | 'budget' };

/** The pipeline's teacher, asked one served text at a time. */
export interface FallbackTeacher {
  /** The dataset's closed label set, which the student scores (null for open answers). */
  readonly labels: readonly string[] | null;
  /**
   * Whether the student's answer agrees with the teacher's, by the pipeline's first evaluator (the
   * metric `distill calibrate` measured agreement with), for the shadow comparison.
   */
  agrees(studentAnswer: string, teacherAnswer: string): boolean;
  /** Asks the teacher about one text (never throws for a failed request; see {@link TeacherAnswer}). */
  ask(text: string): Promise<TeacherAnswer>;
  /** Releases the cache. */
  close(): void;
}

/**
 * The one placeholder of the prompt, which a served text fills: the API takes the student's input
 * text, and only a one-field prompt can be rendered from it without guessing how to split it.
 */
function servedField(prompt: Prompt): string {
  const fields = [...new Set(prompt.placeholders)];
  if (fields.length !== 1) {
    throw new UserError({
      message: `fallback serving fills the prompt's one placeholder with the text of a request, and this prompt has ${fields.length} (${fields.map((field) => `{${field}}`).join(', ') || 'none'})`,
      pointer: '/prompt',
      fix: 'use a pipeline whose prompt takes the whole input as one field (e.g. a template with one placeholder such as {input})',
    });
  }
  return fields[0]!;
}

/**
 * The teacher of a loaded pipeline for fallback serving: its teacher, prompt and parser plugin
 * instances as the teach stage makes them, behind a {@link RequestEngine} with the pipeline's cache,
 * limits, retries and budget (spent dollars and tokens also go to `metrics`).
 */
export async function createFallbackTeacher(
  loaded: LoadedPipeline,
  metrics: ServingMetrics,
  environment: Readonly<Record<string, string | undefined>> = process.env,
): Promise<FallbackTeacher> {
  const { config } = loaded;
  const dependencies = standalonePluginDependencies({ baseDirectory: loaded.baseDirectory, environment });
  const instances = new PipelineInstances(dependencies);
  const [dataset, prompt, parser, teacher, evaluators] = await Promise.all([
    instances.of(loaded, 'dataset', config.dataset),
    instances.prompt(loaded),
    instances.of(loaded, 'parser', config.parser),
    instances.of(loaded, 'teacher', config.teacher),
    instances.all(loaded, 'evaluator', config.evaluators),
  ]);
  // Never empty: the schema asks for one evaluator at least, and the registry's defaults fill an absent list.
  const evaluator = evaluators[0]!;
  const field = servedField(prompt);
  const descriptor = loaded.registry.get('teacher', config.teacher.use);
  const cache =
    config.cache.enabled && teacher.cacheable
      ? TeacherCache.open(resolveCachePath({ configuredPath: config.cache.path, baseDirectory: loaded.baseDirectory, environment }))
      : null;
  const price = findPrice(teacher, config.prices);
  const budget = new TeachBudget(config.budget, price, false);
  const { httpSettings, clock, events } = dependencies;
  const engine = new RequestEngine({
    teacher,
    pluginId: descriptor.id,
    pluginVersion: descriptor.version,
    cache,
    clock,
    httpSettings,
    limits: {
      concurrency: config.teacher.limits.concurrency,
      requestsPerMinute: config.teacher.limits.requests_per_minute,
      tokensPerMinute: config.teacher.limits.tokens_per_minute,
      maxRetries: config.teacher.limits.max_retries,
      maxRetryAfterMilliseconds: config.teacher.limits.max_retry_after_seconds * 1000,
    },
    tokenCounter: config.teacher.limits.tokens_per_minute !== undefined ? ((await teacher.tokenCounter?.()) ?? null) : null,
    events,
    // As the teach stage: the teacher's own timeout (an SDK's) fires first; the engine's is the backstop.
    timeoutMilliseconds:
      teacher.timeoutMilliseconds !== undefined
        ? Math.max(httpSettings.timeoutMilliseconds, teacher.timeoutMilliseconds + 1000)
        : undefined,
    admitPaidRequest: () => budget.admit(),
    onPaidAnswer: ({ usage }) => {
      budget.pay(usage);
      metrics.paid(usage, budget.costOf(usage));
    },
  });
  const redact = (text: string) => redactText(text, loaded.secrets);
  return {
    labels: dataset.labels,
    agrees: (studentAnswer, teacherAnswer) => evaluator.score(studentAnswer, teacherAnswer) >= 1,
    ask: (text) => askTeacher(engine, { prompt, parser, field, labels: dataset.labels }, text, redact),
    close: () => cache?.close(),
  };
}

/** What turns a served text into a teacher request and its answer into a label. */
interface AskingPlugins {
  readonly prompt: Prompt;
  readonly parser: Parser;
  /** The prompt's placeholder the text fills. */
  readonly field: string;
  /** The dataset's closed label set (null for open answers). */
  readonly labels: readonly string[] | null;
}

/**
 * The label of the label set that `label` names, matched as the parsers normalise labels (case and
 * surrounding spaces do not count); undefined when it names none.
 */
function labelInSet(label: string, labels: readonly string[]): string | undefined {
  const wanted = label.trim().toLowerCase();
  return labels.find((each) => each.trim().toLowerCase() === wanted);
}

async function askTeacher(
  engine: RequestEngine,
  { prompt, parser, field, labels }: AskingPlugins,
  text: string,
  redact: (text: string) => string,
): Promise<TeacherAnswer> {
  const example: DatasetExample = { id: 'served', split: servedSplit, fields: { [field]: text }, goldLabel: null };
  let outcome;
  try {
    // No signal to stop: a request sent is answered (bounded by the engine's timeout and retries).
    outcome = await engine.request(
      { exampleId: example.id, split: example.split, messages: prompt.render(example) },
      new AbortController().signal,
    );
  } catch (error) {
    // A rejected key, an unknown model, refusals in a row: every request would fail alike.
    return { status: 'failed', reason: redact((error as Error).message), cause: 'failed' };
  }
  if (outcome.status === 'skipped') {
    return { status: 'failed', reason: "the pipeline's teacher budget is spent", cause: 'budget' };
  }
  if (outcome.status === 'failed') {
    return { status: 'failed', reason: redact(`${outcome.reason} (after ${outcome.attempts} attempts)`), cause: 'failed' };
  }
  const parsed = parser.parse(outcome.response.text, example);
  if (parsed.status !== 'parsed') {
    return { status: 'failed', reason: redact(`the teacher's answer could not be parsed: ${parsed.reason}`), cause: 'failed' };
  }
  if (labels === null || labels.length === 0) return { status: 'answered', label: parsed.label, rationale: parsed.rationale };
  // A client of a classifier is promised one of its labels, from the student or the teacher alike.
  const label = labelInSet(parsed.label, labels);
  if (label === undefined) {
    return {
      status: 'failed',
      reason: redact(`the teacher answered ${JSON.stringify(parsed.label)}, which is not one of the labels (${labels.join(', ')})`),
      cause: 'failed',
    };
  }
  return { status: 'answered', label, rationale: parsed.rationale };
}
