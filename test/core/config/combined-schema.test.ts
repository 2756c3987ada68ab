import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Ajv } from 'ajv';
import { combinedSchema } from '../../../core/config/combined-schema.js';
import { PluginRegistry } from '../../../core/plugins/plugin-registry.js';
import type { AnyPluginDescriptor } from '../../../core/plugins/plugin-descriptor.js';
import { jsonAt } from '../../support/json-at.js';
import { stableRegistry } from './stable-registry.js';

const secretTeacher: AnyPluginDescriptor = {
  id: 'vault-teacher',
  kind: 'teacher',
  version: '1.0.0',
  summary: 'A teacher whose schema uses distill keywords and local references.',
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['model'],
    properties: {
      model: { type: 'string' },
      api_key: { type: 'string', secret: true },
      prompt_file: { type: 'string', existingPath: true, description: 'Template file.' },
      retry: { $ref: '#/definitions/retry' },
      // An option named like a distill keyword is data, not a keyword.
      secret: { type: 'boolean' },
    },
    definitions: { retry: { type: 'object', additionalProperties: false, properties: { max_tokens: { type: 'integer' } } } },
  },
  create: () => ({}),
};

const pipeline = (teacherOptions: Record<string, unknown>): Record<string, unknown> => ({
  name: 'demo',
  dataset: { use: 'some-dataset' },
  teacher: { use: 'vault-teacher', options: teacherOptions },
  prompt: { use: 'some-prompt' },
  parser: { use: 'some-parser' },
  student: { size: 'tiny' },
  trainer: { use: 'some-trainer' },
  evaluators: [{ use: 'exact-match', options: { ignore_case: false } }],
});

test('a plain strict ajv compiles the combined schema and checks plugin options by `use`', () => {
  const schema = combinedSchema(new PluginRegistry([...stableRegistry().list(), secretTeacher]));
  const validate = new Ajv({ allErrors: true }).compile(schema);
  assert.equal(
    validate(pipeline({ model: 'm', api_key: 'k', retry: { max_tokens: 3 }, secret: true })),
    true,
    JSON.stringify(validate.errors),
  );

  assert.equal(validate(pipeline({ model: 'm', retry: { max_tokns: 3 } })), false);
  assert.ok(
    validate.errors?.some((error) => error.instancePath === '/teacher/options/retry' && error.params.additionalProperty === 'max_tokns'),
  );

  const misspeltEvaluator = { ...pipeline({ model: 'm' }), evaluators: [{ use: 'exact-match', options: { ignore_cas: true } }] };
  assert.equal(validate(misspeltEvaluator), false);
  assert.ok(
    validate.errors?.some((error) => error.instancePath === '/evaluators/0/options' && error.params.additionalProperty === 'ignore_cas'),
  );
});

test('distill keywords become standard annotations and ids are offered as examples', () => {
  const schema = combinedSchema(new PluginRegistry([...stableRegistry().list(), secretTeacher]));
  const teacher = jsonAt(schema, 'properties', 'teacher');
  assert.deepEqual(jsonAt(teacher, 'properties', 'use', 'examples'), ['vault-teacher']);
  const options = jsonAt(teacher, 'allOf', 0, 'then', 'properties', 'options');
  assert.equal(jsonAt(options, 'properties', 'api_key', 'writeOnly'), true);
  assert.equal(jsonAt(options, 'properties', 'api_key', 'secret'), undefined);
  assert.equal(
    jsonAt(options, 'properties', 'prompt_file', 'description'),
    'Template file. (a path relative to the pipeline file; it must exist)',
  );
  assert.deepEqual(jsonAt(options, 'properties', 'secret'), { type: 'boolean' });
  assert.deepEqual(jsonAt(schema, 'properties', 'evaluators', 'items'), { $ref: '#/definitions/evaluator-step' });
  assert.deepEqual(jsonAt(schema, 'definitions', 'evaluator-step', 'properties', 'use', 'examples'), ['exact-match', 'numeric-equality']);
});
