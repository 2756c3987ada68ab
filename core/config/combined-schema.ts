import type { JsonSchema } from '../plugins/json-schema.js';
import type { PluginKind } from '../plugins/plugin-kind.js';
import type { PluginRegistry } from '../plugins/plugin-registry.js';
import { pluginSteps } from './pipeline-config.js';
import { pipelineSchema } from './pipeline-schema.js';

type MutableSchema = Record<string, unknown>;

const pluginSchemaBase = 'https://distill.dev/schemas/plugins';

// Keywords whose value is a map of schemas, a list of schemas, or one schema: the only places
// where distill's own keywords can appear. Everything else (enum, const, default…) is data.
const schemaMaps = new Set(['properties', 'patternProperties', 'definitions', '$defs', 'dependentSchemas']);
const schemaLists = new Set(['allOf', 'anyOf', 'oneOf', 'prefixItems']);
const singleSchemas = new Set([
  'items',
  'additionalItems',
  'additionalProperties',
  'not',
  'if',
  'then',
  'else',
  'contains',
  'propertyNames',
  'unevaluatedItems',
  'unevaluatedProperties',
]);

/**
 * A plugin's options schema as editors and a plain ajv read it: distill's own keywords become
 * standard ones (`secret` → `writeOnly`, `existingPath` → a note in the description) and the
 * embedded schema gets an `$id`, so that its local `$ref`s still resolve where it is inlined.
 */
function portableSchema(schema: unknown, kind: PluginKind, id: string, root = false): unknown {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return schema;
  const source = schema as MutableSchema;
  const result: MutableSchema = {};
  for (const [keyword, value] of Object.entries(source)) {
    if (keyword === 'secret') {
      if (value === true) result.writeOnly = true;
    } else if (keyword === 'existingPath') {
      if (value === true) {
        const description = typeof source.description === 'string' ? `${source.description} ` : '';
        result.description = `${description}(a path relative to the pipeline file; it must exist)`;
      }
    } else if (keyword === '$schema' && root) {
      // A draft marker inside an embedded schema confuses validators; the combined schema has one.
    } else if (keyword === 'description' && source.existingPath === true) {
      // merged into the existingPath note above
    } else if (schemaMaps.has(keyword) && typeof value === 'object' && value !== null) {
      result[keyword] = Object.fromEntries(Object.entries(value).map(([name, child]) => [name, portableSchema(child, kind, id)]));
    } else if (schemaLists.has(keyword) && Array.isArray(value)) {
      result[keyword] = value.map((child) => portableSchema(child, kind, id));
    } else if (singleSchemas.has(keyword) || (keyword === 'items' && Array.isArray(value))) {
      result[keyword] = Array.isArray(value) ? value.map((child) => portableSchema(child, kind, id)) : portableSchema(value, kind, id);
    } else {
      result[keyword] = value;
    }
  }
  if (root && result.$id === undefined) result.$id = `${pluginSchemaBase}/${kind}/${id}.json`;
  return result;
}

/** `if use is <id> then options follow <id>'s schema`, one per plugin of the kind. */
function pluginConditions(registry: PluginRegistry, kind: PluginKind): MutableSchema[] {
  return registry.list(kind).map((descriptor) => ({
    if: { type: 'object', required: ['use'], properties: { use: { const: descriptor.id } } },
    then: { properties: { options: portableSchema(descriptor.optionsSchema, kind, descriptor.id, true) } },
  }));
}

/**
 * The pipeline schema combined with every registered plugin's options schema, for `distill schema`
 * and editors (`# yaml-language-server: $schema=…`). Each step gets, per plugin of its kind, an
 * `if {use: const id} then {options: <plugin schema>}` clause, and `use` lists the known ids as
 * `examples` (not an `enum`: external plugins may add ids the combined schema cannot know).
 */
export function combinedSchema(registry: PluginRegistry): JsonSchema {
  const schema = structuredClone<MutableSchema>(pipelineSchema());
  const properties = schema.properties as Record<string, MutableSchema>;
  const definitions = (schema.definitions ?? {}) as Record<string, MutableSchema>;
  schema.definitions = definitions;
  const step = definitions.step!;

  for (const { pointer, kind, list } of pluginSteps) {
    const key = pointer.slice(1);
    const property = properties[key]!;
    const target = list ? (property.items as MutableSchema) : property;
    let stepSchema: MutableSchema;
    if (target.$ref === '#/definitions/step') {
      // Shared `step` shape: give each kind its own copy carrying that kind's plugin schemas.
      const name = `${kind}-step`;
      definitions[name] ??= structuredClone(step);
      stepSchema = definitions[name];
      target.$ref = `#/definitions/${name}`;
    } else {
      stepSchema = target;
    }
    const ids = registry.ids(kind);
    const stepProperties = stepSchema.properties as Record<string, MutableSchema>;
    stepProperties.use = { ...stepProperties.use, ...(ids.length > 0 ? { examples: ids } : {}) };
    const conditions = pluginConditions(registry, kind);
    if (conditions.length > 0) stepSchema.allOf = conditions;
  }
  return schema;
}
