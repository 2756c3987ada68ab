import type Anthropic from '@anthropic-ai/sdk';
import { redactText } from '../../../core/config/redact.js';
import { UserError } from '../../../core/errors/user-error.js';
import { TeacherRetryableError } from '../../../core/plugins/kinds/teacher.js';
import {
  BatchNotFoundError,
  type BatchItem,
  type BatchLimits,
  type BatchResult,
  type BatchStatus,
  type TeacherBatchApi,
} from '../../../core/plugins/kinds/teacher-batch.js';
import type { Clock } from '../../../core/services/clock.js';
import { translateProviderError, type ProviderErrorContext } from '../../../core/teacher/provider-error.js';
import { messageParameters, messageResponse, type AnthropicMessageSettings, type ReceivedMessage } from './anthropic-message.js';

/**
 * What one Message Batch may hold, from Anthropic's batch processing guide
 * (https://platform.claude.com/docs/en/build-with-claude/batch-processing, "Batch limitations"):
 * 100,000 requests or 256 MB, whichever comes first. The guide does not say whether a MB is 10^6 or
 * 2^20 bytes, so the smaller is taken, less 1 MB for the request body's envelope and the commas
 * between requests (under 100 KB at 100,000 requests): the core sums {@link TeacherBatchApi.itemBytes}
 * against `maxBytes` and the whole body must still fit.
 */
export const anthropicBatchLimits: BatchLimits = { maxRequests: 100_000, maxBytes: 255_000_000 };

/**
 * How far a batch's `created_at` (Anthropic's clock) may fall before `submittedAfter` (this machine's
 * clock) and still count in {@link TeacherBatchApi.find}: clocks drift, and a batch missed here is
 * paid for twice.
 */
const clockAllowanceMilliseconds = 120_000;

/** Batches {@link TeacherBatchApi.find} reads at most (newest first) before it gives up looking further back. */
const maxListedBatches = 5_000;

/**
 * The SDK's wait for a create or a results download at least: a batch body may be 256 MB, far more
 * than one Messages API call, so the teacher's per-request `timeout_seconds` is raised to this.
 */
const transferTimeoutMilliseconds = 10 * 60 * 1000;

/**
 * Error types of an `errored` result line that may pass when asked again (Anthropic's error types:
 * https://platform.claude.com/docs/en/api/errors). Any other (`invalid_request_error`, a refused
 * permission…) would fail again alike, so it is final for that request.
 */
const retryableErrorTypes = new Set(['overloaded_error', 'api_error', 'rate_limit_error', 'timeout_error']);

/** What {@link anthropicBatchApi} needs besides the client: the same settings as the teacher's real-time calls. */
export interface AnthropicBatchSettings {
  /** The parameters every request carries; a batch request's `params` are exactly a real-time call's. */
  readonly message: AnthropicMessageSettings;
  /** How provider errors are translated (plugin, key variable, secrets to redact). */
  readonly errorContext: Omit<ProviderErrorContext, 'now'>;
  readonly clock: Pick<Clock, 'now'>;
  /** The teacher's base URL: a batch's `results_url` must be on the same origin, since the SDK sends the key there. */
  readonly baseUrl: string;
  /** The teacher's per-request timeout, for retrieve, list and cancel. */
  readonly timeoutMilliseconds: number;
}

/** A `message_batch` object as it may arrive (a proxy need not send what the SDK's types promise). */
type ReceivedBatch = Partial<Pick<Anthropic.Messages.MessageBatch, 'id' | 'created_at' | 'results_url'>> & {
  readonly processing_status?: string;
  readonly request_counts?: Partial<Anthropic.Messages.MessageBatchRequestCounts> | null;
};

/** `request_counts` with every count present. */
function countsOf(batch: ReceivedBatch) {
  const counts = batch.request_counts ?? {};
  const each = {
    processing: counts.processing ?? 0,
    succeeded: counts.succeeded ?? 0,
    errored: counts.errored ?? 0,
    canceled: counts.canceled ?? 0,
    expired: counts.expired ?? 0,
  };
  return { ...each, total: each.processing + each.succeeded + each.errored + each.canceled + each.expired };
}

