import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fixture, lastUserContent, successBody, type ServerStep } from './provider-server.js';

/** One request line of a submitted batch, as the server read it from the uploaded JSONL file. */
export interface BatchLine {
  readonly batchId: string;
  /** The line's `custom_id`. */
  readonly customId: string;
  /** The line's `body`: the chat-completions request the client would have sent in real time. */
  readonly body: Record<string, unknown>;
  /** Content of the body's last user message (the example's prompt). */
  readonly prompt: string;
  /** 1 the first time a batch held these messages, 2 the second time, … (counted over every batch). */
  readonly submission: number;
}

/** What becomes of one request line when the batch gets to it. */
export type BatchLineStep =
  /** Status 200 in the output file: a recorded chat completion with this text (and usage, else the recording's). */
  | {
      readonly kind: 'answer';
      readonly text: string;
      readonly usage?: { readonly promptTokens: number; readonly completionTokens: number };
    }
  /** A non-200 line in the error file: status and body of a recorded error (`fixtures/<name>.json`, e.g. `openai-error-server`). */
  | { readonly kind: 'error'; readonly fixture: string };

/** Decides each line's outcome; the default answers every prompt with `answer to: <prompt>`. */
export type BatchLineScript = (line: BatchLine) => BatchLineStep;

/**
 * What becomes of a whole batch. `afterPolls` is the number of `GET /v1/batches/{id}` calls after
 * which the batch shows its end state (0: already on the first poll); before that it is
 * `validating`, then `in_progress`.
 */
export type BatchPlan =
  /** Every line gets its outcome from the script; status `completed`. */
  | { readonly kind: 'complete'; readonly afterPolls?: number }
  /** The first `answered` lines get their outcome, the others a `batch_expired` line; status `expired`. */
  | { readonly kind: 'expire'; readonly answered: number; readonly afterPolls?: number }
  /** The batch as a whole is refused (no results); status `failed` with this message in `errors.data`. */
  | { readonly kind: 'fail'; readonly message: string; readonly code?: string; readonly afterPolls?: number }
  /** Stays `in_progress` until the test calls `complete`, `expire` or `fail` (or the client cancels). */
  | { readonly kind: 'hold' };

/** Decides each new batch's plan; the default completes every batch on its first poll. */
export type BatchPlanner = (batch: SubmittedBatch) => BatchPlan;

/** An HTTP call to the server, as {@link OpenAiBatchServerOptions.intercept} sees it. */
export interface BatchServerCall {
  readonly method: string;
  /** The path without the query, e.g. `/v1/batches/batch_000001`. */
  readonly path: string;
  /** 1 for the first call with this method and path, 2 for the second, … */
  readonly attempt: number;
}

/** How an intercepted call is answered instead of normally: a recorded error, a hang, or a reset connection. */
export type BatchServerStep = Extract<ServerStep, { kind: 'error' | 'hang' | 'reset' }>;

/** The OpenAI status of a batch. */
export type OpenAiBatchState =
  'validating' | 'in_progress' | 'finalizing' | 'completed' | 'expired' | 'cancelling' | 'cancelled' | 'failed';

/** A batch the server holds. Read-only for tests: change it through the server's methods. */
export interface SubmittedBatch {
  readonly id: string;
  /** `metadata.distill_label`, or null when the batch had none. */
  readonly label: string | null;
  readonly metadata: Readonly<Record<string, string>>;
  readonly inputFileId: string;
  /** The lines of its input file (empty when the file did not validate). */
  readonly lines: readonly BatchLine[];
  /** Seconds since the epoch, as in `created_at`. */
  readonly createdAt: number;
  readonly status: OpenAiBatchState;
  /** `GET /v1/batches/{id}` calls so far. */
  readonly polls: number;
  /** Outcomes decided so far, by custom id. */
  readonly outcomes: ReadonlyMap<string, BatchLineStep>;
}

/** A file uploaded through `POST /v1/files`. */
export interface UploadedFile {
  readonly id: string;
  readonly purpose: string;
  readonly filename: string;
  /** Its exact bytes as uploaded. */
  readonly content: Buffer;
}

