import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Sets the end token of a folder's JSON files to an id no model output can take (the vocabulary
 * size), so that every runtime generates exactly the fixed number of tokens: per-token latency is then
 * measured over the same count everywhere, whatever the model would have stopped at.
 */
export function unreachableEndToken(folder: string, id: number): void {
  for (const name of ['distill-student.json', 'generation_config.json', 'config.json']) {
    const file = path.join(folder, name);
    if (!existsSync(file)) continue;
    // The text is edited, not parsed and written again: JSON.stringify would write 1.0 as 1, and
    // transformers' strict configs refuse an int where a float is declared.
    const content = readFileSync(file, 'utf8');
    const parsed = JSON.parse(content) as { eos_token_id?: unknown; pad_token_id?: unknown };
    let edited = content.replace(/("eos_token_id"\s*:\s*)(-?\d+|\[[^\]]*\])/, `$1${id}`);
    // A card without a padding id pads with its end token: keep that one, a real token, for padding.
    if (name === 'distill-student.json' && parsed.pad_token_id === undefined && typeof parsed.eos_token_id === 'number') {
      edited = edited.replace(/^\{/, `{\n  "pad_token_id": ${parsed.eos_token_id},`);
    }
    writeFileSync(file, edited);
  }
}

/** The vocabulary size a folder's `config.json` declares: the first id no output can take. */
export function vocabularySize(folder: string): number {
  return (JSON.parse(readFileSync(path.join(folder, 'config.json'), 'utf8')) as { vocab_size: number }).vocab_size;
}

/** A copy of `folder` at `copy` whose end token no output can take (see {@link unreachableEndToken}). */
export function forcedLengthCopy(folder: string, copy: string, vocabulary = vocabularySize(folder)): string {
  cpSync(folder, copy, { recursive: true });
  unreachableEndToken(copy, vocabulary);
  return copy;
}
