import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable, pipeline } from 'node:stream';
import { fixture, lastUserContent, successBody } from './provider-server.js';

/*
 * Response shapes come from recordings in `fixtures/anthropic-batch-*.json`, taken from Anthropic's API
 * reference (platform.claude.com/docs/en/api/messages/batches: create, retrieve, list, cancel,
 * results, and the JSONL result lines of docs/en/build-with-claude/batch-processing), with the
 * Messages API answer inside a result from `fixtures/anthropic-message.json` (through
 * `successBody('anthropic', …)`). Error bodies follow the recorded `anthropic-error-*.json` shape.
 */

/** One request of a created batch, as the script sees it. */
export interface SubmittedBatchRequest {
  readonly batchId: string;
  readonly customId: string;
  /** The request's `params` as sent (model, max_tokens, messages, system, temperature…). */
  readonly params: Readonly<Record<string, unknown>>;
  /** Content of the last user message. */
  readonly prompt: string;
  /** 1 the first time a request with these messages is submitted (in any batch), 2 the second time, … */
  readonly submission: number;
}

/** What becomes of one request of a batch. */
export type BatchLineStep =
  /** Succeeds with the recorded Messages API answer, this text (and usage, if given). */
  | {
      readonly kind: 'answer';
      readonly text: string;
      readonly usage?: { readonly promptTokens: number; readonly completionTokens: number };
    }
  /** An `errored` result line with this error type (`overloaded_error`, `invalid_request_error`, …). */
  | { readonly kind: 'error'; readonly errorType: string; readonly message?: string }
  /** Never processed: the request is still unfinished when the batch ends, so its line is `expired`. */
  | { readonly kind: 'expire' }
  /** Counted as succeeded, but its results line is cut off mid-JSON (a corrupted download). */
  | { readonly kind: 'malformed' };

/** Decides, when a batch is created, what becomes of each of its requests. */
export type BatchLineScript = (request: SubmittedBatchRequest) => BatchLineStep;

/** The endpoints of the Message Batches API the server speaks. */
export type BatchRoute = 'create' | 'retrieve' | 'list' | 'cancel' | 'results';

/** One HTTP call the server answered (or began to answer: the client may have gone). */
export interface BatchServerCall {
  readonly method: string;
  readonly route: BatchRoute | 'unknown';
  readonly batchId: string | null;
  readonly status: number;
}

/**
 * Makes a call fail instead of being served: returns the name of a recorded error
 * (`fixtures/<name>.json` with status, headers and body, e.g. `anthropic-error-overloaded`), or null
 * to serve the call normally. A failed create creates nothing.
 */
export type BatchServerFault = (call: {
  readonly method: string;
  readonly route: BatchRoute;
  readonly batchId: string | null;
}) => string | null;

/** Options of {@link startAnthropicBatchServer}. */
export interface AnthropicBatchServerOptions {
  /** Default: every request answers `answer to: <prompt>`. */
  readonly script?: BatchLineScript;
  /**
   * Retrieves of a batch that answer `in_progress` before it ends (default 1): after poll `k` of `n`,
   * `k/n` of its requests have their result, as `request_counts` shows. 0 ends a batch when it is created.
   */
  readonly pollsUntilEnded?: number;
  /** When set, any other key gets the recorded 401 (`anthropic-error-invalid-key`). */
  readonly apiKey?: string;
  /** Largest request body accepted (default 256 MB, Anthropic's documented limit); larger gets a recorded 413. */
  readonly maxBodyBytes?: number;
  /** Clock for `created_at`, `ended_at`… (default `Date.now`). */
  readonly now?: () => number;
}

/** What the server holds of one batch, for assertions. */
export interface BatchView {
  readonly id: string;
  readonly processingStatus: 'in_progress' | 'canceling' | 'ended';
  readonly customIds: readonly string[];
  readonly prompts: readonly string[];
  /** Each request's `params` as received. */
  readonly params: readonly Readonly<Record<string, unknown>>[];
  /** The result type each request has or will have, in submission order (`processing` while unfinished). */
  readonly outcomes: readonly ('succeeded' | 'errored' | 'expired' | 'canceled' | 'processing')[];
}

