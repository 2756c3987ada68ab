import type { JsonSchema } from './json-schema.js';

/** One documented key of a schema: a plugin option or a key of the pipeline file. */
export interface OptionDescription {
  /** Dotted path from the schema's root: `limits.concurrency`, `samplers[].use`, `prices.<key>.prompt`. */
  readonly path: string;
  /** The type in words: `integer`, `one of "gold", "teacher"`, `list of string`, `map of string`. */
  readonly type: string;
  readonly required: boolean;
  /** The schema's `default`, when it has one (ajv fills it in when the key is absent). */
  readonly default?: unknown;
  /** The schema's `description`; undefined where the schema has none (a test keeps that from happening). */
  readonly description?: string;
  /** Bounds and markers in words: `≥ 0`, `secret`, `a path that must exist`. */
  readonly constraints: readonly string[];
  /** The schema's first `examples` entry, when it has one. */
  readonly example?: unknown;
}

type Schema = Record<string, unknown>;

function isSchema(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A local `$ref` (`#/definitions/step`) resolved against the root; anything else is returned as is. */
function resolved(schema: Schema, root: Schema): Schema {
  const reference = schema.$ref;
  if (typeof reference !== 'string' || !reference.startsWith('#/')) return schema;
  let target: unknown = root;
  for (const segment of reference.slice(2).split('/')) target = isSchema(target) ? target[segment] : undefined;
  // The referring schema's own annotations (its description) win over the definition's.
  return isSchema(target) ? { ...target, ...schema, $ref: undefined } : schema;
}

/** The type of a schema in words, as the reference pages show it. */
export function typeInWords(given: Schema, root: Schema = given): string {
  const schema = resolved(given, root);
  if ('const' in schema) return JSON.stringify(schema.const);
  if (Array.isArray(schema.enum)) return `one of ${schema.enum.map((value) => JSON.stringify(value)).join(', ')}`;
  const alternatives = schema.oneOf ?? schema.anyOf;
  if (Array.isArray(alternatives) && alternatives.every(isSchema) && alternatives.length > 0) {
    return alternatives.map((alternative) => typeInWords(alternative, root)).join(' or ');
  }
  const type = schema.type;
  if (type === 'array') return isSchema(schema.items) ? `list of ${typeInWords(schema.items, root)}` : 'list';
  if (type === 'object' && isSchema(schema.additionalProperties) && !isSchema(schema.properties)) {
    return `map of ${typeInWords(schema.additionalProperties, root)}`;
  }
  if (Array.isArray(type)) return type.join(' or ');
  return typeof type === 'string' ? type : 'any';
}

/** Bounds and distill's own keywords, in words. */
function constraintsOf(schema: Schema): string[] {
  const words: string[] = [];
  const bound = (keyword: string, symbol: string) => {
    if (typeof schema[keyword] === 'number') words.push(`${symbol} ${String(schema[keyword])}`);
  };
  bound('minimum', '≥');
  bound('exclusiveMinimum', '>');
  bound('maximum', '≤');
  bound('exclusiveMaximum', '<');
  if (typeof schema.minLength === 'number' && schema.minLength > 0) words.push('not empty');
  if (typeof schema.maxLength === 'number') words.push(`at most ${schema.maxLength} character(s)`);
  if (typeof schema.minItems === 'number' && schema.minItems > 0) words.push(`at least ${schema.minItems} item(s)`);
  if (typeof schema.minProperties === 'number' && schema.minProperties > 0) words.push(`at least ${schema.minProperties} key(s)`);
  if (schema.uniqueItems === true) words.push('no repeats');
  if (typeof schema.pattern === 'string') words.push(`matches /${schema.pattern}/`);
  if (schema.secret === true) words.push('secret: redacted from output and left out of cache keys');
  if (schema.existingPath === true) words.push('a path relative to the pipeline file; it must exist');
  return words;
}

/**
 * Every key a schema documents, depth first in the schema's own order: properties, properties of
 * list items (`key[].child`) and of map values (`key.<key>.child`), local `$ref`s followed. This one
 * walk feeds the reference pages, `distill plugins <id>` and the test that every key has a description.
 */
export function describeOptions(schema: JsonSchema, root: JsonSchema = schema, prefix = ''): OptionDescription[] {
  const source = resolved(schema, root);
  const properties = isSchema(source.properties) ? source.properties : {};
  const required = new Set(Array.isArray(source.required) ? (source.required as string[]) : []);
  const rows: OptionDescription[] = [];
  for (const [name, given] of Object.entries(properties)) {
    if (!isSchema(given)) continue;
    const child = resolved(given, root);
    const path = `${prefix}${name}`;
    rows.push({
      path,
      type: typeInWords(child, root),
      required: required.has(name),
      ...('default' in child ? { default: child.default } : {}),
      ...(typeof child.description === 'string' ? { description: child.description } : {}),
      constraints: constraintsOf(child),
      ...(Array.isArray(child.examples) && child.examples.length > 0 ? { example: child.examples[0] } : {}),
    });
    rows.push(...describeOptions(child, root, `${path}.`));
    const items = isSchema(child.items) ? resolved(child.items, root) : null;
    if (items) rows.push(...describeOptions(items, root, `${path}[].`));
    if (isSchema(child.additionalProperties)) rows.push(...describeOptions(child.additionalProperties, root, `${path}.<key>.`));
  }
  return rows;
}

/**
 * Rules a schema states across keys, in words: `oneOf` alternatives that each require a key ("give
 * exactly one of …") and `if {key: const} then {required}` clauses ("with `source: local`, give
 * `dataset`").
 */
export function crossKeyRules(schema: JsonSchema): string[] {
  const rules: string[] = [];
  const alternatives = schema.oneOf;
  if (Array.isArray(alternatives) && alternatives.every((alternative) => isSchema(alternative) && Array.isArray(alternative.required))) {
    const keys = alternatives.map((alternative) => ((alternative as Schema).required as string[]).map((key) => `\`${key}\``).join(' + '));
    rules.push(`Give exactly one of ${keys.join(', ')}.`);
  }
  const clauses = schema.allOf;
  for (const clause of Array.isArray(clauses) ? clauses : []) {
    if (!isSchema(clause) || !isSchema(clause.if) || !isSchema(clause.then)) continue;
    const condition = Object.entries(isSchema(clause.if.properties) ? clause.if.properties : {})
      .filter(([, value]) => isSchema(value) && 'const' in value)
      .map(([key, value]) => `\`${key}: ${String((value as Schema).const)}\``);
    const then = Array.isArray(clause.then.required) ? (clause.then.required as string[]) : [];
    if (condition.length > 0 && then.length > 0)
      rules.push(`With ${condition.join(' and ')}, give ${then.map((key) => `\`${key}\``).join(', ')}.`);
  }
  return rules;
}
