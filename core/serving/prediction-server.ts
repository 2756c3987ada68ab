import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Student } from '../inference/load-student.js';
import type { AccessLogSink } from './access-log.js';
import { createBearerTokenCheck, type BearerTokenCheck } from './bearer-token.js';
import { Exchange } from './exchange.js';
import { isRequestProblem, parsePredictRequest } from './parse-predict-request.js';
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
}

/** The HTTP server (not yet listening) and the counters of its prediction queue. */
export interface PredictionServer {
  readonly server: Server;
  /** Predictions started, finished, waiting, dropped for clients that left, refused for a full queue. */
  statistics(): PredictionQueueStatistics;
  /** Resolves once no prediction runs or waits; the model may be closed then. */
  whenIdle(): Promise<void>;
}

/** What every request is handled with. */
interface ServerContext {
  readonly queue: PredictionQueue;
  readonly limits: PredictionServerLimits;
  readonly precision: Student['precision'];
  readonly checkToken: BearerTokenCheck | undefined;
}

// How much later than the headers and body deadlines Node's own request deadline falls: it is only a
// backstop, for a body that is not being read by a handler of ours.
const backstopMilliseconds = 5_000;

/**
 * The JSON API of `distill serve`:
 * - `GET /health` → `{status: "ok", precision}` (no paths: the model's location is nobody's business)
 * - `POST /predict` `{inputs: string[], explain?: boolean}` → `{predictions: [{label, rationale?}]}`
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

async function handle(context: ServerContext, exchange: Exchange): Promise<void> {
  const { request, response } = exchange;
  const url = URL.canParse(request.url ?? '/', 'http://localhost') ? new URL(request.url ?? '/', 'http://localhost') : undefined;
  if (url) exchange.path = url.pathname;
  // Before anything else, so that a client without the token learns nothing, not even the routes.
  if (context.checkToken) {
    const check = context.checkToken(request.headers.authorization);
    if (check === 'missing')
      return exchange.refuse(401, 'this server needs a bearer token: send "Authorization: Bearer <token>"', {
        'www-authenticate': 'Bearer',
      });
    if (check === 'wrong')
      return exchange.refuse(401, 'the bearer token is not the one this server was started with', {
        'www-authenticate': 'Bearer error="invalid_token"',
      });
  }
  if (!url) return exchange.refuse(400, 'the request target is not a valid path; use GET /health or POST /predict');
  if (url.pathname === '/health') {
    if (request.method !== 'GET') return exchange.refuse(405, 'use GET /health');
    return exchange.send(200, { status: 'ok', precision: context.precision });
  }
  if (url.pathname !== '/predict') return exchange.refuse(404, `no route ${url.pathname}; use GET /health or POST /predict`);
  if (request.method !== 'POST') return exchange.refuse(405, 'use POST /predict with a JSON body');
  // A full queue refuses at once, before the client spends time sending a body that cannot be served.
  const full = context.queue.refuseIfFull();
  if (full) return refuseQueueFull(exchange, full.retryAfterSeconds);

  const body = await readRequestBody(request, response, {
    maxBytes: context.limits.maxBodyBytes,
    timeoutMilliseconds: context.limits.bodyTimeoutMilliseconds,
  });
  exchange.receivedBytes = body.receivedBytes;
  if (body.kind === 'too-large') return exchange.refuse(413, `the body is larger than ${context.limits.maxBodyBytes} bytes`);
  if (body.kind === 'timed-out') return exchange.refuse(408, `the body did not arrive within ${context.limits.bodyTimeoutMilliseconds} ms`);
  if (body.kind === 'client-gone') {
    // Unless the connection ended on a malformed body, which the client error handler answered.
    exchange.outcome ??= 'client-gone-while-sending';
    return;
  }
  exchange.bodyComplete = true;

  let parsed: unknown;
  try {
    parsed = JSON.parse(body.body.toString('utf8'));
  } catch (error) {
    return exchange.refuse(400, `the body is not valid JSON: ${(error as Error).message}`);
  }
  const predictRequest = parsePredictRequest(parsed, context.limits);
  if (isRequestProblem(predictRequest)) return exchange.refuse(predictRequest.status, predictRequest.message);
  const result = await context.queue.predict(predictRequest.inputs, { explain: predictRequest.explain }, exchange.clientGone);
  if (result.kind === 'queue-full') return refuseQueueFull(exchange, result.retryAfterSeconds);
  if (result.kind === 'cancelled') {
    exchange.outcome = 'cancelled-while-queued';
    return;
  }
  if (exchange.clientGone.aborted) {
    exchange.outcome = 'client-gone-during-prediction';
    return;
  }
  return exchange.send(200, { predictions: result.predictions });
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
