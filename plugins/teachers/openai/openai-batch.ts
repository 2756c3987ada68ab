import type OpenAI from 'openai';
import { redactText } from '../../../core/config/redact.js';
import { UserError } from '../../../core/errors/user-error.js';
import {
  BatchNotFoundError,
  type BatchItem,
  type BatchLimits,
  type BatchResult,
  type BatchStatus,
  type TeacherBatchApi,
} from '../../../core/plugins/kinds/teacher-batch.js';
import type { TeacherRequest, TeacherResponse } from '../../../core/plugins/kinds/teacher.js';
import { batchResults, type ResultsReading } from './openai-batch-results.js';

/**
 * OpenAI's documented limits on one batch: 50,000 requests and a 200 MB input file
 * (platform.openai.com/docs/guides/batch, "Rate limits"; the same numbers are in the `openai` SDK's
 * `BatchCreateParams.input_file_id` docs). Bytes are counted as 10^6, the smaller reading of "MB".
 */
export const openAiBatchLimits: BatchLimits = { maxRequests: 50_000, maxBytes: 200 * 1000 * 1000 };

/** The one endpoint distill's batches use: the same chat completions `complete` calls. */
const endpoint = '/v1/chat/completions';

/**
 * How far the provider's clock may run behind ours when {@link TeacherBatchApi.find} compares a
 * batch's `created_at` with the time the core noted before submitting: missing one's own batch means
 * paying for it twice, while the label already tells our batches from others.
 */
const clockSkewMilliseconds = 5 * 60 * 1000;

/** Batches `find` looks through at most, newest first, before it concludes the provider holds none. */
const maxListedBatches = 10_000;

/** What {@link openAiBatchApi} needs from the teacher, so that batch lines are exactly its real-time calls. */
export interface OpenAiBatchOptions {
  /** The chat-completions body `complete` sends for a request (model, messages with the system prompt, token limit, temperature). */
  readonly requestBody: (request: TeacherRequest) => object;
  /** Reads a chat completion as `complete` does, so usage, model and finish reason match real-time answers. */
  readonly responseOf: (completion: unknown) => TeacherResponse;
  /** The teacher's translation of SDK errors (`translateProviderError` with its context): redacted, typed. */
  readonly translateError: (error: unknown) => Error;
  /** Values never to repeat in a message (the API key). */
  readonly secrets: readonly string[];
  /** Where the client points, for messages: OpenAI's own API or an OpenAI-compatible server. */
  readonly baseUrl: string;
  /** `kind/id` of the teacher plugin, for user errors. */
  readonly plugin: string;
  /** How long one upload may take; a 200 MB file needs longer than one chat completion. */
  readonly uploadTimeoutMilliseconds: number;
  /** Limits to split by; OpenAI's own ({@link openAiBatchLimits}) unless a server is known to differ. */
  readonly limits?: BatchLimits;
}

/** What every call of the batch API works with. */
interface BatchCalls extends ResultsReading {
  readonly options: OpenAiBatchOptions;
  readonly limits: BatchLimits;
}

/** A size for messages: `200 MB`, `1.5 MB`, `1042 bytes`. */
function sizeText(bytes: number): string {
  return bytes >= 1e6 ? `${Number((bytes / 1e6).toFixed(1))} MB` : `${bytes} bytes`;
}

/** The HTTP status of an SDK error, when it has one. */
function statusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === 'number' ? status : undefined;
}

/** A batch's state in the contract's words: OpenAI's `validating`, `in_progress`, `finalizing`, `cancelling` are all still running. */
function stateOf(status: string): BatchStatus['state'] {
  switch (status) {
    case 'completed':
      return 'ended';
    case 'expired':
      return 'expired';
    case 'cancelled':
      return 'cancelled';
    case 'failed':
      return 'failed';
    default:
      // validating, in_progress, finalizing, cancelling, and any state OpenAI adds later: keep polling.
      return 'running';
  }
}

/** The JSONL line of one request: exactly the body `complete` sends, under the item's custom id. */
function lineOf(item: BatchItem, options: OpenAiBatchOptions): string {
  return JSON.stringify({ custom_id: item.customId, method: 'POST', url: endpoint, body: options.requestBody(item.request) });
}

async function retrieve(calls: BatchCalls, batchId: string, signal: AbortSignal): Promise<OpenAI.Batches.Batch> {
  try {
    return await calls.client.batches.retrieve(batchId, { signal });
  } catch (error) {
    throw calls.failure(error, signal, batchId, `batch ${batchId}`);
  }
}

/** Uploads the file of requests; a server without the Files API (404) is told apart from other failures. */
async function upload(calls: BatchCalls, text: string, signal: AbortSignal): Promise<string> {
  const { options } = calls;
  try {
    const file = await calls.client.files.create(
      { file: new File([text], 'distill-batch.jsonl', { type: 'application/jsonl' }), purpose: 'batch' },
      { signal, timeout: options.uploadTimeoutMilliseconds },
    );
    return file.id;
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    if (statusOf(error) === 404) {
      throw new UserError({
        message: `the server at ${options.baseUrl} does not offer OpenAI's Batch API (404 on POST /files): ${calls.redact((error as Error).message)}`,
        plugin: options.plugin,
        fix: 'use teacher.mode: realtime with this server, or a base_url that serves /v1/files and /v1/batches',
      });
    }
    throw options.translateError(error);
  }
}

