import { createServer, STATUS_CODES, type IncomingMessage, type OutgoingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Student } from '../inference/load-student.js';
import type { AccessLogSink } from './access-log.js';
import { createBearerTokenCheck, type BearerTokenCheck } from './bearer-token.js';
import { Exchange } from './exchange.js';
import type { FallbackRouter } from './fallback/fallback-router.js';
import { isRequestProblem, parsePredictRequest, type PredictRequestBody, type RequestProblem } from './parse-predict-request.js';
import { PredictionQueue, type PredictionQueueStatistics } from './prediction-queue.js';
import { readRequestBody } from './read-request-body.js';
import { defaultServerLimits, type PredictionServerLimits } from './serving-limits.js';

/** How {@link createPredictionServer} guards and reports. */
export interface PredictionServerOptions {
  /** Size and time bounds; each one left out takes its {@link defaultServerLimits} value. */
  readonly limits?: Partial<PredictionServerLimits>;
  /** When set, every route answers 401 unless the request carries `Authorization: Bearer <token>`. */
  readonly token?: string;
  /** Receives one entry per request (and per connection refused before its request). */
  readonly accessLog?: AccessLogSink;
  /** Student first, teacher as fallback (`distill serve --fallback`): the router, which also says what the student is asked for. */
  readonly fallback?: { readonly router: FallbackRouter };
  /** The `GET /metrics` text (Prometheus exposition format); without it the route is 404. */
  readonly metrics?: () => string;
}

/** The HTTP server (not yet listening) and the counters of its prediction queue; plain functions, to be taken out. */
export interface PredictionServer {
  readonly server: Server;
  /** Predictions started, finished, waiting, dropped for clients that left, refused for a full queue. */
  readonly statistics: () => PredictionQueueStatistics;
  /** Resolves once no prediction runs or waits; the model may be closed then. */
  readonly whenIdle: () => Promise<void>;
}

/** What every request is handled with. */
interface ServerContext {
  readonly queue: PredictionQueue;
  readonly limits: PredictionServerLimits;
  readonly precision: Student['precision'];
  readonly checkToken: BearerTokenCheck | undefined;
  readonly fallback: PredictionServerOptions['fallback'];
  readonly metrics: PredictionServerOptions['metrics'];
}

// How much later than the headers and body deadlines Node's own request deadline falls: it is only a
// backstop, for a body that is not being read by a handler of ours.
const backstopMilliseconds = 5_000;

/**
 * The JSON API of `distill serve`:
 * - `GET /health` → `{status: "ok", precision}` (no paths: the model's location is nobody's business)
 * - `POST /predict` `{inputs: string[], explain?: boolean}` → `{predictions: [{label, rationale?}]}`;
 *   with a fallback, each prediction also says its `source`, `confidence` and `threshold`, and a
 *   teacher that fails is a 502 (503 for a spent budget) unless the policy sends the student's answer
 * - `GET /metrics` (with a fallback) → the Prometheus text exposition format
 *
 * Every refusal is a JSON `{error: {status, message}}`: 401 without the right bearer token (when one
 * is set), 400 for bad JSON or wrong fields, 408 for a body that does not arrive in time, 413 for a
 * body, batch or text over the limits, 503 with `Retry-After` when the prediction queue is full,
 * 404/405 for other routes. A refusal sent before the body is read closes the connection. A failure
 * inside the model is a 500 for that request only; the server keeps serving.
 */
