/**
 * A JSON Schema object as ajv accepts it: draft-07 vocabulary, checked in ajv's strict mode (an
 * unknown keyword or a misplaced one is a plugin bug, caught by the contract tests in
 * `test/plugins/contract/`). Unknown keys must be rejected (`additionalProperties: false`).
 *
 * distill adds two keywords (see `core/config/create-ajv.ts`):
 *
 * - `secret: true` marks a string option as a secret (an API key, a token). Its value is replaced by
 *   `[redacted]` in the resolved configuration that distill prints or writes, redacted from log
 *   lines and messages, and left out of cache keys and stage signatures.
 * - `existingPath: true` marks a string option as a path to a file or folder that must exist. It is
 *   relative to the pipeline file that writes it (a value inherited through `extends` is relative
 *   to the file it was written in), and the validated value is re-expressed relative to the
 *   pipeline file's folder, which plugins receive as `dependencies.baseDirectory`. A missing path is
 *   reported like any other validation error, at `file:line:col`.
 *
 * `distill schema` turns both into standard keywords for editors (`secret` → `writeOnly`,
 * `existingPath` → a note in `description`).
 */
export interface JsonSchema {
  readonly [keyword: string]: unknown;
}
