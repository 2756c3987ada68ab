import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { Problem } from '../../../core/errors/problem.js';
import { UserError } from '../../../core/errors/user-error.js';
import { loadExternalPlugins } from '../../../core/plugins/load-external-plugins.js';
import { temporaryDirectory } from '../../support/temporary-directory.js';

const location = { file: 'pipeline.yaml', line: 4, column: 5, pointer: '/plugins/0' };

/** Loads one plugin file written into `directory`, returning the problems it gave. */
async function problemsOf(directory: string, name: string, source: string): Promise<readonly Problem[]> {
  writeFileSync(path.join(directory, name), source);
  try {
    await loadExternalPlugins([{ specifier: `./${name}`, baseDirectory: directory, location }]);
  } catch (error) {
    assert.ok(error instanceof UserError, `expected a UserError, got ${String(error)}`);
    return error.problems;
  }
  assert.fail(`${name} loaded`);
}

test('a plugin that calls process.exit while imported is reported at its reference, and process.exit is restored', async (context) => {
  const directory = temporaryDirectory(context);
  // A stand-in, so that a missing guard fails this test instead of ending it with status 0.
  // eslint-disable-next-line @typescript-eslint/unbound-method -- kept only to be put back on `process`, never called detached
  const exit = process.exit;
  const calls: unknown[] = [];
  const standIn = ((code?: number) => {
    calls.push(code);
    throw new Error('the real process.exit was reached');
  }) as typeof process.exit;
  process.exit = standIn;
  context.after(() => {
    process.exit = exit;
  });
  assert.deepEqual(await problemsOf(directory, 'exits.js', 'process.exit(0);\n'), [
    {
      ...location,
      message: 'plugin "./exits.js" called process.exit(0) while being imported',
      fix: 'a plugin must not end the process; throw an error instead, and distill reports it',
    },
  ]);
  assert.ok(process.exit === standIn, 'what was there before loading is put back');
  // After a top-level await, and with the refusal caught: still reported.
  const later = await problemsOf(
    directory,
    'exits-later.js',
    'await Promise.resolve();\ntry { process.exit(3); } catch {}\nexport default {};\n',
  );
  assert.deepEqual(
    later.map((problem) => problem.message),
    ['plugin "./exits-later.js" called process.exit(3) while being imported'],
  );
  assert.ok(process.exit === standIn);
  assert.deepEqual(calls, [], 'no call reached the process.exit in place before loading');
});

test('a plugin whose import rejects is reported with the reason', async (context) => {
  const directory = temporaryDirectory(context);
  assert.deepEqual(await problemsOf(directory, 'rejects.js', "await Promise.reject(new Error('no model found'));\n"), [
    { ...location, message: 'plugin "./rejects.js" failed to load: no model found' },
  ]);
});

test(
  'a plugin path that is a FIFO or a folder is refused without being imported',
  { timeout: 20_000, skip: process.platform === 'win32' && 'needs mkfifo' },
  async (context) => {
    const directory = temporaryDirectory(context);
    assert.equal(spawnSync('mkfifo', [path.join(directory, 'pipe.js')]).status, 0);
    mkdirSync(path.join(directory, 'folder.js'));
    // Importing the FIFO would leave a read pending forever, keeping the process alive.
    await assert.rejects(
      loadExternalPlugins([
        { specifier: './pipe.js', baseDirectory: directory, location },
        { specifier: './folder.js', baseDirectory: directory, location },
      ]),
      (error: unknown) => {
        assert.ok(error instanceof UserError);
        assert.deepEqual(
          error.problems.map((problem) => problem.message),
          [
            `cannot load plugin ${path.join(directory, 'pipe.js')}: it is a named pipe (FIFO)`,
            `cannot load plugin ${path.join(directory, 'folder.js')}: it is a folder`,
          ],
        );
        return true;
      },
    );
  },
);

/** A sampler written with TypeScript-only syntax: an interface, annotations, `satisfies`, an enum, a type import. */
const typeScriptSampler = `import type { SampleItem } from 'distill';
interface Options { readonly prefix: string }
enum Mark { Seen = 'seen' }
const descriptor = {
  id: 'mark',
  kind: 'sampler' as const,
  version: '1.0.0',
  summary: 'Prefixes every input.',
  optionsSchema: { type: 'object', additionalProperties: false, properties: { prefix: { type: 'string' } } },
  create(options: Options) {
    return { apply: (items: readonly SampleItem[]): SampleItem[] => items.map((item) => ({ ...item, input: \`\${options.prefix}\${item.input} (\${Mark.Seen})\` })) };
  },
} satisfies { id: string };
export default descriptor;
`;

test('a TypeScript plugin (.ts, .mts) loads with its types stripped, and works', async (context) => {
  const directory = temporaryDirectory(context);
  writeFileSync(path.join(directory, 'mark.ts'), typeScriptSampler);
  writeFileSync(path.join(directory, 'other.mts'), typeScriptSampler.replace("id: 'mark'", "id: 'other-mark'"));
  const descriptors = await loadExternalPlugins([
    { specifier: './mark.ts', baseDirectory: directory, location },
    { specifier: './other.mts', baseDirectory: directory, location },
  ]);
  assert.deepEqual(
    descriptors.map((descriptor) => `${descriptor.kind}/${descriptor.id}`),
    ['sampler/mark', 'sampler/other-mark'],
  );
  const sampler = (await descriptors[0]!.create({ prefix: '> ' }, {} as never)) as {
    apply(items: { input: string }[]): { input: string }[];
  };
  assert.deepEqual(sampler.apply([{ input: 'a review' }]), [{ input: '> a review (seen)' }]);
});

test('a TypeScript plugin with a syntax error is reported at its reference with file:line:col, on one line', async (context) => {
  const directory = temporaryDirectory(context);
  const file = path.join(directory, 'broken.ts');
  assert.deepEqual(await problemsOf(directory, 'broken.ts', 'const size: number = ;\nexport default {};\n'), [
    { ...location, message: `plugin "./broken.ts" failed to load: syntax error at ${file}:1:21: Unexpected token` },
  ]);
});