export function createPredictionServer(student: Student, options: PredictionServerOptions = {}): PredictionServer {
  const limits: PredictionServerLimits = { ...defaultServerLimits, ...options.limits };
  const context: ServerContext = {
    queue: new PredictionQueue(student, limits.maxQueuedPredictions),
    limits,
    precision: student.precision,
    checkToken: options.token === undefined ? undefined : createBearerTokenCheck(options.token),
    fallback: options.fallback,
    metrics: options.metrics,
  };
  const accessLog = options.accessLog ?? (() => undefined);
  // The exchange in progress on each connection, for errors Node reports on the connection alone.
  const exchanges = new WeakMap<Socket, Exchange>();
  const onRequest = (request: IncomingMessage, response: ServerResponse): void => {
    const exchange = new Exchange(request, response);
    exchanges.set(request.socket, exchange);
    response.once('close', () => {
      if (exchanges.get(request.socket) === exchange) exchanges.delete(request.socket);
    });
    handle(context, exchange)
      .catch((error: unknown) => {
        if (!response.headersSent) exchange.refuse(500, `prediction failed: ${(error as Error).message}`);
        else response.destroy();
      })
      .finally(() => exchange.logWhenClosed(accessLog));
  };
  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutMilliseconds,
      requestTimeout: limits.headersTimeoutMilliseconds + limits.bodyTimeoutMilliseconds + backstopMilliseconds,
      // Node checks both deadlines on this interval (30 s by default, which would stretch a 10 s limit to 40).
      connectionsCheckingInterval: Math.min(1000, Math.max(10, Math.floor(limits.headersTimeoutMilliseconds / 4))),
    },
    onRequest,
  );
  server.maxConnections = limits.maxConnections;
  // Handled like any request, so that a client waiting for `100 Continue` is refused before it
  // sends a body that would be refused anyway.
  server.on('checkContinue', onRequest);
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) =>
    answerClientError(error, socket, exchanges.get(socket), limits, accessLog),
  );
  server.on('drop', (data?: { remoteAddress?: string }) => {
    accessLog({
      time: new Date().toISOString(),
      method: '-',
      path: '-',
      status: null,
      durationMilliseconds: 0,
      requestBytes: 0,
      remoteAddress: data?.remoteAddress ?? '-',
      outcome: 'too-many-connections',
    });
  });
  return { server, statistics: () => context.queue.statistics(), whenIdle: () => context.queue.whenIdle() };
}

/** A refusal: its status, its message and the headers that go with it. */
interface Refusal {
  readonly status: number;
  readonly message: string;
  readonly headers?: OutgoingHttpHeaders;
}

/** Where a request goes by its token, path and method, before its body is read. */
function routeOf(context: ServerContext, request: IncomingMessage, url: URL | undefined): 'health' | 'metrics' | 'predict' | Refusal {
  // Before anything else, so that a client without the token learns nothing, not even the routes.
  if (context.checkToken) {
    const check = context.checkToken(request.headers.authorization);
    if (check === 'missing') {
      const message = 'this server needs a bearer token: send "Authorization: Bearer <token>"';
      return { status: 401, message, headers: { 'www-authenticate': 'Bearer' } };
    }
    if (check === 'wrong') {
      const message = 'the bearer token is not the one this server was started with';
      return { status: 401, message, headers: { 'www-authenticate': 'Bearer error="invalid_token"' } };
    }
  }
  if (!url) return { status: 400, message: 'the request target is not a valid path; use GET /health or POST /predict' };
  if (url.pathname === '/health') return request.method === 'GET' ? 'health' : { status: 405, message: 'use GET /health' };
  if (url.pathname === '/metrics' && context.metrics)
    return request.method === 'GET' ? 'metrics' : { status: 405, message: 'use GET /metrics' };
  if (url.pathname !== '/predict') return { status: 404, message: `no route ${url.pathname}; use GET /health or POST /predict` };
  return request.method === 'POST' ? 'predict' : { status: 405, message: 'use POST /predict with a JSON body' };
}

async function handle(context: ServerContext, exchange: Exchange): Promise<void> {
  const { request } = exchange;
  const url = URL.canParse(request.url ?? '/', 'http://localhost') ? new URL(request.url ?? '/', 'http://localhost') : undefined;
  if (url) exchange.path = url.pathname;
  const route = routeOf(context, request, url);
  if (route === 'health') exchange.send(200, { status: 'ok', precision: context.precision });
  else if (route === 'metrics') sendMetrics(exchange, context.metrics!());
  else if (route === 'predict') await handlePrediction(context, exchange);
  else exchange.refuse(route.status, route.message, route.headers);
}

