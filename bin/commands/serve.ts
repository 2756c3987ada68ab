import { Flags } from '@oclif/core';
import { serveStudent } from '../../core/serving/serve-student.js';
import { BaseCommand } from './base-command.js';

/** `distill serve`: the student behind a small JSON HTTP API. */
export default class ServeCommand extends BaseCommand {
  static override summary = 'Serve an exported student over HTTP: GET /health, POST /predict {inputs, explain?}.';
  static override examples = [
    '<%= config.bin %> serve --model out/model --port 8080',
    'curl -s localhost:8080/predict -d \'{"inputs": ["A man plays. </s> A person plays."]}\'',
  ];
  static override flags = {
    model: Flags.string({ description: 'Exported student folder (written by `distill export`).', required: true }),
    host: Flags.string({ description: 'Interface to listen on.', default: '127.0.0.1' }),
    port: Flags.integer({ description: 'Port (0 picks a free one).', min: 0, max: 65535, default: 8080 }),
    quantized: Flags.boolean({ description: 'Use the int8 graphs.', default: false }),
    threads: Flags.integer({ description: 'onnxruntime intra-op threads.', min: 1, default: 1 }),
    'max-batch': Flags.integer({ description: 'Most texts per request.', min: 1, default: 64 }),
    'max-body-bytes': Flags.integer({ description: 'Largest request body.', min: 1024, default: 1024 * 1024 }),
    'max-new-tokens': Flags.integer({ description: "Most tokens generated per text (default: the model folder's, else 64).", min: 1 }),
    'max-input-tokens': Flags.integer({ description: "Input tokens kept per text (default: the model folder's, i.e. the trainer's max_input_length).", min: 2 }),
  };

  async run(): Promise<{ url: string }> {
    const { flags } = await this.parse(ServeCommand);
    const server = await serveStudent({
      model: flags.model,
      host: flags.host,
      port: flags.port,
      student: { precision: flags.quantized ? 'int8' : 'fp32', intraOpThreads: flags.threads, maxNewTokens: flags['max-new-tokens'], maxInputTokens: flags['max-input-tokens'] },
      limits: { maxBatch: flags['max-batch'], maxBodyBytes: flags['max-body-bytes'] },
    });
    this.logToStderr(`serving ${flags.model} on ${server.url} (Ctrl+C stops)`);
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