/** Options of {@link startOpenAiBatchServer}. */
export interface OpenAiBatchServerOptions {
  readonly script?: BatchLineScript;
  readonly plan?: BatchPlanner;
  /** When set, any other bearer key gets OpenAI's recorded 401. */
  readonly apiKey?: string;
  /** Largest upload accepted (OpenAI: 200 MB for a batch file); a larger body is answered 413. */
  readonly maxUploadBytes?: number;
  /** Answers a call differently (a 500 on retrieve, a hang on upload), or returns undefined to answer it normally. */
  readonly intercept?: (call: BatchServerCall) => BatchServerStep | undefined;
}

/**
 * A loopback server speaking OpenAI's Batch API as the official SDK calls it: `POST /v1/files`
 * (multipart), `GET /v1/files/{id}/content`, `POST /v1/batches`, `GET /v1/batches/{id}`,
 * `GET /v1/batches` (newest first, `after`/`limit`/`has_more`), `POST /v1/batches/{id}/cancel`.
 * Its state lives in the test process, so a client (a `distill` child process) may be killed at any
 * point and a new one finds everything as OpenAI would have kept it.
 */
export interface OpenAiBatchServer {
  /** Base URL for the SDK (`http://127.0.0.1:<port>/v1`): the teacher's `base_url`. */
  readonly baseUrl: string;
  /** Every batch created, oldest first (forgotten ones included). */
  readonly batches: readonly SubmittedBatch[];
  /** Every file uploaded with purpose `batch`, oldest first. */
  readonly uploads: readonly UploadedFile[];
  /** Every HTTP call received, oldest first (calls cut off before their body ended included). */
  readonly calls: readonly BatchServerCall[];
  /** Batches created (`POST /v1/batches` accepted). */
  readonly submissions: number;
  /**
   * How many times a request with exactly these messages (system prompt included) was in a created
   * batch. Samples of one example (`teacher.samples`) share their messages, so they count together.
   */
  timesSubmitted(messages: readonly { readonly role: string; readonly content: string }[]): number;
  /** How many times a request whose last user message is `prompt` was in a created batch. */
  timesSubmittedPrompt(prompt: string): number;
  /** The batch with this id (forgotten ones included), or undefined. */
  batch(batchId: string): SubmittedBatch | undefined;
  script: BatchLineScript;
  plan: BatchPlanner;
  /** Decides the outcome of the first `count` lines still undecided, as progress the batch made while running. */
  progress(batchId: string, count: number): void;
  /** Ends a running batch now: every line gets its outcome, status `completed`. */
  complete(batchId: string): void;
  /** Expires a running batch now: lines decided so far (plus the first `answered` more) keep their outcome, the rest `batch_expired`. */
  expire(batchId: string, answered?: number): void;
  /** Fails a batch as a whole now (status `failed`, no results). */
  fail(batchId: string, message: string, code?: string): void;
  /** Forgets a batch and its files: every later call about it gets a 404, as for a deleted or foreign batch. */
  forget(batchId: string): void;
  close(): Promise<void>;
}

interface BatchState {
  id: string;
  label: string | null;
  metadata: Record<string, string>;
  inputFileId: string;
  lines: BatchLine[];
  createdAt: number;
  status: OpenAiBatchState;
  polls: number;
  outcomes: Map<string, BatchLineStep>;
  plan: BatchPlan;
  validationError: { code: string; message: string; line: number | null } | null;
  outputFileId: string | null;
  errorFileId: string | null;
  times: Partial<
    Record<'in_progress_at' | 'finalizing_at' | 'completed_at' | 'failed_at' | 'expired_at' | 'cancelling_at' | 'cancelled_at', number>
  >;
  forgotten: boolean;
}

/** OpenAI's documented limit on a batch input file (platform.openai.com/docs/guides/batch). */
const defaultMaxUploadBytes = 200 * 1000 * 1000;
/** Room for the multipart envelope around the file. */
const multipartSlackBytes = 64 * 1024;
/** Largest JSON body of the small calls (create, cancel). */
const maxJsonBodyBytes = 1024 * 1024;

