import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { testPath } from './paths.js';

/** Wire protocol a {@link ProviderServer} speaks. */
export type ProviderProtocol = 'openai' | 'anthropic';

/** What the server does with one request. */
export type ServerStep =
  /** A recorded success body with this completion text (usage kept from the recording unless given). */
  | {
      readonly kind: 'answer';
      readonly text: string;
      readonly usage?: { readonly promptTokens: number; readonly completionTokens: number };
      readonly delayMilliseconds?: number;
      /**
       * OpenAI: the choices of a request with `n`, in order (default: `text` in each of the `n`);
       * each with the token log-probabilities it carries when the request asks `logprobs`.
       */
      readonly choices?: readonly ServedChoice[];
      /** OpenAI: the token log-probabilities of `text` when the request asks `logprobs` (none: `logprobs: null`). */
      readonly logprobs?: readonly ServedLogprob[];
    }
  /** A recorded success body (`fixtures/<name>.json`) sent as it was recorded, e.g. one with log-probabilities. */
  | { readonly kind: 'recorded'; readonly fixture: string }
  /** A recorded error (`fixtures/<name>.json`: status, headers, body), with headers overridden or added. */
  | {
      readonly kind: 'error';
      readonly fixture: string;
      readonly headers?: Readonly<Record<string, string>>;
      readonly delayMilliseconds?: number;
    }
  /** Any status and raw body text (malformed JSON, an HTML error page). */
  | { readonly kind: 'raw'; readonly status: number; readonly body: string; readonly contentType?: string }
  /** Never answers: holds the connection until the client gives up (a timeout). */
  | { readonly kind: 'hang' }
  /** Closes the connection without a response (a connection reset). */
  | { readonly kind: 'reset' }
  /** Sends a 200 with a success body's headers and first half, then closes the connection (a truncated body). */
  | { readonly kind: 'truncated'; readonly text: string };

/** One token of a served answer with its log-probability (sent in OpenAI's recorded `logprobs.content` shape). */
export interface ServedLogprob {
  readonly token: string;
  readonly logprob: number;
}

/** One choice of an OpenAI answer to a request with `n`. */
export interface ServedChoice {
  readonly text: string;
  readonly logprobs?: readonly ServedLogprob[];
}

/** One request as the server saw it. */
export interface ReceivedRequest {
  /** Content of the last user message. */
  readonly prompt: string;
  /** 1 for the first request with this prompt, 2 for the second, … */
  readonly attempt: number;
  readonly body: Record<string, unknown>;
  readonly headers: http.IncomingHttpHeaders;
  readonly receivedAt: number;
}

/** Decides the step for a request; the default answers every prompt with `answer to: <prompt>`. */
export type ServerScript = (request: ReceivedRequest) => ServerStep;

/** A success answer the server finished sending. */
export interface SentAnswer {
  readonly prompt: string;
  /** Real time when the last byte was handed to the socket. */
  readonly sentAt: number;
}

/** A loopback HTTP server speaking a provider's wire protocol, scriptable per request. */
export interface ProviderServer {
  /** Base URL for the SDK (`…/v1` for OpenAI, the origin for Anthropic). */
  readonly baseUrl: string;
  readonly requests: ReceivedRequest[];
  readonly answers: SentAnswer[];
  /** Requests received per distinct prompt. */
  countFor(prompt: string): number;
  script: ServerScript;
  close(): Promise<void>;
}

/**
 * A recorded response shape, `test/support/fixtures/<name>.json`, freshly parsed (callers may change
 * it), without its `_source` note (where the shape came from), which is never part of a response.
 */
export function fixture(name: string): Record<string, unknown> {
  const recorded = JSON.parse(readFileSync(testPath('support', 'fixtures', `${name}.json`), 'utf8')) as Record<string, unknown>;
  delete recorded._source;
  return recorded;
}

/** The recorded success body of a protocol, with the text (and usage) replaced. */
export function successBody(
  protocol: ProviderProtocol,
  text: string,
  usage?: { promptTokens: number; completionTokens: number },
): Record<string, unknown> {
  if (protocol === 'openai') {
    const body = fixture('openai-chat-completion') as { choices: { message: { content: string | null } }[]; usage: Record<string, number> };
    body.choices[0]!.message.content = text;
    if (usage)
      Object.assign(body.usage, {
        prompt_tokens: usage.promptTokens,
        completion_tokens: usage.completionTokens,
        total_tokens: usage.promptTokens + usage.completionTokens,
      });
    return body;
  }
  const body = fixture('anthropic-message') as { content: { text: string }[]; usage: Record<string, number> };
  body.content[0]!.text = text;
  if (usage) Object.assign(body.usage, { input_tokens: usage.promptTokens, output_tokens: usage.completionTokens });
  return body;
}

/** A served token in the shape of OpenAI's API reference example (`fixtures/openai-chat-completion-logprobs.json`). */
function logprobEntry(token: ServedLogprob): Record<string, unknown> {
  const bytes = [...Buffer.from(token.token, 'utf8')];
  return { token: token.token, logprob: token.logprob, bytes, top_logprobs: [{ token: token.token, logprob: token.logprob, bytes }] };
}

