import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createAjv, type ValidationContext } from '../../../core/config/create-ajv.js';
import type { Teacher, TeacherDescriptor } from '../../../core/plugins/kinds/teacher.js';
import type { AnyPluginDescriptor } from '../../../core/plugins/plugin-descriptor.js';
import { pluginKinds, type PluginKind } from '../../../core/plugins/plugin-kind.js';
import { descriptorProblems } from '../../../core/plugins/validate-descriptor.js';
import { builtinRegistry } from '../../../plugins/composition-root.js';
import { repositoryRoot, sharedDataMissing } from '../../support/paths.js';
import { testDependencies } from '../../support/test-dependencies.js';
import { assertAccounting, assertMembers, kindContracts } from './kind-contracts.js';
import { samplePlugins } from './samples/sample-plugins.js';

// One contract suite per plugin kind, run over every built-in plugin of that kind and over the
// kind's sample plugin (so every suite runs, and the harness is known to pass a correct plugin).
// Example options are relative to the repository root, as if a pipeline sat there.

const unknownKey = 'distill_contract_unknown_key';
const strictAjv = createAjv();
const defaultingAjv = createAjv({ useDefaults: true });

/** Fake credentials for any variable named like one, so providers can be created offline. */
const environment: Readonly<Record<string, string | undefined>> = new Proxy<Record<string, string | undefined>>(
  {},
  {
    get: (_target, name) =>
      typeof name === 'string' && /(API_?KEY|TOKEN|SECRET)$/.test(name) ? `fake-${name.toLowerCase()}-0123456789` : undefined,
  },
);
const fakeSecrets = ['fake-'];

function exampleOptions(descriptor: AnyPluginDescriptor): Record<string, unknown> {
  return structuredClone((descriptor.exampleOptions ?? {}) as Record<string, unknown>);
}

/** Why a plugin's example cannot be exercised here, or false. */
function needsMissingData(descriptor: AnyPluginDescriptor): string | false {
  return JSON.stringify(descriptor.exampleOptions ?? {}).includes('shared/data') ? sharedDataMissing() : false;
}

/** Runs `action` with `fetch` replaced by one that records calls and fails them. */
async function withoutNetwork<Result>(action: () => Promise<Result>): Promise<{ result: Result; requests: string[] }> {
  const original = globalThis.fetch;
  const requests: string[] = [];
  globalThis.fetch = (input: string | URL | Request) => {
    requests.push(String(input instanceof Request ? input.url : input));
    return Promise.reject(new Error('network access during create'));
  };
  try {
    return { result: await action(), requests };
  } finally {
    globalThis.fetch = original;
  }
}

/**
 * A teacher descriptor's accounting, given without creating the teacher (`distill estimate`), is the
 * created teacher's; its comparison options give an accounting that works too.
 */
async function checkTeacherDescriptor(descriptor: TeacherDescriptor, options: Record<string, unknown>, teacher: Teacher): Promise<void> {
  if (!descriptor.accounting) return;
  const accounting = descriptor.accounting(options);
  assert.deepEqual([accounting.provider, accounting.model], [teacher.provider, teacher.model]);
  assert.deepEqual(accounting.listedPrice?.() ?? null, teacher.listedPrice?.() ?? null);
  assert.equal(accounting.tokenCounter === undefined, teacher.tokenCounter === undefined);
  await assertAccounting(accounting);
  if (descriptor.comparisonOptions) await assertAccounting(descriptor.accounting(descriptor.comparisonOptions));
}

function contractSuite(kind: PluginKind, descriptor: AnyPluginDescriptor, label: string): void {
  describe(label, () => {
    test('descriptor is well formed', () => {
      assert.deepEqual(descriptorProblems(descriptor, label), []);
      assert.equal(descriptor.kind, kind);
    });

    test('options schema compiles under strict ajv and rejects an unknown key', () => {
      const validate = strictAjv.compile(descriptor.optionsSchema);
      assert.equal(validate({ ...exampleOptions(descriptor), [unknownKey]: true }), false, 'an unknown key must be rejected');
      assert.ok(
        validate.errors?.some((error) => error.keyword === 'additionalProperties' && error.params.additionalProperty === unknownKey),
        `expected an additionalProperties error, got ${JSON.stringify(validate.errors)}`,
      );
    });

    test('example options (or {}) are valid', { skip: needsMissingData(descriptor) }, () => {
      const validate = strictAjv.compile(descriptor.optionsSchema);
      const context: ValidationContext = { baseDirectory: repositoryRoot };
      const valid = validate.call(context, exampleOptions(descriptor));
      assert.equal(valid, true, `${JSON.stringify(validate.errors)}; give the descriptor exampleOptions that create a working instance`);
    });

    test(`create returns a ${kind} without network access`, { skip: needsMissingData(descriptor) }, async () => {
      const options = exampleOptions(descriptor);
      // As in a pipeline: create receives options with the schema's defaults filled in.
      defaultingAjv.compile(descriptor.optionsSchema).call({ baseDirectory: repositoryRoot } satisfies ValidationContext, options);
      const { result: instance, requests } = await withoutNetwork(
        async (): Promise<unknown> => await descriptor.create(options, testDependencies({ baseDirectory: repositoryRoot, environment })),
      );
      assert.deepEqual(requests, [], 'create must not make network calls');
      const contract = kindContracts[kind];
      assertMembers(instance, contract.members);
      await contract.check?.(instance as never, fakeSecrets);
      if (kind === 'teacher') await checkTeacherDescriptor(descriptor, options, instance as Teacher);
    });
  });
}

for (const kind of pluginKinds) {
  describe(`${kind} contract`, () => {
    const builtins = builtinRegistry().list(kind);
    for (const descriptor of builtins) contractSuite(kind, descriptor, `${kind}/${descriptor.id}`);
    const sample = samplePlugins.find((descriptor) => descriptor.kind === kind);
    if (sample) contractSuite(kind, sample, `${kind}/${sample.id} (sample)`);
    test('is exercised by at least one plugin', () => assert.ok(builtins.length > 0 || sample, `no plugin of kind ${kind} to test`));
  });
}

test('the harness rejects an instance that misses a contract member', () => {
  assert.throws(
    () => assertMembers({ provider: 'x', requestOptions: {}, cacheable: true, complete: () => null }, kindContracts.teacher.members),
    /"model" must be a string/,
  );
  assert.throws(() => assertMembers(null, kindContracts.evaluator.members), /create must return an object, got null/);
});
