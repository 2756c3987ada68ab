import assert from 'node:assert/strict';
import type { DatasetExample } from '../../../core/plugins/kinds/dataset.js';
import type { PluginInstanceByKind } from '../../../core/plugins/kinds/index.js';
import type { SampleItem } from '../../../core/plugins/kinds/sampler.js';
import type { TeacherAccounting } from '../../../core/plugins/kinds/teacher.js';
import type { PluginKind } from '../../../core/plugins/plugin-kind.js';

/** How a contract member is checked: its `typeof`, or `array`, or `array-or-null`. */
export type MemberType = 'string' | 'number' | 'boolean' | 'function' | 'object' | 'array' | 'array-or-null';

/** What every instance of a kind must offer, and a cheap behavioural check without I/O or network. */
export interface KindContract<K extends PluginKind> {
  /** Members of the kind's interface in `core/plugins/kinds/`, with their types. */
  readonly members: Readonly<Record<string, MemberType>>;
  /** Calls the contract where that is cheap and offline; throws an assertion error on a violation. */
  readonly check?: (instance: PluginInstanceByKind[K], secrets: readonly string[]) => void | Promise<void>;
}

const example = (fields: Record<string, unknown>): DatasetExample => ({ id: 'contract/0', split: 'test', fields, goldLabel: 'yes' });

function assertParsedAnswer(answer: unknown): void {
  const value = answer as Record<string, unknown>;
  assert.ok(value.status === 'parsed' || value.status === 'unparsed', `status is ${String(value.status)}`);
  assert.ok(value.rationale === null || typeof value.rationale === 'string', 'rationale is text or null');
  if (value.status === 'parsed') assert.equal(typeof value.label, 'string');
  else {
    assert.equal(value.label, null, 'an unparsed answer has no label');
    assert.equal(typeof value.reason, 'string', 'an unparsed answer says why');
  }
}

function sampleItems(count: number): SampleItem[] {
  return Array.from({ length: count }, (_, index) => ({
    id: `item-${index}`,
    input: `question ${index}`,
    goldLabel: index % 2 === 0 ? 'yes' : 'no',
    teacherLabel: 'yes',
    label: 'yes',
    rationale: `because of reason number ${index} in this sentence`,
  }));
}

/** A teacher's optional accounting members, where present, work offline and give what the contract says. */
export async function assertAccounting(accounting: TeacherAccounting): Promise<void> {
  if (accounting.tokenCounter !== undefined) {
    const counter = await accounting.tokenCounter();
    assert.ok(counter.method.length > 0 && typeof counter.exact === 'boolean', 'a counter says how it counts');
    const short = counter.countMessages([{ role: 'user', content: 'one two three' }]);
    const long = counter.countMessages([{ role: 'user', content: 'one two three four five six seven eight nine ten' }]);
    assert.ok(Number.isInteger(short) && short > 0 && long > short, `a longer prompt counts more (${short}, ${long})`);
  }
  if (accounting.listedPrice !== undefined) {
    const price = accounting.listedPrice();
    if (price !== null) {
      assert.ok(price.key.startsWith(`${accounting.provider}/`), `a price row is keyed provider/model, got ${price.key}`);
      assert.ok(price.prompt >= 0 && price.completion >= 0, 'prices are dollars per million tokens');
    }
  }
}

