import type OpenAI from 'openai';
import type { BatchResult } from '../../../core/plugins/kinds/teacher-batch.js';
import { TeacherRetryableError, type TeacherResponse } from '../../../core/plugins/kinds/teacher.js';

/** Longest line of a results file: a chat completion is a few kilobytes; anything this long is not one. */
const maxResultLineCharacters = 16 * 1024 * 1024;

/**
 * Error-file codes of requests that never ran, which another batch may well get done (the batch
 * API's request output object: `batch_expired`, `batch_cancelled`, `request_timeout`).
 */
const retryableLineCodes = new Set(['batch_expired', 'batch_cancelled', 'request_timeout']);

/** What reading a batch's results needs from the teacher. */
export interface ResultsReading {
  readonly client: OpenAI;
  /** Reads a chat completion as `complete` does. */
  readonly responseOf: (completion: unknown) => TeacherResponse;
  /** The teacher's translation of SDK errors (redacted, typed). */
  readonly translateError: (error: unknown) => Error;
  /** Removes secrets from provider text. */
  readonly redact: (text: string) => string;
  /** The error for a failed download: a 404 means the file is gone, like an unknown batch. */
  readonly failure: (error: unknown, signal: AbortSignal, batchId: string, what: string) => unknown;
}

/** One line of a batch's output or error file as it may arrive (the batch API's request output object). */
interface ReceivedOutputLine {
  readonly custom_id?: unknown;
  readonly response?: { readonly status_code?: unknown; readonly body?: unknown } | null;
  readonly error?: { readonly code?: unknown; readonly message?: unknown } | null;
}

/** The chunks of a download, with a broken-off transfer (a reset, a timeout) translated as the teacher translates errors. */
async function* chunksOf(body: ReadableStream<Uint8Array>, reading: ResultsReading, signal: AbortSignal): AsyncGenerator<Uint8Array> {
  const iterator = (body as unknown as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
  for (;;) {
    let next: IteratorResult<Uint8Array>;
    try {
      next = await iterator.next();
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      throw reading.translateError(error);
    }
    if (next.done) return;
    yield next.value;
  }
}

/** The lines of a downloaded file as it streams in, holding no more than one (bounded) line and one chunk. */
async function* textLines(chunks: AsyncIterable<Uint8Array>, describe: string): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let pending = '';
  for await (const chunk of chunks) {
    // Only the new text is searched for line ends, so a long line costs its length once, not once per chunk.
    const [rest, ...next] = decoder.decode(chunk, { stream: true }).split('\n');
    pending += rest ?? '';
    for (const part of next) {
      const line = pending.trim();
      if (line) yield line;
      pending = part;
    }
    if (pending.length > maxResultLineCharacters)
      throw new Error(`${describe} has a line longer than ${maxResultLineCharacters} characters`);
  }
  pending = (pending + decoder.decode()).trim();
  if (pending) yield pending;
}

/** The result one line stands for. */
export function resultOfLine(line: ReceivedOutputLine, customId: string, reading: ResultsReading): BatchResult {
  const response = line.response ?? null;
  if (response?.status_code === 200) {
    try {
      return { customId, status: 'answered', response: reading.responseOf(response.body) };
    } catch (error) {
      // A malformed completion (no choices): another try may well get a proper one.
      return { customId, status: 'failed', reason: reading.redact((error as Error).message), retryable: true };
    }
  }
  if (typeof response?.status_code === 'number') {
    // The request's own HTTP answer, judged exactly as a real-time call's error: 429 and 5xx may succeed later, 400 will not.
    const body = response.body as { error?: { message?: unknown } } | null | undefined;
    const message = typeof body?.error?.message === 'string' ? body.error.message : JSON.stringify(body ?? null).slice(0, 200);
    const translated = reading.translateError({ status: response.status_code, message });
    return { customId, status: 'failed', reason: translated.message, retryable: translated instanceof TeacherRetryableError };
  }
  const code = typeof line.error?.code === 'string' ? line.error.code : 'unknown';
  const message = typeof line.error?.message === 'string' ? line.error.message : 'no reason given';
  return {
    customId,
    status: 'failed',
    reason: reading.redact(`OpenAI batch request failed (${code}): ${message}`),
    retryable: retryableLineCodes.has(code),
  };
}

/**
 * The results of a batch that stopped, one per line of its output file (the 200s) and then of its
 * error file (non-200 answers, requests that never ran). Files are streamed, never held whole.
 */
export async function* batchResults(
  batch: OpenAI.Batches.Batch,
  reading: ResultsReading,
  signal: AbortSignal,
): AsyncGenerator<BatchResult> {
  for (const fileId of [batch.output_file_id, batch.error_file_id]) {
    if (!fileId) continue;
    const describe = `the results file ${fileId} of OpenAI batch ${batch.id}`;
    let download: Response;
    try {
      download = await reading.client.files.content(fileId, { signal });
    } catch (error) {
      throw reading.failure(error, signal, batch.id, describe);
    }
    if (!download.body) continue;
    for await (const text of textLines(chunksOf(download.body, reading, signal), describe)) {
      let line: ReceivedOutputLine;
      try {
        line = JSON.parse(text) as ReceivedOutputLine;
      } catch {
        throw new TeacherRetryableError(`${describe} has a line that is not JSON: ${reading.redact(text.slice(0, 200))}`, null, null);
      }
      if (typeof line.custom_id !== 'string')
        throw new TeacherRetryableError(`${describe} has a line without a custom_id: ${reading.redact(text.slice(0, 200))}`, null, null);
      yield resultOfLine(line, line.custom_id, reading);
    }
  }
}