/**
 * A Message Batch's state. `in_progress` and `canceling` are still running. An `ended` batch is
 * `expired` when any of its requests expired (its 24 hours passed), else `cancelled` when any was
 * canceled, else `ended`: the state says why some requests have no answer, and the core resubmits
 * what is missing or retryable in every case alike.
 */
export function anthropicBatchStatus(batch: ReceivedBatch): BatchStatus {
  const counts = countsOf(batch);
  const providerState = batch.processing_status ?? 'unknown';
  let state: BatchStatus['state'] = 'running';
  if (providerState === 'ended') state = counts.expired > 0 ? 'expired' : counts.canceled > 0 ? 'cancelled' : 'ended';
  return {
    state,
    providerState,
    counts: { total: counts.total, succeeded: counts.succeeded, failed: counts.errored + counts.canceled + counts.expired },
  };
}

/** The parts of one results line that are read, as it may arrive. */
interface ReceivedResultLine {
  readonly custom_id?: unknown;
  readonly result?: {
    readonly type?: string;
    readonly message?: ReceivedMessage | null;
    /** An error response (`{type: 'error', error: {type, message}}`); a bare error object is read too. */
    readonly error?: {
      readonly type?: string;
      readonly message?: string;
      readonly error?: { readonly type?: string; readonly message?: string };
    };
  } | null;
}

/**
 * One line of a batch's results as a {@link BatchResult}: a success is parsed exactly as a real-time
 * answer; an `errored` line is retryable by its error type; `expired` and `canceled` requests were
 * never processed, so asking again may succeed.
 */
export function anthropicBatchResult(line: ReceivedResultLine, model: string, secrets: readonly string[]): BatchResult {
  const customId = line.custom_id;
  if (typeof customId !== 'string') {
    throw new TeacherRetryableError(`Anthropic sent a results line without a custom_id: ${JSON.stringify(line).slice(0, 200)}`, null, null);
  }
  const redact = (text: string) => redactText(text, secrets);
  const result = line.result ?? {};
  switch (result.type) {
    case 'succeeded':
      try {
        return { customId, status: 'answered', response: messageResponse(result.message, model) };
      } catch (error) {
        return { customId, status: 'failed', reason: redact((error as Error).message), retryable: true };
      }
    case 'errored': {
      const error = result.error?.error ?? result.error ?? {};
      const type = error.type ?? 'unknown_error';
      return {
        customId,
        status: 'failed',
        reason: redact(`${type}: ${error.message ?? ''}`.trim()),
        retryable: retryableErrorTypes.has(type),
      };
    }
    case 'expired':
      return {
        customId,
        status: 'failed',
        reason: 'expired: the batch ended (24 hours passed) before this request was processed',
        retryable: true,
      };
    case 'canceled':
      return { customId, status: 'failed', reason: 'canceled: the batch was cancelled before this request was processed', retryable: true };
    default:
      // A result type this version does not know: not asked again blindly, since it may be paid for.
      return { customId, status: 'failed', reason: redact(`unknown result type ${JSON.stringify(result.type)}`), retryable: false };
  }
}

/** Whether a custom id was made for `label` (`<label>-<n>`, the naming the core gives batch items). */
function carriesLabel(customId: unknown, label: string): boolean {
  return typeof customId === 'string' && customId.startsWith(`${label}-`) && /^\d+$/.test(customId.slice(label.length + 1));
}

/** What to throw for a failed call: the abort's reason, a {@link BatchNotFoundError} for an unknown id, else the translated error. */
function failure(error: unknown, settings: AnthropicBatchSettings, signal: AbortSignal, batchId?: string): unknown {
  if (signal.aborted) return signal.reason;
  if (batchId !== undefined && (error as { status?: unknown } | null)?.status === 404) {
    const detail = redactText((error as Error).message, settings.errorContext.secrets ?? []);
    return new BatchNotFoundError(`Anthropic knows no Message Batch ${batchId} (404): ${detail}`, batchId);
  }
  return translateProviderError(error, { ...settings.errorContext, now: settings.clock.now() });
}

