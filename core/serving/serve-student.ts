import type { AddressInfo } from 'node:net';
import { UserError } from '../errors/user-error.js';
import { loadStudent, type LoadStudentOptions } from '../inference/load-student.js';
import { createAccessLog, type AccessLogOptions } from './access-log.js';
import { bearerTokenPattern } from './bearer-token.js';
import { isLoopbackHost } from './loopback-host.js';
import type { PredictionQueueStatistics } from './prediction-queue.js';
import { createPredictionServer } from './prediction-server.js';
import type { PredictionServerLimits } from './serving-limits.js';

/** The environment variable a bearer token is read from when none is passed. */
export const serveTokenVariable = 'DISTILL_SERVE_TOKEN';

/** What `distill serve` starts. */
export interface ServeStudentRequest {
  /** Exported student folder. */
  readonly model: string;
  /** Interface to listen on (default 127.0.0.1: serving beyond the machine is an explicit choice). */
  readonly host?: string;
  /** Port (default 8080; 0 picks a free one). */
  readonly port?: number;
  /**
   * Bearer token every request must carry (default: `$DISTILL_SERVE_TOKEN`). Required when `host` is
   * not a loopback address. It is never printed, logged or put in an error message.
   */
  readonly token?: string;
  readonly student?: LoadStudentOptions;
  /** Size and time bounds; see {@link PredictionServerLimits} for each one and its default. */
  readonly limits?: Partial<PredictionServerLimits>;
  /** One line per request (left out: no access log). */
  readonly accessLog?: AccessLogOptions;
}

/** A running server. */
export interface RunningServer {
  /** `http://host:port`. */
  readonly url: string;
  readonly port: number;
  /** Whether requests need the bearer token. */
  readonly requiresToken: boolean;
  /** Counters of the prediction queue: started, finished, waiting, dropped for clients that left, refused. */
  statistics(): PredictionQueueStatistics;
  /** Stops listening, drops the connections, lets a running prediction finish, then releases the model. */
  close(): Promise<void>;
}

/**
 * The token to require: the request's, else the environment's, else none. A token that an
 * `Authorization` header cannot carry, and a missing one off loopback, are refused before the model
 * is loaded; the messages never repeat the token.
 */
function resolveToken(request: ServeStudentRequest, host: string): string | undefined {
  const token = request.token ?? process.env[serveTokenVariable];
  const fix = `pass --token <secret> or set ${serveTokenVariable}=<secret> (the variable keeps it out of process lists); clients send "Authorization: Bearer <secret>"`;
  if (token !== undefined && !bearerTokenPattern.test(token)) {
    throw new UserError({ message: 'the bearer token is empty or holds spaces or characters other than visible ASCII', fix });
  }
  if (token === undefined && !isLoopbackHost(host)) {
    throw new UserError({
      message: `refusing to serve on ${host} without a bearer token: anyone who can reach it could use the model`,
      fix,
    });
  }
  return token;
}

/**
 * Checks the host and token, loads the student (so that a wrong model folder fails before anything
 * listens), then serves the JSON API of {@link createPredictionServer}.
 */
export async function serveStudent(request: ServeStudentRequest): Promise<RunningServer> {
  const host = request.host ?? '127.0.0.1';
  const token = resolveToken(request, host);
  const student = await loadStudent(request.model, request.student);
  const { server, statistics, whenIdle } = createPredictionServer(student, {
    limits: request.limits,
    token,
    accessLog: request.accessLog ? createAccessLog(request.accessLog) : undefined,
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(request.port ?? 8080, host, () => resolve());
    });
  } catch (error) {
    await student.close();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
      throw new UserError({ message: `cannot listen on ${host}:${request.port ?? 8080} (${code})`, fix: 'pick another --port or --host' });
    }
    throw error;
  }
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    requiresToken: token !== undefined,
    statistics,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Idle keep-alive connections would hold close() open until they time out.
      server.closeAllConnections();
      await closed;
      // onnxruntime must not be released under a run in progress.
      await whenIdle();
      await student.close();
    },
  };
}
