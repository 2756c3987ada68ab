import { redactKnownSecrets } from '../../core/config/redact.js';

/**
 * Makes everything the CLI prints go through {@link redactKnownSecrets}: progress lines, `--json`
 * events and results, error messages and the stack traces `--verbose` adds, whoever writes them
 * (the CLI framework included). Secrets are registered by the pipeline loader; before any is, text
 * passes unchanged. A secret split across two writes is not caught: every writer here writes whole
 * lines.
 */
function redactWrites(stream: NodeJS.WriteStream): void {
  const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
  stream.write = (chunk: unknown, ...rest: unknown[]) => {
    if (typeof chunk === 'string') return write(redactKnownSecrets(chunk), ...rest);
    if (chunk instanceof Uint8Array) {
      const text = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('utf8');
      const redacted = redactKnownSecrets(text);
      return write(redacted === text ? chunk : redacted, ...rest);
    }
    return write(chunk, ...rest);
  };
}

let installed = false;

/** Installs the redaction on stdout and stderr, once per process. */
export function redactProcessOutput(): void {
  if (installed) return;
  installed = true;
  redactWrites(process.stdout);
  redactWrites(process.stderr);
}