/**
 * A loopback HTTP server speaking Anthropic's Message Batches wire protocol as the official SDK uses
 * it: `POST /v1/messages/batches`, `GET /v1/messages/batches/{id}`, `GET /v1/messages/batches`
 * (`before_id`, `after_id`, `limit`; newest first), `POST /v1/messages/batches/{id}/cancel`, and the
 * JSONL results at each ended batch's `results_url`.
 *
 * Built for tests that kill the client at any point: a batch exists once its whole create body has
 * arrived (a body cut short creates nothing, as with the real API), state lives in the server (the
 * test process), a client that disappears mid-answer is ignored, and the counters say what was paid
 * for: {@link AnthropicBatchServer.batchesCreated} and, per request, how many times its messages
 * were submitted ({@link AnthropicBatchServer.submissionsFor}).
 */
export interface AnthropicBatchServer {
  /** Origin for the SDK's `baseURL` (`http://127.0.0.1:<port>`). */
  readonly baseUrl: string;
  /** Decides each new request's result; may be replaced between batches. */
  script: BatchLineScript;
  /** Retrieves that answer `in_progress` before a batch ends; applies to batches not yet ended. */
  pollsUntilEnded: number;
  /** Makes calls fail (see {@link BatchServerFault}); null serves every call. */
  fault: BatchServerFault | null;
  /**
   * Origin put in `results_url` instead of the server's own (null: its own), as a gateway that passes
   * Anthropic's answers through unchanged would; a client must not send its key there.
   */
  resultsOrigin: string | null;
  /** When set, a results download closes the connection after this many lines (a download cut short). */
  cutResultsAfter: number | null;
  /**
   * Milliseconds between creating a batch and answering the create call (default 0): a client killed
   * in this window leaves a batch the provider holds but whose id the client never read.
   */
  createAnswerDelay: number;
  /** Batches accepted so far (forgotten ones included). */
  readonly batchesCreated: number;
  /** Requests accepted so far, over all batches. */
  readonly requestsSubmitted: number;
  /** How many times requests whose last user message is `prompt` were submitted, in accepted batches. */
  submissionsFor(prompt: string): number;
  /** How many times requests with exactly these `messages` (as sent) were submitted. */
  submissionsOf(messages: unknown): number;
  /** The most times any one request (by its messages) was submitted: 1 when nothing was sent twice, 0 before any. */
  readonly maxSubmissions: number;
  /** Every call answered, in order. */
  readonly calls: readonly BatchServerCall[];
  /** Ids of the batches the server knows (not forgotten), oldest first. */
  batchIds(): string[];
  /** A batch's state, or undefined when unknown or forgotten. */
  batch(batchId: string): BatchView | undefined;
  /**
   * Ends a batch as Anthropic does when its 24 hours pass: the first `keep` requests (default: those
   * already finished by the polls so far) get their results, every other one an `expired` line.
   */
  expire(batchId: string, keep?: number): void;
  /** Forgets a batch: every call about it answers the recorded 404, and the list leaves it out. */
  forget(batchId: string): void;
  close(): Promise<void>;
}

type Outcome = 'succeeded' | 'errored' | 'expired' | 'canceled';

interface StoredRequest {
  readonly customId: string;
  readonly params: Record<string, unknown>;
  readonly prompt: string;
  readonly step: BatchLineStep;
  outcome: Outcome | null;
}

interface StoredBatch {
  readonly id: string;
  readonly createdAt: number;
  readonly requests: StoredRequest[];
  processingStatus: 'in_progress' | 'canceling' | 'ended';
  polls: number;
  endedAt: number | null;
  cancelInitiatedAt: number | null;
}

/** Anthropic's documented limit on requests per batch. */
const maxRequestsPerBatch = 100_000;
/** Anthropic's documented limit on a batch's size. */
const defaultMaxBodyBytes = 256 * 1024 * 1024;
/** Custom ids the API accepts. */
const customIdPattern = /^[a-zA-Z0-9_-]{1,64}$/;
const idAlphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function randomId(prefix: string): string {
  return prefix + [...randomBytes(22)].map((byte) => idAlphabet[byte % idAlphabet.length]).join('');
}

/** RFC 3339 with microseconds, as Anthropic writes its times. */
function timestamp(milliseconds: number): string {
  return new Date(milliseconds).toISOString().replace(/Z$/, '000Z');
}