/**
 * The recorded OpenAI success body answering a request's `n` choices (one without `n`), each with its
 * log-probabilities when the request asked `logprobs` and the step gives them.
 */
function openAiAnswerBody(step: Extract<ServerStep, { kind: 'answer' }>, requestBody: Record<string, unknown>): Record<string, unknown> {
  const body = successBody('openai', step.text, step.usage) as { choices: Record<string, unknown>[] };
  const count = typeof requestBody.n === 'number' && requestBody.n > 1 ? requestBody.n : 1;
  const served: readonly ServedChoice[] =
    step.choices ?? Array.from({ length: count }, () => ({ text: step.text, ...(step.logprobs ? { logprobs: step.logprobs } : {}) }));
  const template = body.choices[0]!;
  body.choices = served.map((choice, index) => ({
    ...template,
    index,
    message: { ...(template.message as Record<string, unknown>), content: choice.text },
    logprobs: requestBody.logprobs === true && choice.logprobs ? { content: choice.logprobs.map(logprobEntry), refusal: null } : null,
  }));
  return body;
}

/** The content of the last user message of a request's `messages` (both protocols), as text; '' when there is none. */
export function lastUserContent(messages: unknown): string {
  const list = Array.isArray(messages) ? (messages as ({ role?: unknown; content?: unknown } | null)[]) : [];
  const last = [...list].reverse().find((message) => message?.role === 'user');
  if (!last) return '';
  return typeof last.content === 'string' ? last.content : JSON.stringify(last.content);
}

/** The path each protocol is served on. */
const endpoints: Record<ProviderProtocol, string> = { openai: '/v1/chat/completions', anthropic: '/v1/messages' };

/**
 * Starts a server on 127.0.0.1 (port chosen by the system) that answers `POST /v1/chat/completions`
 * (OpenAI) or `POST /v1/messages` (Anthropic) with recorded real response shapes. Each request is
 * counted per prompt and answered as the script says.
 */
export async function startProviderServer(protocol: ProviderProtocol, script?: ServerScript): Promise<ProviderServer> {
  const requests: ReceivedRequest[] = [];
  const answers: SentAnswer[] = [];
  const counts = new Map<string, number>();
  const state: { script: ServerScript } = { script: script ?? ((request) => ({ kind: 'answer', text: `answer to: ${request.prompt}` })) };

  const server = http.createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      if (incoming.method !== 'POST' || incoming.url?.split('?')[0] !== endpoints[protocol]) {
        outgoing
          .writeHead(404, { 'content-type': 'application/json' })
          .end(JSON.stringify({ error: { message: `no route ${incoming.url}` } }));
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      const prompt = lastUserContent(body.messages);
      const attempt = (counts.get(prompt) ?? 0) + 1;
      counts.set(prompt, attempt);
      const request: ReceivedRequest = { prompt, attempt, body, headers: incoming.headers, receivedAt: Date.now() };
      requests.push(request);
      const step = state.script(request);
      const send = () => {
        if (outgoing.destroyed) return;
        switch (step.kind) {
          case 'hang':
            return;
          case 'reset':
            incoming.socket.destroy();
            return;
          case 'truncated': {
            const text = JSON.stringify(successBody(protocol, step.text));
            outgoing.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
            outgoing.write(text.slice(0, Math.floor(text.length / 2)), () => incoming.socket.destroy());
            return;
          }
          case 'raw':
            outgoing.writeHead(step.status, { 'content-type': step.contentType ?? 'application/json' }).end(step.body);
            return;
          case 'error': {
            const recorded = fixture(step.fixture) as { status: number; headers: Record<string, string>; body: unknown };
            outgoing
              .writeHead(recorded.status, { 'content-type': 'application/json', ...recorded.headers, ...step.headers })
              .end(JSON.stringify(recorded.body));
            return;
          }
          case 'answer': {
            const answer = protocol === 'openai' ? openAiAnswerBody(step, body) : successBody(protocol, step.text, step.usage);
            outgoing
              .writeHead(200, { 'content-type': 'application/json', 'x-request-id': `req_${requests.length}` })
              .end(JSON.stringify(answer), () => answers.push({ prompt, sentAt: Date.now() }));
            return;
          }
          case 'recorded':
            outgoing
              .writeHead(200, { 'content-type': 'application/json', 'x-request-id': `req_${requests.length}` })
              .end(JSON.stringify(fixture(step.fixture)), () => answers.push({ prompt, sentAt: Date.now() }));
            return;
        }
      };
      const delay = step.kind === 'answer' || step.kind === 'error' ? (step.delayMilliseconds ?? 0) : 0;
      if (delay > 0) setTimeout(send, delay);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: protocol === 'openai' ? `http://127.0.0.1:${port}/v1` : `http://127.0.0.1:${port}`,
    requests,
    answers,
    countFor: (prompt) => counts.get(prompt) ?? 0,
    get script() {
      return state.script;
    },
    set script(next: ServerScript) {
      state.script = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
