import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { pipelineLimits } from '../../../core/config/pipeline-limits.js';
import { resolveExtends } from '../../../core/config/resolve-extends.js';
import { displayPath } from '../../../core/config/source-map.js';
import { temporaryDirectory } from '../../support/temporary-directory.js';

/** Writes `count` files, each extending the next, and returns their paths (the first is the pipeline). */
function writeChain(directory: string, count: number): string[] {
  const files = Array.from({ length: count }, (_, index) => path.join(directory, `level-${index}.yaml`));
  files.forEach((file, index) => {
    const parent = index + 1 < count ? `extends: ./level-${index + 1}.yaml\n` : '';
    writeFileSync(file, `# level ${index}\n${parent}level_${index}: ${index}\n`);
  });
  return files;
}

test('an extends chain as long as the limit merges; one file longer is refused at the extends that goes past it', async (context) => {
  const longest = pipelineLimits.maxExtendsChain;
  const within = writeChain(temporaryDirectory(context), longest);
  const resolved = await resolveExtends(within[0]!, {});
  assert.deepEqual(resolved.problems, []);
  assert.deepEqual(resolved.sourceFiles, within);
  assert.equal((resolved.value as Record<string, unknown>)[`level_${longest - 1}`], longest - 1);

  const beyond = writeChain(temporaryDirectory(context), longest + 1);
  const refused = await resolveExtends(beyond[0]!, {});
  assert.deepEqual(refused.problems, [
    {
      file: displayPath(beyond[longest - 1]!),
      line: 2,
      column: 10,
      pointer: '/extends',
      message: `extends chain longer than ${longest} files`,
      fix: 'extend a file that holds what the files further up the chain add',
    },
  ]);
});

test('the limit on keys and values holds for a pipeline and the files it extends together', async (context) => {
  const directory = temporaryDirectory(context);
  const lines = (prefix: string, count: number): string => Array.from({ length: count }, (_, index) => `${prefix}${index}: 1\n`).join('');
  // The pipeline: its mapping, extends and its value, 15,000 keys with their values.
  const childNodes = 3 + 2 * 15_000;
  writeFileSync(path.join(directory, 'child.yaml'), `extends: ./parent.yaml\n${lines('x-child-', 15_000)}`);
  writeFileSync(path.join(directory, 'parent.yaml'), lines('x-parent-', 15_000));
  const resolved = await resolveExtends(path.join(directory, 'child.yaml'), {});
  // In the parent, its mapping counts one and each line two: the first to go past is a key.
  const line = Math.floor((pipelineLimits.maxNodes - childNodes - 1) / 2) + 1;
  assert.deepEqual(resolved.problems, [
    {
      file: displayPath(path.join(directory, 'parent.yaml')),
      line,
      column: 1,
      message: `this value takes the pipeline past ${pipelineLimits.maxNodes} keys and values (${childNodes} of them in the files extending this one), the most a pipeline may hold`,
      fix: 'a pipeline is a page of settings: keep data in dataset files named by path, and anchor a value that is used a few times, not thousands',
    },
  ]);
});

test('the limit on bytes holds for a pipeline and the files it extends together', async (context) => {
  const directory = temporaryDirectory(context);
  // Each file holds three fifths of the limit: either alone would be read.
  const filler = (name: string): string => `description: "${'d'.repeat(Math.floor((pipelineLimits.maxBytes * 3) / 5))}"\nname: ${name}\n`;
  const child = `extends: ./parent.yaml\n${filler('child')}`;
  writeFileSync(path.join(directory, 'child.yaml'), child);
  writeFileSync(path.join(directory, 'parent.yaml'), filler('parent'));
  assert.deepEqual((await resolveExtends(path.join(directory, 'parent.yaml'), {})).problems, []);
  const resolved = await resolveExtends(path.join(directory, 'child.yaml'), {});
  const parent = displayPath(path.join(directory, 'parent.yaml'));
  const parentBytes = Buffer.byteLength(filler('parent'));
  assert.deepEqual(
    resolved.problems.map(({ file, line, column, message }) => ({ file, line, column, message })),
    [
      {
        file: parent,
        line: 1,
        column: 1,
        message: `${parent} holds 0.6 MiB (${parentBytes} bytes); a pipeline with the files extending it (${Buffer.byteLength(child)} bytes) may hold at most 1 MiB (${pipelineLimits.maxBytes} bytes)`,
      },
    ],
  );
});
