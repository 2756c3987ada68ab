import { Flags } from '@oclif/core';
import { accessLogFormats, type AccessLogFormat } from '../../core/serving/access-log.js';
import { serveStudent, serveTokenVariable } from '../../core/serving/serve-student.js';
import { defaultServerLimits } from '../../core/serving/serving-limits.js';
import { BaseCommand } from './base-command.js';

/** `distill serve`: the student behind a small JSON HTTP API. */
export default class ServeCommand extends BaseCommand {
  static override summary = 'Serve an exported student over HTTP: GET /health, POST /predict {inputs, explain?}.';
  static override description = `Every request needs "Authorization: Bearer <token>" when a token is set (--token or ${serveTokenVariable}); a host other than loopback requires one. One access-log line per request goes to stderr. See docs/serving.md for the API and its limits.`;
  static override examples = [
    '<%= config.bin %> serve --model pipelines/runs/quickstart/model --port 8080',
    'curl -s localhost:8080/predict -d \'{"inputs": ["A man plays. </s> A person plays."]}\'',
    `${serveTokenVariable}=$(openssl rand -hex 32) <%= config.bin %> serve --model pipelines/runs/quickstart/model --host 0.0.0.0 --log-format json`,
  ];
  static override flags = {
    model: Flags.string({ description: 'Exported student folder (written by `distill export`).', required: true }),
    host: Flags.string({ description: 'Interface to listen on; anything but loopback requires a token.', default: '127.0.0.1' }),
    port: Flags.integer({ description: 'Port (0 picks a free one).', min: 0, max: 65535, default: 8080 }),
    token: Flags.string({
      description: `Bearer token every request must send (default: $${serveTokenVariable}, which keeps it out of process lists).`,
    }),
    quantized: Flags.boolean({ description: 'Use the int8 graphs.', default: false }),
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
    'max-input-tokens': Flags.integer({
      description: "Input tokens kept per text (default: the model folder's, i.e. the trainer's max_input_length).",
      min: 2,
    }),
  };

  async run(): Promise<{ url: string }> {
    const { flags } = await this.parse(ServeCommand);
    const server = await serveStudent({
      model: flags.model,
      host: flags.host,
      port: flags.port,
      token: flags.token,
      student: {
        precision: flags.quantized ? 'int8' : 'fp32',
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
    });
    this.logToStderr(`serving ${flags.model} on ${server.url}${server.requiresToken ? ' (bearer token required)' : ''} (Ctrl+C stops)`);
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