/**
 * The body of a create call for these requests, refused with a `UserError` when the API would
 * refuse it for its size, before anything is sent (and paid).
 */
function batchBody<Request>(requests: Request[], plugin: string): { requests: Request[] } {
  const count = `${requests.length} request${requests.length === 1 ? '' : 's'}`;
  if (requests.length > anthropicBatchLimits.maxRequests) {
    throw new UserError({
      message: `a Message Batch of ${count} is over Anthropic's limit of ${anthropicBatchLimits.maxRequests} requests per batch`,
      plugin,
      fix: 'lower teacher.batch.max_requests_per_batch',
    });
  }
  const body = { requests };
  const bytes = Buffer.byteLength(JSON.stringify(body));
  if (bytes > anthropicBatchLimits.maxBytes) {
    const megabytes = (value: number) => (value / 1e6).toFixed(1);
    throw new UserError({
      message: `a Message Batch of ${count} is ${megabytes(bytes)} MB, over Anthropic's limit of 256 MB per batch (distill keeps to ${megabytes(anthropicBatchLimits.maxBytes)} MB)`,
      plugin,
      fix:
        requests.length > 1
          ? 'lower teacher.batch.max_requests_per_batch'
          : 'this one request is too large for a batch: shorten its input, or use teacher.mode: realtime',
    });
  }
  return body;
}

/** Checks that a batch has results on the teacher's own origin: the SDK sends the API key to its `results_url`. */
function checkResultsUrl(batch: ReceivedBatch, batchId: string, settings: AnthropicBatchSettings): void {
  if (!batch.results_url) {
    throw new Error(`Anthropic's Message Batch ${batchId} has no results yet (processing status ${batch.processing_status ?? 'unknown'})`);
  }
  const expected = new URL(settings.baseUrl).origin;
  const origin = URL.canParse(batch.results_url) ? new URL(batch.results_url).origin : batch.results_url;
  if (origin !== expected) {
    throw new UserError({
      message: `Anthropic's Message Batch ${batchId} has its results at ${redactText(origin, settings.errorContext.secrets ?? [])}, not at the teacher's base_url (${expected}); the API key is not sent elsewhere`,
      plugin: settings.errorContext.plugin,
      fix: "use a base_url whose batches' results_url points back to it, or Anthropic's own API",
    });
  }
}

/** Whether an ended batch's results name `label` (read from its first line only). */
async function resultsCarryLabel(client: Anthropic, batchId: string, label: string, signal: AbortSignal): Promise<boolean> {
  const lines = await client.messages.batches.results(batchId, {}, { signal, timeout: transferTimeoutMilliseconds });
  for await (const line of lines as AsyncIterable<ReceivedResultLine>) return carriesLabel(line.custom_id, label);
  return false;
}

/**
 * {@link TeacherBatchApi.find} for Anthropic, which lists batches newest first and keeps no metadata
 * on them: a candidate is a batch created at or after `submittedAfter` (less a clock allowance) with
 * `itemCount` requests. An ended candidate is checked by its results' custom ids (`<label>-<n>`).
 * Then: one whose results carry the label wins; with none left unchecked, there is none (null); a
 * single running candidate is taken (that another client submitted a batch of the same size in the
 * same minutes is unlikely, and its results would not carry this label); several running candidates
 * are refused with a `UserError`, since collecting another run's batch would be wrong and
 * resubmitting would pay twice: once they end, their results tell them apart.
 */
