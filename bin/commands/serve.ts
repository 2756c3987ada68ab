import { Flags } from '@oclif/core';
import { accessLogFormats, type AccessLogFormat } from '../../core/serving/access-log.js';
import { UserError } from '../../core/errors/user-error.js';
import type { TeacherFailurePolicy } from '../../core/serving/fallback/fallback-router.js';
import { defaultShadowWindow, serveStudent, serveTokenVariable, type ServeFallbackOptions } from '../../core/serving/serve-student.js';
import { defaultServerLimits } from '../../core/serving/serving-limits.js';
import { BaseCommand } from './base-command.js';
import { precisionFlags, requestedPrecision } from './precision-flags.js';

/** The flags of fallback serving, as parsed. */
interface FallbackFlags {
  readonly fallback: boolean;
  readonly pipeline?: string;
  readonly target?: string;
  readonly shadow?: string;
  readonly 'shadow-window': number;
  readonly 'on-teacher-failure': string;
  readonly 'review-file'?: string;
}

/** `distill serve`: the student behind a small JSON HTTP API. */
export default class ServeCommand extends BaseCommand {
  static override summary = 'Serve an exported student over HTTP: GET /health, POST /predict {inputs, explain?}.';
  static override description = `Every request needs "Authorization: Bearer <token>" when a token is set (--token or ${serveTokenVariable}); a host other than loopback requires one. One access-log line per request goes to stderr. With --fallback the student answers where its calibrated confidence clears --target's threshold and the pipeline's teacher the rest, with GET /metrics (Prometheus) and a review queue. See docs/serving.md for the API and its limits.`;
  static override examples = [
    '<%= config.bin %> serve --model pipelines/runs/quickstart/model --port 8080',
    'curl -s localhost:8080/predict -d \'{"inputs": ["A man plays. </s> A person plays."]}\'',
    `${serveTokenVariable}=$(openssl rand -hex 32) <%= config.bin %> serve --model pipelines/runs/quickstart/model --host 0.0.0.0 --log-format json`,
    '<%= config.bin %> serve --model pipelines/runs/quickstart/model --fallback --pipeline pipelines/quickstart.yaml --target 0.95 --shadow 0.05',
  ];
  static override flags = {
    model: Flags.string({ description: 'Exported student folder (written by `distill export`).', required: true }),
    host: Flags.string({ description: 'Interface to listen on; anything but loopback requires a token.', default: '127.0.0.1' }),
    port: Flags.integer({ description: 'Port (0 picks a free one).', min: 0, max: 65535, default: 8080 }),
    token: Flags.string({
      description: `Bearer token every request must send (default: $${serveTokenVariable}, which keeps it out of process lists).`,
    }),
    ...precisionFlags,
    threads: Flags.integer({ description: 'onnxruntime intra-op threads.', min: 1, default: 1 }),
    'max-batch': Flags.integer({ description: 'Most texts per request.', min: 1, default: defaultServerLimits.maxBatch }),
    'max-body-bytes': Flags.integer({ description: 'Largest request body.', min: 1024, default: defaultServerLimits.maxBodyBytes }),
    'queue-size': Flags.integer({
      description: 'Predictions that may wait while one runs; beyond, 503 with Retry-After.',
      min: 0,
      default: defaultServerLimits.maxQueuedPredictions,
    }),
    'headers-timeout': Flags.integer({
      description: 'Seconds a client has to send its request headers.',
      min: 1,
      default: defaultServerLimits.headersTimeoutMilliseconds / 1000,
    }),
    'body-timeout': Flags.integer({
      description: 'Seconds a client has to send its request body.',
      min: 1,
      default: defaultServerLimits.bodyTimeoutMilliseconds / 1000,
    }),
    'max-connections': Flags.integer({
      description: 'Open connections at once; more are closed on arrival.',
      min: 1,
      default: defaultServerLimits.maxConnections,
    }),
    'log-format': Flags.string({
      description: 'Access log on stderr: text, or json (one object a line).',
      options: [...accessLogFormats],
      default: 'text',
    }),
    'max-new-tokens': Flags.integer({ description: "Most tokens generated per text (default: the model folder's, else 64).", min: 1 }),
    fallback: Flags.boolean({
      description:
        "Student first, teacher as fallback: below the threshold calibrated for --target (the model folder's calibration.json, from `distill calibrate`) the pipeline's teacher answers.",
      default: false,
    }),
    pipeline: Flags.string({
      description: 'With --fallback: the pipeline whose teacher, prompt, parser, cache, limits and budget answer the rest.',
    }),
    target: Flags.string({ description: 'With --fallback: the agreement target whose calibrated threshold is served (e.g. 0.95).' }),
    shadow: Flags.string({
      description: 'With --fallback: share (0 to 1) of student answers also sent to the teacher after the response, for live agreement.',
    }),
    'shadow-window': Flags.integer({
      description: 'With --shadow: comparisons the live agreement is taken over.',
      min: 1,
      default: defaultShadowWindow,
    }),
    'on-teacher-failure': Flags.string({
      description: "With --fallback: what a failed teacher answers: error (502/503), or the student's answer marked fallback_failed.",
      options: ['error', 'student'],
      default: 'error',
    }),
    'review-file': Flags.string({
      description: 'With --fallback: the JSON Lines review queue (default: review-queue.jsonl in the model folder).',
    }),
    'max-input-tokens': Flags.integer({
      description: "Input tokens kept per text (default: the model folder's, i.e. the trainer's max_input_length).",
      min: 2,
    }),
  };

