import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { pipelineReference, referenceCommand, referencePages } from '../../../core/config/pipeline-reference.js';
import { pipelineSchema } from '../../../core/config/pipeline-schema.js';
import { crossKeyRules, describeOptions } from '../../../core/plugins/describe-options.js';
import { describePlugin } from '../../../core/plugins/describe-plugin.js';
import type { AnyPluginDescriptor } from '../../../core/plugins/plugin-descriptor.js';
import { builtinRegistry } from '../../../plugins/composition-root.js';
import { repositoryRoot } from '../../support/paths.js';

test('every key of the pipeline schema and every option of every built-in plugin has a description', () => {
  const undocumented = [
    ...describeOptions(pipelineSchema()).map((option) => ({ ...option, path: `pipeline: ${option.path}` })),
    ...builtinRegistry()
      .list()
      .flatMap((descriptor) =>
        describeOptions(descriptor.optionsSchema).map((option) => ({
          ...option,
          path: `${descriptor.kind}/${descriptor.id}: ${option.path}`,
        })),
      ),
  ]
    .filter((option) => option.description === undefined || option.description.trim() === '')
    .map((option) => option.path);
  assert.deepEqual(undocumented, [], 'add a description to each of these keys');
});

test('the checked-in reference pages are what the schemas and descriptors generate, and no page is left over', () => {
  const pages = referencePages(builtinRegistry());
  const stale: string[] = [];
  for (const [page, text] of pages) {
    const file = path.join(repositoryRoot, page);
    if (!existsSync(file) || readFileSync(file, 'utf8') !== text) stale.push(page);
  }
  const leftOver = readdirSync(path.join(repositoryRoot, 'docs', 'plugins'))
    .map((name) => `docs/plugins/${name}`)
    .filter((page) => !pages.has(page));
  assert.deepEqual([...stale, ...leftOver], [], `the generated reference is out of date; regenerate it with: ${referenceCommand}`);
});

test('each key is described with its type, requirement, default, bounds and example; $refs, lists and maps are followed', () => {
  const schema = {
    type: 'object',
    required: ['step'],
    properties: {
      step: { $ref: '#/definitions/step', description: 'A step.' },
      rate: { type: 'number', minimum: 0, exclusiveMaximum: 1, default: 0.5, description: 'A rate.', examples: [0.25] },
      items: { type: 'array', items: { type: 'object', properties: { name: { enum: ['a', 'b'], description: 'Which.' } } } },
      prices: { type: 'object', additionalProperties: { type: 'object', properties: { prompt: { type: 'number' } } } },
      key: { type: 'string', secret: true, description: 'A key.' },
    },
    definitions: { step: { type: 'object', required: ['use'], properties: { use: { type: 'string', description: 'Plugin id.' } } } },
  };
  assert.deepEqual(describeOptions(schema), [
    { path: 'step', type: 'object', required: true, description: 'A step.', constraints: [] },
    { path: 'step.use', type: 'string', required: true, description: 'Plugin id.', constraints: [] },
    { path: 'rate', type: 'number', required: false, default: 0.5, description: 'A rate.', constraints: ['≥ 0', '< 1'], example: 0.25 },
    { path: 'items', type: 'list of object', required: false, constraints: [] },
    { path: 'items[].name', type: 'one of "a", "b"', required: false, description: 'Which.', constraints: [] },
    { path: 'prices', type: 'map of object', required: false, constraints: [] },
    { path: 'prices.<key>.prompt', type: 'number', required: false, constraints: [] },
    {
      path: 'key',
      type: 'string',
      required: false,
      description: 'A key.',
      constraints: ['secret: redacted from output and left out of cache keys'],
    },
  ]);
});

test('a plugin page gives every option and a pipeline snippet that names the plugin where its kind goes', () => {
  const sampler: AnyPluginDescriptor = {
    id: 'keep-short',
    kind: 'sampler',
    version: '2.1.0',
    summary: 'Keeps short rationales.',
    optionsSchema: {
      type: 'object',
      description: 'Drops rationales over a length.',
      additionalProperties: false,
      required: ['max_words'],
      properties: { max_words: { type: 'integer', minimum: 1, description: 'Longest rationale kept, in words.' } },
    },
    exampleOptions: { max_words: 40 },
    create: () => ({ apply: (items: unknown[]) => items }),
  };
  const page = describePlugin(sampler);
  assert.match(page, /^# sampler plugin `keep-short`\n\nVersion 2\.1\.0\. Keeps short rationales\./);
  assert.match(page, /\nDrops rationales over a length\.\n/);
  assert.match(page, /\n- `max_words` \(integer, required\): Longest rationale kept, in words\. Allowed: ≥ 1\.\n/);
  const snippet = /```yaml\n([\s\S]*?)```/.exec(page)![1]!;
  assert.deepEqual(parse(snippet), { samplers: [{ use: 'keep-short', options: { max_words: 40 } }] });
});

test('the pipeline reference documents the student sizes, the regex flavour and where labels and fields belong', () => {
  const registry = builtinRegistry();
  const reference = pipelineReference(registry);
  assert.match(reference, /`tiny`: d_model 128, d_ff 512, d_kv 32, 4 heads, 2 encoder and 2 decoder layers/);
  assert.match(reference, /\[`csv`\]\(plugins\/dataset-csv\.md\)/);
  const regex = describePlugin(registry.get('parser', 'regex'));
  assert.match(regex, /JavaScript regular expressions \(`new RegExp\(pattern, "is"\)`/);
  const jsonl = describePlugin(registry.get('dataset', 'jsonl'));
  assert.match(jsonl, /\*\*Labels\*\* belong here, on the dataset/);
  assert.match(jsonl, /\*\*`student_input`\*\* is what the student sees/);
  // Every snippet on every page is YAML that names its plugin.
  for (const descriptor of registry.list()) {
    const snippet = /```yaml\n([\s\S]*?)```/.exec(describePlugin(descriptor))![1]!;
    assert.match(JSON.stringify(parse(snippet)), new RegExp(`"use":"${descriptor.id}"`), `${descriptor.kind}/${descriptor.id}`);
  }
});

test('rules between options are spelled out: exactly one of, and what a value of another option requires', () => {
  const registry = builtinRegistry();
  assert.match(describePlugin(registry.get('prompt', 'template')), /\n- Give exactly one of `name`, `template`, `template_file`\.\n/);
  const recorded = describePlugin(registry.get('teacher', 'recorded'));
  assert.match(recorded, /\n- With `source: jsonl`, give `file`\.\n/);
});

test('rules of shapes the reference does not know how to say are left to the descriptions, not misread', () => {
  assert.deepEqual(crossKeyRules({ oneOf: [{ required: ['a'] }, { type: 'string' }] }), []);
  assert.deepEqual(crossKeyRules({ allOf: [{ if: { properties: { a: { minimum: 1 } } }, then: { required: ['b'] } }] }), []);
});