/** `POST /predict`: room in the queue, the body, its JSON, then the prediction in turn. */
async function handlePrediction(context: ServerContext, exchange: Exchange): Promise<void> {
  const { request, response } = exchange;
  const arrival = performance.now();
  // A full queue refuses at once, before the client spends time sending a body that cannot be served.
  const full = context.queue.refuseIfFull();
  if (full) {
    refuseQueueFull(exchange, full.retryAfterSeconds);
    return;
  }
  const body = await readRequestBody(request, response, {
    maxBytes: context.limits.maxBodyBytes,
    timeoutMilliseconds: context.limits.bodyTimeoutMilliseconds,
  });
  exchange.receivedBytes = body.receivedBytes;
  if (body.kind === 'too-large') {
    exchange.refuse(413, `the body is larger than ${context.limits.maxBodyBytes} bytes`);
    return;
  }
  if (body.kind === 'timed-out') {
    exchange.refuse(408, `the body did not arrive within ${context.limits.bodyTimeoutMilliseconds} ms`);
    return;
  }
  if (body.kind === 'client-gone') {
    // Unless the connection ended on a malformed body, which the client error handler answered.
    exchange.outcome ??= 'client-gone-while-sending';
    return;
  }
  exchange.bodyComplete = true;
  const predictRequest = predictRequestIn(body.body, context.limits);
  if (isRequestProblem(predictRequest)) {
    exchange.refuse(predictRequest.status, predictRequest.message);
    return;
  }
  const { fallback } = context;
  const predictOptions = fallback
    ? { explain: predictRequest.explain, ...fallback.router.studentOptions() }
    : { explain: predictRequest.explain };
  const result = await context.queue.predict(predictRequest.inputs, predictOptions, exchange.clientGone);
  if (result.kind === 'queue-full') refuseQueueFull(exchange, result.retryAfterSeconds);
  else if (result.kind === 'cancelled') exchange.outcome = 'cancelled-while-queued';
  else if (exchange.clientGone.aborted) exchange.outcome = 'client-gone-during-prediction';
  else if (!fallback) exchange.send(200, { predictions: result.predictions });
  else {
    const answers = await fallback.router.answer(predictRequest.inputs, result.predictions, arrival);
    if (!Array.isArray(answers)) {
      exchange.refuse(answers.status, `the student was not sure enough and the teacher could not answer: ${answers.reason}`);
      return;
    }
    exchange.send(200, { predictions: answers });
    // After the response: the shadow requests never delay it.
    fallback.router.shadow(predictRequest.inputs, answers);
  }
}

/** `GET /metrics`: the text exposition format's content type, not JSON. */
function sendMetrics(exchange: Exchange, text: string): void {
  exchange.response.writeHead(200, {
    'content-type': 'text/plain; version=0.0.4; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  exchange.response.end(text);
}

/** The prediction request a body holds, or the 400 problem with it (not JSON, or not the request's shape). */
function predictRequestIn(body: Buffer, limits: PredictionServerLimits): PredictRequestBody | RequestProblem {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (error) {
    return { status: 400, message: `the body is not valid JSON: ${(error as Error).message}` };
  }
  return parsePredictRequest(parsed, limits);
}

function refuseQueueFull(exchange: Exchange, retryAfterSeconds: number): void {
  exchange.refuse(
    503,
    `the server is busy: one prediction is running and the queue of waiting ones is full; retry after ${retryAfterSeconds} s`,
    {
      'retry-after': String(retryAfterSeconds),
    },
  );
}

/**
 * Answers what Node's parser refuses (headers too slow, malformed or too large, a malformed body) as
 * Node would, but in JSON and with an access-log line: through the exchange in progress when there is
 * one (it logs itself), else straight on the socket. A connection the client reset or ended midway is
 * not answered: there is nobody left to read it.
 */
function answerClientError(
  error: NodeJS.ErrnoException,
  socket: Socket,
  exchange: Exchange | undefined,
  limits: PredictionServerLimits,
  accessLog: AccessLogSink,
): void {
  if (error.code === 'ECONNRESET' || error.code === 'HPE_INVALID_EOF_STATE' || !socket.writable) {
    socket.destroy();
    return;
  }
  const timedOut = error.code === 'ERR_HTTP_REQUEST_TIMEOUT';
  const status = timedOut ? 408 : error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
  if (exchange) {
    if (exchange.response.headersSent) {
      socket.destroy();
      return;
    }
    if (!timedOut) exchange.outcome = 'malformed-request';
    // The body is unread, so the answer closes the connection.
    exchange.refuse(
      status,
      timedOut ? 'the request did not arrive in time' : `the request body is not valid HTTP (${error.code ?? error.message})`,
    );
    return;
  }
  const message = timedOut
    ? `the request headers did not arrive within ${limits.headersTimeoutMilliseconds} ms`
    : `the request is not valid HTTP (${error.code ?? error.message})`;
  const text = JSON.stringify({ error: { status, message } });
  const remoteAddress = socket.remoteAddress ?? '-';
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nconnection: close\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
  );
  socket.destroySoon();
  accessLog({
    time: new Date().toISOString(),
    method: '-',
    path: '-',
    status,
    durationMilliseconds: 0,
    requestBytes: 0,
    remoteAddress,
    outcome: timedOut ? 'headers-timeout' : 'malformed-request',
  });
}