  /** The fallback settings of the flags (the pipeline loaded with the built-in plugins), or undefined without --fallback. */
  private async fallbackOptions(flags: FallbackFlags): Promise<ServeFallbackOptions | undefined> {
    const fallbackOnly = ['pipeline', 'target', 'shadow', 'review-file'] as const;
    if (!flags.fallback) {
      const given = fallbackOnly.filter((name) => flags[name] !== undefined);
      if (given.length > 0) {
        throw new UserError({
          message: `${given.map((name) => `--${name}`).join(', ')} only apply with --fallback`,
          fix: 'add --fallback, or leave them out',
        });
      }
      return undefined;
    }
    const missing = (['pipeline', 'target'] as const).filter((name) => flags[name] === undefined);
    if (missing.length > 0) {
      throw new UserError({
        message: `--fallback needs ${missing.map((name) => `--${name}`).join(' and ')}`,
        fix: "e.g. --fallback --pipeline pipelines/quickstart.yaml --target 0.95 (a target of the model folder's calibration.json)",
      });
    }
    const share = (name: 'target' | 'shadow', value: string | undefined): number | undefined => {
      if (value === undefined) return undefined;
      const number = Number(value);
      if (value.trim() === '' || !(number >= 0 && number <= 1)) {
        throw new UserError({
          message: `--${name} must be a number from 0 to 1, got "${value}"`,
          fix: name === 'target' ? 'e.g. --target 0.95' : 'e.g. --shadow 0.05',
        });
      }
      return number;
    };
    const [{ builtinRegistry }, { loadPipeline }] = await Promise.all([
      import('../../plugins/composition-root.js'),
      import('../../core/config/load-pipeline.js'),
    ]);
    const pipeline = await loadPipeline(flags.pipeline!, { registry: builtinRegistry(), environmentFile: this.environmentFile });
    return {
      pipeline,
      target: share('target', flags.target)!,
      shadow: share('shadow', flags.shadow),
      shadowWindow: flags['shadow-window'],
      onTeacherFailure: flags['on-teacher-failure'] as TeacherFailurePolicy,
      reviewFile: flags['review-file'],
    };
  }

  async run(): Promise<{ url: string }> {
    const { flags } = await this.parse(ServeCommand);
    const fallback = await this.fallbackOptions(flags);
    const server = await serveStudent({
      model: flags.model,
      host: flags.host,
      port: flags.port,
      token: flags.token,
      student: {
        precision: requestedPrecision(flags),
        intraOpThreads: flags.threads,
        maxNewTokens: flags['max-new-tokens'],
        maxInputTokens: flags['max-input-tokens'],
      },
      limits: {
        maxBatch: flags['max-batch'],
        maxBodyBytes: flags['max-body-bytes'],
        maxQueuedPredictions: flags['queue-size'],
        headersTimeoutMilliseconds: flags['headers-timeout'] * 1000,
        bodyTimeoutMilliseconds: flags['body-timeout'] * 1000,
        maxConnections: flags['max-connections'],
      },
      accessLog: { format: flags['log-format'] as AccessLogFormat },
      fallback,
    });
    this.logToStderr(`serving ${flags.model} on ${server.url}${server.requiresToken ? ' (bearer token required)' : ''} (Ctrl+C stops)`);
    if (server.fallback) {
      this.logToStderr(
        `fallback: the student answers at confidence >= ${server.fallback.threshold} (target ${server.fallback.target}), the teacher the rest; review queue ${server.fallback.reviewFile}; GET /metrics`,
      );
    }
    if (this.jsonEnabled()) process.stdout.write(JSON.stringify({ url: server.url }) + '\n');
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await server.close();
    return { url: server.url };
  }
}