async function submit(calls: BatchCalls, items: readonly BatchItem[], label: string, signal: AbortSignal): Promise<string> {
  const { options, limits } = calls;
  if (items.length === 0) throw new Error('a batch needs at least one request');
  const text = items.map((item) => `${lineOf(item, options)}\n`).join('');
  const bytes = Buffer.byteLength(text, 'utf8');
  if (items.length > limits.maxRequests || bytes > limits.maxBytes) {
    throw new UserError({
      message: `a batch of ${items.length} requests (${sizeText(bytes)}) is over OpenAI's limits of ${limits.maxRequests} requests and ${sizeText(limits.maxBytes)} per batch; nothing was sent`,
      plugin: options.plugin,
      fix: 'lower teacher.batch.max_requests_per_batch so that each batch fits, or shorten the prompts',
    });
  }
  const fileId = await upload(calls, text, signal);
  try {
    const batch = await calls.client.batches.create(
      {
        input_file_id: fileId,
        endpoint,
        completion_window: '24h',
        // The request count as well: while OpenAI validates a batch its request_counts are all 0, and `find` must still know it.
        metadata: { distill_label: label, distill_requests: String(items.length) },
      },
      { signal },
    );
    return batch.id;
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    throw options.translateError(error);
  }
}

async function find(
  calls: BatchCalls,
  label: string,
  itemCount: number,
  submittedAfter: number,
  signal: AbortSignal,
): Promise<string | null> {
  const earliest = (submittedAfter - clockSkewMilliseconds) / 1000;
  let listed = 0;
  try {
    // OpenAI lists batches newest first, so the search stops at the first one older than the submission.
    for await (const batch of calls.client.batches.list({ limit: 100 }, { signal })) {
      if (batch.created_at < earliest || ++listed > maxListedBatches) return null;
      const metadata = batch.metadata ?? {};
      const count = metadata.distill_requests !== undefined ? Number(metadata.distill_requests) : batch.request_counts?.total;
      if (metadata.distill_label === label && count === itemCount) return batch.id;
    }
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    throw calls.options.translateError(error);
  }
  return null;
}

async function status(calls: BatchCalls, batchId: string, signal: AbortSignal): Promise<BatchStatus> {
  const batch = await retrieve(calls, batchId, signal);
  const counts = batch.request_counts;
  const reasons = (batch.errors?.data ?? []).map((error) =>
    [error.message ?? error.code ?? 'no reason given', error.line ? `(line ${error.line})` : ''].filter(Boolean).join(' '),
  );
  const state = stateOf(batch.status);
  return {
    state,
    providerState: batch.status,
    counts: { total: counts?.total ?? 0, succeeded: counts?.completed ?? 0, failed: counts?.failed ?? 0 },
    ...(state === 'failed' ? { error: calls.redact(reasons.join('; ') || 'OpenAI gave no reason') } : {}),
  };
}

async function* results(calls: BatchCalls, batchId: string, signal: AbortSignal): AsyncGenerator<BatchResult> {
  const batch = await retrieve(calls, batchId, signal);
  if (stateOf(batch.status) === 'running') throw new Error(`OpenAI batch ${batchId} is still ${batch.status}: its results are not ready`);
  yield* batchResults(batch, calls, signal);
}

async function cancel(calls: BatchCalls, batchId: string, signal: AbortSignal): Promise<void> {
  try {
    await calls.client.batches.cancel(batchId, { signal });
  } catch (error) {
    const refused = statusOf(error) === 400 || statusOf(error) === 409;
    // OpenAI refuses to cancel a batch that already stopped; that batch needs no cancelling.
    if (!signal.aborted && refused && stateOf((await retrieve(calls, batchId, signal)).status) !== 'running') return;
    throw calls.failure(error, signal, batchId, `batch ${batchId}`);
  }
}

/**
 * OpenAI's Batch API as a {@link TeacherBatchApi}, through the official SDK only: the requests go up
 * as one JSONL file (`files.create`, purpose `batch`) whose lines carry exactly the body `complete`
 * sends, a batch is created on it for `/v1/chat/completions` with the label in its metadata, and the
 * results come back from its output and error files, read line by line.
 *
 * Offered for every `base_url` as well: OpenAI-compatible services that serve `/v1/batches` take the
 * same calls; a server without it (the real-time servers of vLLM, Ollama, LM Studio) answers 404 on
 * the upload, which becomes a clear error naming `teacher.mode`.
 */
export function openAiBatchApi(client: OpenAI, options: OpenAiBatchOptions): TeacherBatchApi {
  const redact = (text: string) => redactText(text, options.secrets);
  const calls: BatchCalls = {
    client,
    options,
    limits: options.limits ?? openAiBatchLimits,
    responseOf: options.responseOf,
    translateError: options.translateError,
    redact,
    failure(error, signal, batchId, what) {
      if (signal.aborted) return signal.reason as unknown;
      if (statusOf(error) !== 404) return options.translateError(error);
      return new BatchNotFoundError(
        `OpenAI at ${options.baseUrl} no longer knows ${what} (404): it was deleted, belongs to another key or organisation, or is past its retention`,
        batchId,
      );
    },
  };
  return {
    limits: calls.limits,
    itemBytes: (item) => Buffer.byteLength(lineOf(item, options), 'utf8') + 1,
    submit: (items, label, signal) => submit(calls, items, label, signal),
    find: (label, itemCount, submittedAfter, signal) => find(calls, label, itemCount, submittedAfter, signal),
    status: (batchId, signal) => status(calls, batchId, signal),
    results: (batchId, signal) => results(calls, batchId, signal),
    cancel: (batchId, signal) => cancel(calls, batchId, signal),
  };
}