async function findBatch(
  client: Anthropic,
  settings: AnthropicBatchSettings,
  query: {
    readonly label: string;
    readonly itemCount: number;
    readonly submittedAfter: number;
    readonly knownBatchIds?: ReadonlySet<string>;
  },
  signal: AbortSignal,
): Promise<string | null> {
  const earliest = query.submittedAfter - clockAllowanceMilliseconds;
  const verified: string[] = [];
  const unverified: string[] = [];
  try {
    let listed = 0;
    for await (const batch of client.messages.batches.list({ limit: 100 }, { signal, timeout: settings.timeoutMilliseconds })) {
      listed += 1;
      // Newest first: once one is older than the submission, so is every one after it.
      if (Date.parse(batch.created_at) < earliest || listed > maxListedBatches) break;
      // Batches the core has on record are other submissions, whatever their size.
      if (countsOf(batch).total !== query.itemCount || query.knownBatchIds?.has(batch.id)) continue;
      if (batch.processing_status !== 'ended') unverified.push(batch.id);
      else if (await resultsCarryLabel(client, batch.id, query.label, signal)) verified.push(batch.id);
    }
  } catch (error) {
    throw failure(error, settings, signal);
  }
  if (verified.length > 0) return verified[0]!;
  if (unverified.length <= 1) return unverified[0] ?? null;
  throw new UserError({
    message: `Anthropic holds ${unverified.length} running Message Batches of ${query.itemCount} requests created since this run's submission "${query.label}" (${unverified.join(', ')}); distill cannot tell which one is this run's until they end`,
    plugin: settings.errorContext.plugin,
    fix: 'run again once those batches have ended (their results name their submission), or cancel the ones this run did not submit',
  });
}

/**
 * Anthropic's Message Batches API as a {@link TeacherBatchApi}, through the official SDK's
 * `client.messages.batches`. Each item goes as `{custom_id, params}` with the params a real-time
 * `complete` call sends (model, max_tokens, messages, system, temperature), and each result line is
 * parsed as a real-time answer, so batch and real-time answers are alike.
 *
 * Anthropic keeps no metadata on a batch, so the `label` is not sent: {@link TeacherBatchApi.find}
 * recognises a batch by its time and size, and by its results' custom ids, which the core names
 * `<label>-<n>`.
 */
export function anthropicBatchApi(client: Anthropic, settings: AnthropicBatchSettings): TeacherBatchApi {
  const secrets = settings.errorContext.secrets ?? [];
  const shortCall = (signal: AbortSignal) => ({ signal, timeout: settings.timeoutMilliseconds });
  // A batch body may be 256 MB, far more than one Messages API call.
  const transferCall = (signal: AbortSignal) => ({ signal, timeout: Math.max(settings.timeoutMilliseconds, transferTimeoutMilliseconds) });
  const batchRequest = (item: BatchItem) => ({ custom_id: item.customId, params: messageParameters(settings.message, item.request) });

  return {
    limits: anthropicBatchLimits,

    itemBytes: (item) => Buffer.byteLength(JSON.stringify(batchRequest(item))),

    async submit(items, _label, signal) {
      const body = batchBody(items.map(batchRequest), settings.errorContext.plugin);
      try {
        return (await client.messages.batches.create(body, transferCall(signal))).id;
      } catch (error) {
        throw failure(error, settings, signal);
      }
    },

    find: (label, itemCount, submittedAfter, signal, knownBatchIds) =>
      findBatch(client, settings, { label, itemCount, submittedAfter, knownBatchIds }, signal),

    async status(batchId, signal) {
      try {
        return anthropicBatchStatus(await client.messages.batches.retrieve(batchId, {}, shortCall(signal)));
      } catch (error) {
        throw failure(error, settings, signal, batchId);
      }
    },

    async *results(batchId, signal) {
      let lines: AsyncIterable<ReceivedResultLine>;
      try {
        checkResultsUrl(await client.messages.batches.retrieve(batchId, {}, shortCall(signal)), batchId, settings);
        lines = await client.messages.batches.results(batchId, {}, transferCall(signal));
      } catch (error) {
        throw error instanceof UserError ? error : failure(error, settings, signal, batchId);
      }
      try {
        for await (const line of lines) yield anthropicBatchResult(line, settings.message.model, secrets);
      } catch (error) {
        // A download cut short, or a line that is not JSON: collecting again may well succeed.
        throw error instanceof TeacherRetryableError ? error : failure(error, settings, signal);
      }
    },

    async cancel(batchId, signal) {
      try {
        await client.messages.batches.cancel(batchId, {}, shortCall(signal));
      } catch (error) {
        throw failure(error, settings, signal, batchId);
      }
    },
  };
}