function messagesKey(messages: readonly { readonly role?: unknown; readonly content?: unknown }[]): string {
  return JSON.stringify(messages.map((message) => [message.role, message.content]));
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** Reads a request body up to `limit` bytes; resolves null when it is larger or the client went away. */
function readBody(incoming: http.IncomingMessage, limit: number): Promise<Buffer | 'too large' | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (value: Buffer | 'too large' | null) => {
      if (settled) return;
      settled = true;
      resolve(value);
    };
    incoming.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        settle('too large');
        incoming.resume();
        return;
      }
      chunks.push(chunk);
    });
    incoming.on('end', () => settle(Buffer.concat(chunks)));
    // A client killed half way through its upload: nothing was received, nothing is kept.
    incoming.on('aborted', () => settle(null));
    incoming.on('error', () => settle(null));
    incoming.on('close', () => {
      if (!incoming.complete) settle(null);
    });
  });
}

function errorBody(message: string, type = 'invalid_request_error', code: string | null = null): Record<string, unknown> {
  return { error: { message, type, param: null, code } };
}

/**
 * Starts an OpenAI Batch API server on 127.0.0.1 (port chosen by the system). Response bodies are
 * the recorded shapes in `test/support/fixtures/openai-batch-*.json` with the server's ids, times,
 * counts and metadata filled in; answers inside output lines are `provider-server.ts`'s `successBody`.
 */