/** The contract of each kind, mirroring `core/plugins/kinds/*.ts`. */
export const kindContracts: { readonly [K in PluginKind]: KindContract<K> } = {
  dataset: {
    members: {
      splits: 'array',
      fields: 'array',
      labels: 'array-or-null',
      read: 'function',
      studentInput: 'function',
      sourceFiles: 'function',
    },
    check(dataset) {
      assert.ok(dataset.splits.length > 0, 'a dataset has at least one split');
      for (const name of [...dataset.splits, ...dataset.fields, ...(dataset.labels ?? [])]) assert.equal(typeof name, 'string');
      const files = dataset.sourceFiles(dataset.splits[0]!);
      assert.ok(Array.isArray(files) && files.every((file) => typeof file === 'string'), 'sourceFiles lists paths');
    },
  },
  teacher: {
    members: { provider: 'string', model: 'string', requestOptions: 'object', cacheable: 'boolean', complete: 'function' },
    async check(teacher, secrets) {
      assert.ok(teacher.provider.length > 0 && teacher.model.length > 0, 'provider and model are named');
      const options = JSON.stringify(teacher.requestOptions);
      assert.equal(typeof options, 'string', 'requestOptions are plain JSON (they go into cache keys)');
      for (const secret of secrets) assert.ok(!options.includes(secret), 'requestOptions never hold a secret');
      await assertAccounting(teacher);
      if (teacher.timeoutMilliseconds !== undefined) assert.ok(teacher.timeoutMilliseconds > 0, 'timeoutMilliseconds is a duration');
    },
  },
  prompt: {
    members: { placeholders: 'array', templateHash: 'string', shots: 'number', render: 'function' },
    check(prompt) {
      assert.ok(Number.isInteger(prompt.shots) && prompt.shots >= 0, 'shots is a count');
      assert.ok(prompt.templateHash.length > 0, 'templateHash is set');
      const fields = Object.fromEntries(prompt.placeholders.map((name) => [name, `value of ${name}`]));
      const messages = prompt.render(example(fields));
      assert.ok(messages.length > 0, 'render gives at least one message');
      for (const message of messages) {
        assert.ok(['system', 'user', 'assistant'].includes(message.role), `role ${message.role}`);
        assert.equal(typeof message.content, 'string');
      }
    },
  },
  parser: {
    members: { parse: 'function' },
    check(parser) {
      // Nothing is dropped: even an empty or unrelated completion comes back as an answer.
      assertParsedAnswer(parser.parse('', example({})));
      assertParsedAnswer(parser.parse('I would rather not say anything about this at all.', example({})));
    },
  },
  sampler: {
    members: { apply: 'function' },
    check(sampler) {
      assert.deepEqual(sampler.apply([], { seed: 1 }), [], 'nothing in, nothing out');
      const items = sampleItems(8);
      const first = sampler.apply(items, { seed: 3 });
      assert.ok(Array.isArray(first));
      assert.deepEqual(sampler.apply(items, { seed: 3 }), first, 'deterministic for a seed');
      const ids = new Set(items.map((item) => item.id));
      for (const item of first) assert.ok(ids.has(item.id), 'items keep their ids');
    },
  },
  'loss-weight': {
    members: { schedule: 'function' },
    check(lossWeight) {
      const { start, end } = lossWeight.schedule();
      for (const alpha of [start, end]) assert.ok(typeof alpha === 'number' && alpha >= 0 && alpha <= 1, `α ${alpha} in [0, 1]`);
    },
  },
  trainer: { members: { train: 'function' } },
  evaluator: {
    members: { metric: 'string', score: 'function' },
    check(evaluator) {
      assert.ok(evaluator.metric.length > 0);
      assert.equal(evaluator.score('2', '2'), 1, 'a prediction equal to gold scores 1');
      assert.equal(evaluator.score('2', '3'), 0, 'a different one scores 0');
    },
  },
  exporter: { members: { export: 'function' } },
};

/** Asserts that an instance has each member of its kind's contract, with the right type. */
export function assertMembers(instance: unknown, members: Readonly<Record<string, MemberType>>): void {
  assert.ok(
    typeof instance === 'object' && instance !== null,
    `create must return an object, got ${instance === null ? 'null' : typeof instance}`,
  );
  const record = instance as Record<string, unknown>;
  for (const [name, type] of Object.entries(members)) {
    const value = record[name];
    if (type === 'array') assert.ok(Array.isArray(value), `"${name}" must be an array`);
    else if (type === 'array-or-null') assert.ok(value === null || Array.isArray(value), `"${name}" must be an array or null`);
    else if (type === 'object')
      assert.ok(typeof value === 'object' && value !== null && !Array.isArray(value), `"${name}" must be an object`);
    else assert.equal(typeof value, type, `"${name}" must be a ${type}`);
  }
}
