/**
 * A JSON Schema object as ajv accepts it (draft 2020-12 vocabulary). Plugins may mark an option
 * `secret: true`; its value is then redacted in everything distill prints or writes, and left out of
 * cache keys and stage signatures.
 */
export interface JsonSchema {
  readonly [keyword: string]: unknown;
}