export async function startOpenAiBatchServer(options: OpenAiBatchServerOptions = {}): Promise<OpenAiBatchServer> {
  const batches: BatchState[] = [];
  const files = new Map<string, UploadedFile & { createdAt: number; forgotten: boolean }>();
  const uploads: UploadedFile[] = [];
  const calls: BatchServerCall[] = [];
  const callCounts = new Map<string, number>();
  const submittedByMessages = new Map<string, number>();
  const submittedByPrompt = new Map<string, number>();
  const maxUploadBytes = options.maxUploadBytes ?? defaultMaxUploadBytes;
  const state: { script: BatchLineScript; plan: BatchPlanner } = {
    script: options.script ?? ((line) => ({ kind: 'answer', text: `answer to: ${line.prompt}` })),
    plan: options.plan ?? (() => ({ kind: 'complete' })),
  };
  let nextId = 0;
  const newId = (prefix: string) => `${prefix}${(++nextId).toString(16).padStart(24, '0')}`;

  const publicBatch = (batch: BatchState): SubmittedBatch => ({
    id: batch.id,
    label: batch.label,
    metadata: batch.metadata,
    inputFileId: batch.inputFileId,
    lines: batch.lines,
    createdAt: batch.createdAt,
    status: batch.status,
    polls: batch.polls,
    outcomes: batch.outcomes,
  });

  const findBatch = (batchId: string): BatchState | undefined => batches.find((batch) => batch.id === batchId && !batch.forgotten);
  const requireBatch = (batchId: string): BatchState => {
    const batch = batches.find((each) => each.id === batchId);
    if (!batch) throw new Error(`the OpenAI batch server holds no batch ${batchId}`);
    return batch;
  };
  const isRunning = (batch: BatchState) => ['validating', 'in_progress', 'finalizing', 'cancelling'].includes(batch.status);

  const decide = (batch: BatchState, count: number) => {
    let decided = 0;
    for (const line of batch.lines) {
      if (decided >= count) break;
      if (batch.outcomes.has(line.customId)) continue;
      batch.outcomes.set(line.customId, state.script(line));
      decided++;
    }
  };

  const storeFile = (purpose: string, filename: string, content: Buffer): string => {
    const id = newId('file-');
    const file = { id, purpose, filename, content, createdAt: nowSeconds(), forgotten: false };
    files.set(id, file);
    return id;
  };

  /** Writes the output and error files of a batch that stopped, from the outcomes decided so far. */
  const finish = (batch: BatchState, status: 'completed' | 'expired' | 'cancelled') => {
    const outputLines: string[] = [];
    const errorLines: string[] = [];
    const never = status === 'expired' ? expiredLine('batch_expired') : expiredLine('batch_cancelled');
    for (const line of batch.lines) {
      const outcome = batch.outcomes.get(line.customId);
      const base = { id: newId('batch_req_'), custom_id: line.customId };
      if (!outcome) {
        errorLines.push(JSON.stringify({ ...never, ...base }));
      } else if (outcome.kind === 'answer') {
        const recorded = fixture('openai-batch-output-line') as { response: Record<string, unknown> };
        const response = { ...recorded.response, request_id: newId(''), body: successBody('openai', outcome.text, outcome.usage) };
        outputLines.push(JSON.stringify({ ...recorded, ...base, response }));
      } else {
        const error = fixture(outcome.fixture) as { status: number; body: unknown };
        const recorded = fixture('openai-batch-error-line') as { response: Record<string, unknown> };
        const response = { ...recorded.response, status_code: error.status, request_id: newId(''), body: error.body };
        errorLines.push(JSON.stringify({ ...recorded, ...base, response }));
      }
    }
    const jsonl = (lines: string[]) => Buffer.from(lines.map((line) => `${line}\n`).join(''), 'utf8');
    // OpenAI leaves a file id unset when that file would be empty.
    batch.outputFileId = outputLines.length > 0 ? storeFile('batch_output', 'batch_output.jsonl', jsonl(outputLines)) : null;
    batch.errorFileId = errorLines.length > 0 ? storeFile('batch_output', 'batch_error.jsonl', jsonl(errorLines)) : null;
    batch.status = status;
    const at = nowSeconds();
    if (status === 'completed') batch.times = { ...batch.times, finalizing_at: at, completed_at: at };
    else if (status === 'expired') batch.times = { ...batch.times, expired_at: at };
    else batch.times = { ...batch.times, cancelled_at: at };
  };

  const failBatch = (batch: BatchState, message: string, code: string, line: number | null) => {
    batch.validationError = { code, message, line };
    batch.status = 'failed';
    batch.times = { ...batch.times, failed_at: nowSeconds() };
  };

  /** One poll: the batch moves on as its plan says. */
  const advance = (batch: BatchState) => {
    batch.polls++;
    if (batch.status === 'cancelling') {
      finish(batch, 'cancelled');
      return;
    }
    if (!isRunning(batch)) return;
    if (batch.validationError) {
      failBatch(batch, batch.validationError.message, batch.validationError.code, batch.validationError.line);
      return;
    }
    const plan = batch.plan;
    if (plan.kind !== 'hold' && batch.polls > (plan.afterPolls ?? 0)) {
      if (plan.kind === 'complete') {
        decide(batch, batch.lines.length);
        finish(batch, 'completed');
      } else if (plan.kind === 'expire') {
        decide(batch, plan.answered);
        finish(batch, 'expired');
      } else {
        failBatch(batch, plan.message, plan.code ?? 'failed', null);
      }
      return;
    }
    if (batch.status === 'validating') {
      batch.status = 'in_progress';
      batch.times = { ...batch.times, in_progress_at: nowSeconds() };
    }
  };

  const batchObject = (batch: BatchState): Record<string, unknown> => {
    const recorded = (fixture('openai-batch-states') as Record<string, Record<string, unknown>>)[batch.status]!;
    const counts = { total: 0, completed: 0, failed: 0 };
    if (batch.status !== 'validating' && batch.status !== 'failed') {
      counts.total = batch.lines.length;
      for (const outcome of batch.outcomes.values()) {
        if (outcome.kind === 'answer') counts.completed++;
        else counts.failed++;
      }
      // Lines that never ran count as failed once the batch stops.
      if (batch.status === 'expired' || batch.status === 'cancelled') counts.failed = counts.total - counts.completed;
    }
    const unset = {
      in_progress_at: null,
      finalizing_at: null,
      completed_at: null,
      failed_at: null,
      expired_at: null,
      cancelling_at: null,
      cancelled_at: null,
    };
    return {
      ...recorded,
      id: batch.id,
      input_file_id: batch.inputFileId,
      created_at: batch.createdAt,
      expires_at: batch.createdAt + 24 * 3600,
      ...unset,
      ...batch.times,
      output_file_id: batch.outputFileId,
      error_file_id: batch.errorFileId,
      errors: batch.validationError
        ? {
            object: 'list',
            data: [
              { code: batch.validationError.code, message: batch.validationError.message, param: null, line: batch.validationError.line },
            ],
          }
        : null,
      request_counts: counts,
      usage: null,
      metadata: batch.metadata,
    };
  };

  /** Reads an input file's lines as OpenAI validates them; a bad file fails the batch on its first poll. */
  const readInputFile = (
    batchId: string,
    content: Buffer,
  ): { lines: BatchLine[]; error: { code: string; message: string; line: number } | null } => {
    const lines: BatchLine[] = [];
    const seen = new Set<string>();
    const texts = content.toString('utf8').split('\n');
    if (texts.at(-1) === '') texts.pop();
    for (const [index, text] of texts.entries()) {
      const number = index + 1;
      let parsed: { custom_id?: unknown; method?: unknown; url?: unknown; body?: unknown };
      try {
        parsed = JSON.parse(text) as typeof parsed;
      } catch {
        return { lines: [], error: { code: 'invalid_json_line', message: 'This line is not parseable as valid JSON.', line: number } };
      }
      if (typeof parsed.custom_id !== 'string' || typeof parsed.body !== 'object' || parsed.body === null)
        return { lines: [], error: { code: 'invalid_request', message: 'Each line needs a custom_id and a body.', line: number } };
      if (parsed.method !== 'POST' || parsed.url !== '/v1/chat/completions')
        return {
          lines: [],
          error: { code: 'invalid_url', message: 'The URL must match the batch endpoint /v1/chat/completions.', line: number },
        };
      if (seen.has(parsed.custom_id))
        return {
          lines: [],
          error: {
            code: 'duplicate_custom_id',
            message: 'The custom_id for this request is a duplicate of another request.',
            line: number,
          },
        };
      seen.add(parsed.custom_id);
      const body = parsed.body as Record<string, unknown>;
      lines.push({ batchId, customId: parsed.custom_id, body, prompt: lastUserContent(body.messages), submission: 0 });
    }
    return { lines, error: null };
  };

  type Reply = { status: number; body: unknown; headers?: Record<string, string> } | { raw: Buffer };

  const route = async (incoming: http.IncomingMessage, method: string, path: string, query: URLSearchParams): Promise<Reply | null> => {
    if (method === 'POST' && path === '/v1/files') {
      const body = await readBody(incoming, maxUploadBytes + multipartSlackBytes);
      if (body === null) return null;
      if (body === 'too large')
        return { status: 413, body: errorBody(`File is larger than the ${maxUploadBytes} bytes allowed for a batch file.`) };
      const upload = new Request('http://127.0.0.1/v1/files', {
        method: 'POST',
        headers: { 'content-type': incoming.headers['content-type'] ?? '' },
        body,
      });
      // Deprecated for servers because it buffers the whole body; this body is already read and bounded
      // above, and a test server gains nothing from a streaming multipart parser (a dependency).
      // eslint-disable-next-line @typescript-eslint/no-deprecated -- bounded, in-memory, test support only
      const form = await upload.formData();
      const file = form.get('file');
      const purpose = form.get('purpose');
      if (!(file instanceof File) || typeof purpose !== 'string')
        return { status: 400, body: errorBody("The upload needs a 'file' and a 'purpose'.") };
      const content = Buffer.from(await file.arrayBuffer());
      if (content.length > maxUploadBytes)
        return { status: 400, body: errorBody(`File is larger than the ${maxUploadBytes} bytes allowed for a batch file.`) };
      const id = storeFile(purpose, file.name, content);
      const uploaded = files.get(id)!;
      if (purpose === 'batch') uploads.push(uploaded);
      return {
        status: 200,
        body: {
          ...fixture('openai-batch-file'),
          id,
          purpose,
          filename: file.name,
          bytes: content.length,
          created_at: uploaded.createdAt,
          expires_at: uploaded.createdAt + 30 * 24 * 3600,
        },
      };
    }
    const content = /^\/v1\/files\/([^/]+)\/content$/.exec(path);
    if (method === 'GET' && content) {
      const file = files.get(decodeURIComponent(content[1]!));
      if (!file || file.forgotten) return { status: 404, body: errorBody(`No such File object: ${content[1]}`) };
      return { raw: file.content };
    }
    if (method === 'POST' && path === '/v1/batches') {
      const raw = await readBody(incoming, maxJsonBodyBytes);
      if (raw === null) return null;
      if (raw === 'too large') return { status: 413, body: errorBody('Request body too large.') };
      const body = JSON.parse(raw.toString('utf8')) as {
        input_file_id?: unknown;
        endpoint?: unknown;
        completion_window?: unknown;
        metadata?: Record<string, string> | null;
      };
      if (body.endpoint !== '/v1/chat/completions' || body.completion_window !== '24h')
        return { status: 400, body: errorBody('This server takes endpoint /v1/chat/completions with completion_window 24h.') };
      const input = typeof body.input_file_id === 'string' ? files.get(body.input_file_id) : undefined;
      if (!input || input.forgotten || input.purpose !== 'batch')
        return { status: 400, body: errorBody(`No batch input file with id '${String(body.input_file_id)}'.`) };
      const id = newId('batch_');
      const { lines, error } = readInputFile(id, input.content);
      const counted = lines.map((line) => {
        const key = messagesKey((line.body.messages as { role?: unknown; content?: unknown }[] | undefined) ?? []);
        const submission = (submittedByMessages.get(key) ?? 0) + 1;
        submittedByMessages.set(key, submission);
        submittedByPrompt.set(line.prompt, (submittedByPrompt.get(line.prompt) ?? 0) + 1);
        return { ...line, submission };
      });
      const metadata = body.metadata ?? {};
      const batch: BatchState = {
        id,
        label: typeof metadata.distill_label === 'string' ? metadata.distill_label : null,
        metadata,
        inputFileId: input.id,
        lines: counted,
        createdAt: nowSeconds(),
        status: 'validating',
        polls: 0,
        outcomes: new Map(),
        plan: { kind: 'complete' },
        validationError: error,
        outputFileId: null,
        errorFileId: null,
        times: {},
        forgotten: false,
      };
      batches.push(batch);
      batch.plan = state.plan(publicBatch(batch));
      return { status: 200, body: batchObject(batch) };
    }
    if (method === 'GET' && path === '/v1/batches') {
      const limit = Math.min(Math.max(Number(query.get('limit') ?? 20) || 20, 1), 100);
      const newestFirst = batches.filter((batch) => !batch.forgotten).reverse();
      const after = query.get('after');
      const start = after === null ? 0 : newestFirst.findIndex((batch) => batch.id === after) + 1;
      const page = start === 0 && after !== null ? [] : newestFirst.slice(start, start + limit);
      return {
        status: 200,
        body: {
          ...fixture('openai-batch-list'),
          data: page.map(batchObject),
          first_id: page[0]?.id ?? null,
          last_id: page.at(-1)?.id ?? null,
          has_more: start + limit < newestFirst.length,
        },
      };
    }
    const single = /^\/v1\/batches\/([^/]+)(\/cancel)?$/.exec(path);
    if (single) {
      const batch = findBatch(decodeURIComponent(single[1]!));
      if (!batch) {
        const notFound = fixture('openai-batch-error-not-found') as { status: number; headers: Record<string, string>; body: unknown };
        return { status: notFound.status, headers: notFound.headers, body: errorBody(`No batch found with id '${single[1]}'.`) };
      }
      if (method === 'GET' && !single[2]) {
        advance(batch);
        return { status: 200, body: batchObject(batch) };
      }
      if (method === 'POST' && single[2]) {
        if (!isRunning(batch)) return { status: 409, body: errorBody(`Cannot cancel a batch with status '${batch.status}'.`) };
        if (batch.status !== 'cancelling') {
          batch.status = 'cancelling';
          batch.times = { ...batch.times, cancelling_at: nowSeconds() };
        }
        return { status: 200, body: batchObject(batch) };
      }
    }
    return { status: 404, body: errorBody(`Invalid URL (${method} ${path})`) };
  };

  const server = http.createServer((incoming, outgoing) => {
    const url = new URL(incoming.url ?? '/', 'http://127.0.0.1');
    const method = incoming.method ?? 'GET';
    const callKey = `${method} ${url.pathname}`;
    const attempt = (callCounts.get(callKey) ?? 0) + 1;
    callCounts.set(callKey, attempt);
    const call: BatchServerCall = { method, path: url.pathname, attempt };
    calls.push(call);
    // The client may be killed at any moment: a write to its closed socket must not bring the server down.
    outgoing.on('error', () => undefined);
    const sendJson = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      if (outgoing.destroyed) return;
      outgoing
        .writeHead(status, { 'content-type': 'application/json', 'x-request-id': `req_${calls.length}`, ...headers })
        .end(JSON.stringify(body));
    };
    const intercepted = options.intercept?.(call);
    if (intercepted) {
      incoming.resume();
      if (intercepted.kind === 'hang') return;
      if (intercepted.kind === 'reset') {
        incoming.socket.destroy();
        return;
      }
      const recorded = fixture(intercepted.fixture) as { status: number; headers: Record<string, string>; body: unknown };
      sendJson(recorded.status, recorded.body, { ...recorded.headers, ...intercepted.headers });
      return;
    }
    const authorization = incoming.headers.authorization;
    if (options.apiKey !== undefined && authorization !== `Bearer ${options.apiKey}`) {
      incoming.resume();
      const recorded = fixture('openai-error-invalid-key') as { status: number; headers: Record<string, string>; body: unknown };
      sendJson(recorded.status, recorded.body, recorded.headers);
      return;
    }
    route(incoming, method, url.pathname, url.searchParams).then(
      (reply) => {
        if (reply === null || outgoing.destroyed) return;
        if ('raw' in reply) {
          outgoing.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': reply.raw.length }).end(reply.raw);
          return;
        }
        sendJson(reply.status, reply.body, reply.headers);
      },
      (error: unknown) => sendJson(500, errorBody(`test server error: ${String(error)}`, 'server_error')),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    get batches() {
      return batches.map(publicBatch);
    },
    uploads,
    calls,
    get submissions() {
      return batches.length;
    },
    timesSubmitted: (messages) => submittedByMessages.get(messagesKey(messages)) ?? 0,
    timesSubmittedPrompt: (prompt) => submittedByPrompt.get(prompt) ?? 0,
    batch: (batchId) => {
      const batch = batches.find((each) => each.id === batchId);
      return batch ? publicBatch(batch) : undefined;
    },
    get script() {
      return state.script;
    },
    set script(next: BatchLineScript) {
      state.script = next;
    },
    get plan() {
      return state.plan;
    },
    set plan(next: BatchPlanner) {
      state.plan = next;
    },
    progress(batchId, count) {
      const batch = requireBatch(batchId);
      if (batch.status === 'validating') batch.status = 'in_progress';
      decide(batch, count);
    },
    complete(batchId) {
      const batch = requireBatch(batchId);
      if (!isRunning(batch)) throw new Error(`batch ${batchId} is ${batch.status}, not running`);
      decide(batch, batch.lines.length);
      finish(batch, 'completed');
    },
    expire(batchId, answered = 0) {
      const batch = requireBatch(batchId);
      if (!isRunning(batch)) throw new Error(`batch ${batchId} is ${batch.status}, not running`);
      decide(batch, answered);
      finish(batch, 'expired');
    },
    fail(batchId, message, code = 'failed') {
      const batch = requireBatch(batchId);
      if (!isRunning(batch)) throw new Error(`batch ${batchId} is ${batch.status}, not running`);
      failBatch(batch, message, code, null);
    },
    forget(batchId) {
      const batch = requireBatch(batchId);
      batch.forgotten = true;
      for (const fileId of [batch.outputFileId, batch.errorFileId, batch.inputFileId]) {
        const file = fileId ? files.get(fileId) : undefined;
        if (file) file.forgotten = true;
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A recorded error-file line for a request that never ran (`batch_expired` or `batch_cancelled`). */
function expiredLine(code: 'batch_expired' | 'batch_cancelled'): Record<string, unknown> {
  const recorded = fixture('openai-batch-expired-line') as { error: Record<string, unknown> };
  const message = code === 'batch_expired' ? recorded.error.message : 'This request could not be executed before the batch was cancelled.';
  return { ...recorded, error: { code, message } };
}
