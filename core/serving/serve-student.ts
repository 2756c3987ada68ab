import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { LoadedPipeline } from '../config/load-pipeline.js';
import { UserError } from '../errors/user-error.js';
import { loadStudent, type LoadStudentOptions } from '../inference/load-student.js';
import { createAccessLog, type AccessLogOptions } from './access-log.js';
import { bearerTokenPattern } from './bearer-token.js';
import { readCalibration, thresholdFor } from './fallback/fallback-calibration.js';
import { FallbackRouter, type TeacherFailurePolicy } from './fallback/fallback-router.js';
import { createFallbackTeacher, type FallbackTeacher } from './fallback/fallback-teacher.js';
import { defaultReviewFileName, ReviewQueue } from './fallback/review-queue.js';
import { ServingMetrics } from './fallback/serving-metrics.js';
import { isLoopbackHost } from './loopback-host.js';
import type { PredictionQueueStatistics } from './prediction-queue.js';
import { createPredictionServer } from './prediction-server.js';
import type { PredictionServerLimits } from './serving-limits.js';

/** The environment variable a bearer token is read from when none is passed. */
export const serveTokenVariable = 'DISTILL_SERVE_TOKEN';

/** Shadow comparisons the live agreement is taken over, by default. */
export const defaultShadowWindow = 200;

/** Student first, teacher as fallback (`distill serve --fallback`). */
export interface ServeFallbackOptions {
  /** The pipeline whose teacher, prompt, parser, cache, limits and budget answer what the student is unsure of. */
  readonly pipeline: LoadedPipeline;
  /** The agreement target: its threshold is read from the model folder's `calibration.json`. */
  readonly target: number;
  /** `error` (default): a failed teacher is a 502/503; `student`: the student's answer, marked `fallback_failed`. */
  readonly onTeacherFailure?: TeacherFailurePolicy;
  /** Share (0 to 1, default 0) of student answers also asked of the teacher after the response. */
  readonly shadow?: number;
  /** Shadow comparisons the live agreement is taken over (default {@link defaultShadowWindow}). */
  readonly shadowWindow?: number;
  /** The review queue's JSON Lines file (default `review-queue.jsonl` in the model folder). */
  readonly reviewFile?: string;
  /** Where warnings go (default stderr). */
  readonly warn?: (line: string) => void;
  /** Environment the teacher plugin reads (default `process.env`). */
  readonly environment?: Readonly<Record<string, string | undefined>>;
  /** Source of the shadow draws (tests fix it). */
  readonly random?: () => number;
}

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
  /** Student first, teacher as fallback; left out, the student answers everything. */
  readonly fallback?: ServeFallbackOptions;
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
  /** With a fallback: the threshold served, and the review file's path. */
  readonly fallback?: { readonly threshold: number; readonly target: number; readonly reviewFile: string };
  /** With a fallback: resolves once every shadow request sent so far has ended. */
  whenShadowsDone(): Promise<void>;
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
  // The calibration is checked before the model or the teacher is loaded: a missing one is the likeliest mistake.
  const fallback = request.fallback ? await prepareFallback(request.model, request.fallback) : undefined;
  let student;
  try {
    student = await loadStudent(request.model, request.student);
  } catch (error) {
    fallback?.teacher.close();
    throw error;
  }
  const { server, statistics, whenIdle } = createPredictionServer(student, {
    limits: request.limits,
    token,
    accessLog: request.accessLog ? createAccessLog(request.accessLog) : undefined,
    fallback: fallback ? { router: fallback.router } : undefined,
    metrics: fallback ? () => fallback.metrics.render() : undefined,
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(request.port ?? 8080, host, () => resolve());
    });
  } catch (error) {
    await student.close();
    fallback?.teacher.close();
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
    ...(fallback ? { fallback: { threshold: fallback.threshold, target: fallback.target, reviewFile: fallback.review.file } } : {}),
    whenShadowsDone: async () => fallback?.router.whenShadowsDone(),
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Idle keep-alive connections would hold close() open until they time out.
      server.closeAllConnections();
      await closed;
      // onnxruntime must not be released under a run in progress.
      await whenIdle();
      await student.close();
      if (fallback) {
        await fallback.router.whenShadowsDone();
        fallback.teacher.close();
        fallback.review.close();
      }
    },
  };
}

/** Everything fallback serving runs with, made before anything listens. */
interface PreparedFallback {
  readonly router: FallbackRouter;
  readonly teacher: FallbackTeacher;
  readonly metrics: ServingMetrics;
  readonly review: ReviewQueue;
  readonly threshold: number;
  readonly target: number;
}

/**
 * Reads the calibration and its threshold for the target, then makes the pipeline's teacher; each
 * mistake (no calibration, an unreachable target, a bad shadow share, label probabilities calibrated
 * for a pipeline without a label set) is a
 * {@link UserError} before the model is loaded.
 */
async function prepareFallback(model: string, options: ServeFallbackOptions): Promise<PreparedFallback> {
  const shadow = options.shadow ?? 0;
  if (!(shadow >= 0 && shadow <= 1)) {
    throw new UserError({
      message: `--shadow must be a share from 0 to 1, got ${shadow}`,
      fix: 'e.g. --shadow 0.05 sends 5% of student answers to the teacher too',
    });
  }
  const calibration = readCalibration(model);
  const { threshold } = thresholdFor(calibration, options.target);
  const metrics = new ServingMetrics(options.target, options.shadowWindow ?? defaultShadowWindow);
  const teacher = await createFallbackTeacher(options.pipeline, metrics, options.environment);
  if (calibration.confidence === 'label-probability' && (!teacher.labels || teacher.labels.length === 0)) {
    teacher.close();
    throw new UserError({
      message: `${calibration.file} calibrates label probabilities, and the pipeline's dataset has no closed label set for the student to score`,
      pointer: '/dataset',
      fix: 'use the pipeline the student was trained and calibrated with',
    });
  }
  const review = new ReviewQueue(options.reviewFile ?? path.join(model, defaultReviewFileName));
  const router = new FallbackRouter({
    teacher,
    confidence: calibration.confidence,
    threshold,
    metrics,
    review,
    onTeacherFailure: options.onTeacherFailure ?? 'error',
    shadow,
    warn: options.warn ?? ((line) => process.stderr.write(line + '\n')),
    random: options.random,
  });
  return { router, teacher, metrics, review, threshold, target: options.target };
}
