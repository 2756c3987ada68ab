import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { testPython } from '../core/inference/tiny-student-fixture.js';
import { repositoryRoot } from '../support/paths.js';

// The rule ESLint enforces for the TypeScript of core/, plugins/ and bin/ (no function over 80
// lines), for the Python the plugins run: the trainer's worker and the exporter. Measured on the
// syntax tree, from a function's `def` line to its last line, comments and blank lines included.

const maximumLines = 80;

const measure = `
import ast, pathlib, sys
root = pathlib.Path(sys.argv[1])
for file in sorted(root.rglob('*.py')):
    tree = ast.parse(file.read_text(encoding='utf-8'))
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            print(f"{file.relative_to(root)}:{node.lineno} {node.name} {node.end_lineno - node.lineno + 1}")
`;

test(`no Python function under plugins/ is longer than ${maximumLines} lines`, () => {
  const result = spawnSync(testPython, ['-c', measure, `${repositoryRoot}/plugins`], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  const functions = result.stdout.trim().split('\n');
  assert.ok(functions.length > 50, `the measure found the worker's functions (${functions.length})`);
  const long = functions.filter((line) => Number(line.split(' ').at(-1)) > maximumLines);
  assert.deepEqual(long, []);
});