/** The outcome a finished request gets from its step (an `expire` step never finishes by itself). */
function outcomeOf(step: BatchLineStep): Outcome | null {
  if (step.kind === 'answer' || step.kind === 'malformed') return 'succeeded';
  if (step.kind === 'error') return 'errored';
  return null;
}

function requestCounts(batch: StoredBatch): Record<string, number> {
  const counts = { canceled: 0, errored: 0, expired: 0, processing: 0, succeeded: 0 };
  for (const request of batch.requests) counts[request.outcome ?? 'processing'] += 1;
  return counts;
}

/** The batch as the API shows it: the recorded `message_batch` object with this batch's values. */
function batchObject(batch: StoredBatch, origin: string): Record<string, unknown> {
  return {
    ...fixture('anthropic-batch-message-batch'),
    id: batch.id,
    archived_at: null,
    cancel_initiated_at: batch.cancelInitiatedAt === null ? null : timestamp(batch.cancelInitiatedAt),
    created_at: timestamp(batch.createdAt),
    ended_at: batch.endedAt === null ? null : timestamp(batch.endedAt),
    expires_at: timestamp(batch.createdAt + 24 * 3600 * 1000),
    processing_status: batch.processingStatus,
    request_counts: requestCounts(batch),
    results_url: batch.processingStatus === 'ended' ? `${origin}/v1/messages/batches/${batch.id}/results` : null,
  };
}

/** One line of a batch's results file, from the recorded lines. */
function resultLine(request: StoredRequest): Record<string, unknown> {
  const recorded = fixture('anthropic-batch-result-lines') as Record<Outcome, { result: Record<string, unknown> }>;
  const outcome = request.outcome ?? 'expired';
  const result = recorded[outcome].result;
  if (outcome === 'succeeded' && request.step.kind === 'answer') {
    result.message = { ...successBody('anthropic', request.step.text, request.step.usage), id: randomId('msg_01') };
  }
  if (outcome === 'errored' && request.step.kind === 'error') {
    const error = result.error as { error: { type: string; message: string } };
    error.error = {
      type: request.step.errorType,
      message: request.step.message ?? `${request.step.errorType} while processing this request`,
    };
  }
  return { custom_id: request.customId, result };
}

/** The route and batch id of a path, or null for a path the API does not have. */
function routeOf(method: string, pathname: string): { route: BatchRoute; batchId: string | null } | null {
  if (pathname === '/v1/messages/batches') {
    if (method === 'POST') return { route: 'create', batchId: null };
    if (method === 'GET') return { route: 'list', batchId: null };
    return null;
  }
  const match = /^\/v1\/messages\/batches\/([^/]+)(\/cancel|\/results)?$/.exec(pathname);
  if (!match) return null;
  const batchId = decodeURIComponent(match[1]!);
  if (match[2] === '/cancel') return method === 'POST' ? { route: 'cancel', batchId } : null;
  if (match[2] === '/results') return method === 'GET' ? { route: 'results', batchId } : null;
  return method === 'GET' ? { route: 'retrieve', batchId } : null;
}

/**
 * Starts an {@link AnthropicBatchServer} on 127.0.0.1 (port chosen by the system).
 *
 * @example
 * const server = await startAnthropicBatchServer({ pollsUntilEnded: 2 });
 * server.script = (request) => (request.submission === 1 ? { kind: 'expire' } : { kind: 'answer', text: 'Answer: yes' });
 * // … run the teacher with base_url: server.baseUrl …
 * assert.equal(server.maxSubmissions, 2);
 */
export async function startAnthropicBatchServer(options: AnthropicBatchServerOptions = {}): Promise<AnthropicBatchServer> {
  const now = options.now ?? Date.now;
  const maxBodyBytes = options.maxBodyBytes ?? defaultMaxBodyBytes;
  const batches = new Map<string, StoredBatch>();
  const forgotten = new Set<string>();
  const byPrompt = new Map<string, number>();
  const byMessages = new Map<string, number>();
  const calls: BatchServerCall[] = [];
  const settings: {
    script: BatchLineScript;
    pollsUntilEnded: number;
    fault: BatchServerFault | null;
    resultsOrigin: string | null;
    cutResultsAfter: number | null;
    createAnswerDelay: number;
  } = {
    script: options.script ?? ((request) => ({ kind: 'answer', text: `answer to: ${request.prompt}` })),
    pollsUntilEnded: options.pollsUntilEnded ?? 1,
    fault: null,
    resultsOrigin: null,
    cutResultsAfter: null,
    createAnswerDelay: 0,
  };
  let created = 0;
  let submitted = 0;
  let origin = '';

  const finish = (batch: StoredBatch, unfinished: Outcome) => {
    for (const request of batch.requests) request.outcome ??= unfinished;
    batch.processingStatus = 'ended';
    batch.endedAt = now();
  };

  /** One poll of a running batch: a further share of its requests finish, and at the last poll it ends. */
  const advance = (batch: StoredBatch) => {
    if (batch.processingStatus === 'canceling') {
      finish(batch, 'canceled');
      return;
    }
    if (batch.processingStatus !== 'in_progress') return;
    batch.polls += 1;
    const total = settings.pollsUntilEnded;
    const done = total <= 0 ? batch.requests.length : Math.ceil((batch.requests.length * Math.min(batch.polls, total)) / total);
    batch.requests.slice(0, done).forEach((request) => (request.outcome ??= outcomeOf(request.step)));
    if (batch.polls >= total) finish(batch, 'expired');
  };

  const known = (batchId: string | null) => (batchId !== null && !forgotten.has(batchId) ? batches.get(batchId) : undefined);

  const server = http.createServer((incoming, outgoing) => {
    // A client killed mid-request or mid-answer: nothing to do but let the socket go.
    incoming.on('error', () => undefined);
    outgoing.on('error', () => undefined);
    const url = new URL(incoming.url ?? '/', origin);
    const method = incoming.method ?? 'GET';
    const found = routeOf(method, url.pathname);
    const record = (status: number) => calls.push({ method, route: found?.route ?? 'unknown', batchId: found?.batchId ?? null, status });
    const sendJson = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      record(status);
      if (outgoing.destroyed) return;
      outgoing
        .writeHead(status, { 'content-type': 'application/json', 'request-id': randomId('req_01'), ...headers })
        .end(JSON.stringify(body));
    };
    const sendRecorded = (name: string, message?: string) => {
      const recorded = fixture(name) as { status: number; headers: Record<string, string>; body: { error: { message: string } } };
      if (message !== undefined) recorded.body.error.message = message;
      sendJson(recorded.status, recorded.body, recorded.headers);
    };
    const invalid = (message: string) => sendRecorded('anthropic-batch-error-invalid-request', message);
    const notFound = (batchId: string) => sendRecorded('anthropic-batch-error-not-found', `Message Batch ${batchId} not found.`);

    const key = incoming.headers['x-api-key'] ?? incoming.headers.authorization?.replace(/^Bearer /, '');
    if (options.apiKey !== undefined && key !== options.apiKey) {
      incoming.resume();
      {
        sendRecorded('anthropic-error-invalid-key');
        return;
      }
    }
    if (!found) {
      incoming.resume();
      {
        sendJson(404, { type: 'error', error: { type: 'not_found_error', message: `no route ${method} ${url.pathname}` } });
        return;
      }
    }
    const faultName = settings.fault?.({ method, route: found.route, batchId: found.batchId }) ?? null;
    if (faultName !== null) {
      incoming.resume();
      {
        sendRecorded(faultName);
        return;
      }
    }

    if (found.route === 'create') {
      const chunks: Buffer[] = [];
      let size = 0;
      let refused = false;
      incoming.on('data', (chunk: Buffer) => {
        if (refused) return;
        size += chunk.length;
        if (size > maxBodyBytes) {
          refused = true;
          chunks.length = 0;
          sendRecorded('anthropic-batch-error-too-large');
          // Stop reading the rest of an oversized body.
          outgoing.on('finish', () => incoming.socket.destroy());
          return;
        }
        chunks.push(chunk);
      });
      // Only a whole body creates a batch: 'end' never comes for a client killed mid-upload.
      incoming.on('end', () => {
        if (!refused) createBatch(Buffer.concat(chunks), sendJson, invalid);
      });
      return;
    }
    incoming.resume();
    const batch = known(found.batchId);
    if (found.route === 'list') {
      listBatches(url.searchParams, sendJson, invalid);
      return;
    }
    if (!batch) {
      notFound(found.batchId!);
      return;
    }
    if (found.route === 'retrieve') {
      advance(batch);
      {
        sendJson(200, batchObject(batch, settings.resultsOrigin ?? origin));
        return;
      }
    }
    if (found.route === 'cancel') {
      if (batch.processingStatus === 'in_progress') {
        batch.processingStatus = 'canceling';
        batch.cancelInitiatedAt = now();
      }
      {
        sendJson(200, batchObject(batch, settings.resultsOrigin ?? origin));
        return;
      }
    }
    if (batch.processingStatus !== 'ended') {
      invalid(`Message Batch ${batch.id} has not finished processing.`);
      return;
    }
    record(200);
    outgoing.writeHead(200, { 'content-type': 'application/binary', 'request-id': randomId('req_01') });
    const lines = batch.requests.map((request) => {
      const text = JSON.stringify(resultLine(request));
      return `${request.step.kind === 'malformed' ? text.slice(0, Math.floor(text.length / 2)) : text}\n`;
    });
    const cut = settings.cutResultsAfter;
    if (cut !== null) {
      outgoing.write(lines.slice(0, cut).join(''), () => incoming.socket.destroy());
      return;
    }
    // A client that goes mid-download ends the pipeline with an error, which is all there is to it.
    pipeline(Readable.from(lines), outgoing, () => undefined);
  });

  function createBatch(body: Buffer, sendJson: (status: number, body: unknown) => void, invalid: (message: string) => void): void {
    let parsed: { requests?: unknown } | null;
    try {
      parsed = JSON.parse(body.toString('utf8')) as { requests?: unknown } | null;
    } catch {
      invalid('The request body is not valid JSON.');
      return;
    }
    const requests = parsed?.requests;
    if (!Array.isArray(requests) || requests.length === 0) {
      invalid('requests: must be a non-empty list');
      return;
    }
    if (requests.length > maxRequestsPerBatch) {
      invalid(`requests: at most ${maxRequestsPerBatch} requests per batch`);
      return;
    }
    const seen = new Set<string>();
    for (const [index, request] of (requests as ({ custom_id?: unknown; params?: Record<string, unknown> | null } | null)[]).entries()) {
      const customId = request?.custom_id;
      if (typeof customId !== 'string' || !customIdPattern.test(customId)) {
        invalid(`requests.${index}.custom_id: must match ^[a-zA-Z0-9_-]{1,64}$`);
        return;
      }
      if (seen.has(customId)) {
        invalid(`requests.${index}.custom_id: "${customId}" is not unique within the batch`);
        return;
      }
      seen.add(customId);
      const params = request?.params;
      if (typeof params?.model !== 'string' || typeof params.max_tokens !== 'number' || !Array.isArray(params.messages)) {
        invalid(`requests.${index}.params: model, max_tokens and messages are required`);
        return;
      }
    }
    const id = randomId('msgbatch_01');
    const batch: StoredBatch = {
      id,
      createdAt: now(),
      requests: [],
      processingStatus: 'in_progress',
      polls: 0,
      endedAt: null,
      cancelInitiatedAt: null,
    };
    for (const request of requests as { custom_id: string; params: Record<string, unknown> }[]) {
      const prompt = lastUserContent(request.params.messages);
      const messagesKey = JSON.stringify(request.params.messages);
      const submission = (byMessages.get(messagesKey) ?? 0) + 1;
      byMessages.set(messagesKey, submission);
      byPrompt.set(prompt, (byPrompt.get(prompt) ?? 0) + 1);
      const step = settings.script({ batchId: id, customId: request.custom_id, params: request.params, prompt, submission });
      batch.requests.push({ customId: request.custom_id, params: request.params, prompt, step, outcome: null });
    }
    batches.set(id, batch);
    created += 1;
    submitted += batch.requests.length;
    if (settings.pollsUntilEnded <= 0) advance(batch);
    const answer = () => sendJson(200, batchObject(batch, settings.resultsOrigin ?? origin));
    if (settings.createAnswerDelay > 0) setTimeout(answer, settings.createAnswerDelay);
    else answer();
  }

  function listBatches(
    query: URLSearchParams,
    sendJson: (status: number, body: unknown) => void,
    invalid: (message: string) => void,
  ): void {
    const limit = query.has('limit') ? Number(query.get('limit')) : 20;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      invalid('limit: must be an integer from 1 to 1000');
      return;
    }
    // Newest first, as the API lists them.
    const listed = [...batches.values()].filter((batch) => !forgotten.has(batch.id)).reverse();
    const afterId = query.get('after_id');
    const beforeId = query.get('before_id');
    let start = 0;
    let end: number;
    if (afterId !== null) {
      const at = listed.findIndex((batch) => batch.id === afterId);
      if (at < 0) {
        invalid(`after_id: unknown Message Batch ${afterId}`);
        return;
      }
      start = at + 1;
      end = Math.min(listed.length, start + limit);
    } else if (beforeId !== null) {
      const at = listed.findIndex((batch) => batch.id === beforeId);
      if (at < 0) {
        invalid(`before_id: unknown Message Batch ${beforeId}`);
        return;
      }
      end = at;
      start = Math.max(0, end - limit);
    } else {
      end = Math.min(listed.length, limit);
    }
    const page = listed.slice(start, end);
    const hasMore = beforeId !== null ? start > 0 : end < listed.length;
    sendJson(200, {
      ...fixture('anthropic-batch-list'),
      data: page.map((batch) => batchObject(batch, settings.resultsOrigin ?? origin)),
      has_more: hasMore,
      first_id: page[0]?.id ?? null,
      last_id: page.at(-1)?.id ?? null,
    });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  origin = `http://127.0.0.1:${port}`;

  const view = (batch: StoredBatch): BatchView => ({
    id: batch.id,
    processingStatus: batch.processingStatus,
    customIds: batch.requests.map((request) => request.customId),
    prompts: batch.requests.map((request) => request.prompt),
    params: batch.requests.map((request) => request.params),
    outcomes: batch.requests.map((request) => request.outcome ?? 'processing'),
  });

  return {
    baseUrl: origin,
    get script() {
      return settings.script;
    },
    set script(next: BatchLineScript) {
      settings.script = next;
    },
    get pollsUntilEnded() {
      return settings.pollsUntilEnded;
    },
    set pollsUntilEnded(next: number) {
      settings.pollsUntilEnded = next;
    },
    get resultsOrigin() {
      return settings.resultsOrigin;
    },
    set resultsOrigin(next: string | null) {
      settings.resultsOrigin = next;
    },
    get createAnswerDelay() {
      return settings.createAnswerDelay;
    },
    set createAnswerDelay(next: number) {
      settings.createAnswerDelay = next;
    },
    get cutResultsAfter() {
      return settings.cutResultsAfter;
    },
    set cutResultsAfter(next: number | null) {
      settings.cutResultsAfter = next;
    },
    get fault() {
      return settings.fault;
    },
    set fault(next: BatchServerFault | null) {
      settings.fault = next;
    },
    get batchesCreated() {
      return created;
    },
    get requestsSubmitted() {
      return submitted;
    },
    submissionsFor: (prompt) => byPrompt.get(prompt) ?? 0,
    submissionsOf: (messages) => byMessages.get(JSON.stringify(messages)) ?? 0,
    get maxSubmissions() {
      return Math.max(0, ...byMessages.values());
    },
    calls,
    batchIds: () => [...batches.keys()].filter((id) => !forgotten.has(id)),
    batch: (batchId) => {
      const batch = known(batchId);
      return batch ? view(batch) : undefined;
    },
    expire(batchId, keep) {
      const batch = known(batchId);
      if (!batch) throw new Error(`the server knows no batch ${batchId}`);
      if (batch.processingStatus === 'ended') return;
      const kept = keep ?? batch.requests.filter((request) => request.outcome !== null).length;
      batch.requests.forEach((request, index) => {
        if (index < kept) request.outcome ??= outcomeOf(request.step);
        else if (request.outcome === null) request.outcome = 'expired';
      });
      finish(batch, 'expired');
    },
    forget(batchId) {
      forgotten.add(batchId);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
