import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { Flags, Parser, type Command } from '@oclif/core';
import { commands } from '../../bin/commands/index.js';
import { listRecipes } from '../../core/config/recipes.js';
import { scaffoldRecipePackage } from '../../core/config/scaffold-recipe-package.js';
import { teacherCacheFileName } from '../../core/teacher/cache-location.js';
import { TeacherCache } from '../../core/teacher/teacher-cache.js';
import { distillBin } from '../support/run-distill.js';
import { dsbsDirectory, repositoryRoot, sharedDataMissing } from '../support/paths.js';

// Every `--help` example is run, as a user would paste it into a shell, in a form that spends nothing:
// `run` with --dry-run, `teach`/`train` as `validate` of their pipeline, the commands that need a
// trained model as --help (their flags are still parsed against the command's own), the rest as
// written, in a scratch folder whose `pipelines` is the repository's (so `pipelines/*.yaml` means
// what it means in a fresh clone) and with a scratch teacher cache.
const scratch = mkdtempSync(path.join(tmpdir(), 'distill-examples-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
symlinkSync(path.join(repositoryRoot, 'pipelines'), path.join(scratch, 'pipelines'));
mkdirSync(path.join(scratch, 'cache'));
// The `init --from` and `recipes` examples meet an installed recipe package: the scaffold's, laid out as npm installs it.
await scaffoldRecipePackage({ folder: path.join(scratch, 'node_modules', '@acme', 'distill-recipes'), name: '@acme/distill-recipes' });
// The cache examples meet real (empty) caches: the shared one and the one they name with --path.
for (const file of [path.join(scratch, 'cache', teacherCacheFileName), path.join(scratch, 'my-cache.sqlite')])
  TeacherCache.open(file).close();

const environment: NodeJS.ProcessEnv = {
  ...process.env,
  DISTILL_DSBS_DIR: dsbsDirectory,
  DISTILL_CACHE_DIR: path.join(scratch, 'cache'),
  OPENAI_API_KEY: 'sk-examples-test-key',
  ANTHROPIC_API_KEY: 'sk-ant-examples-test-key',
};
const stackTraceLine = /^\s+at .+:\d+:\d+\)?$/m;

type Form = 'as written' | 'dry run' | 'validate' | 'help';
/** How each command's examples run without spending; a command missing here runs as written. */
const forms: Readonly<Record<string, Form>> = {
  run: 'dry run',
  teach: 'validate',
  train: 'validate',
  // These need an exported student, which no fresh clone has.
  predict: 'help',
  eval: 'help',
  calibrate: 'help',
  export: 'help',
  serve: 'help',
  // This one needs a pipeline extending an installed recipe package and a run of it.
  diff: 'help',
};

interface Example {
  readonly id: string;
  readonly command: Command.Class;
  /** The example as shown by `--help`. */
  readonly text: string;
  /** What follows `distill`, the shell redirection kept. */
  readonly rest: string;
  /** Its words as the shell splits (and globs) them, without the redirection. */
  readonly words: string[];
}

/** Splits a command line's words with the shell itself, in the scratch folder, so quotes and globs work as pasted. */
function shellWords(line: string): string[] {
  const result = spawnSync('sh', ['-c', `for word in ${line}; do printf '%s\\0' "$word"; done`], { cwd: scratch, encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout.split('\0').slice(0, -1);
}

// An example may show a companion command (`curl` against `distill serve`): only distill's own are run.
const commandList: [string, Command.Class][] = Object.entries(commands);
const examples: Example[] = commandList.flatMap(([key, command]) =>
  command.examples
    .map((example: Command.Example) => (typeof example === 'string' ? example : example.command).replaceAll('<%= config.bin %>', 'distill'))
    .filter((text) => /(^|\s)distill\s/.test(text))
    .map((text) => {
      const rest = text.slice(text.search(/(^|\s)distill\s/)).replace(/^\s*distill\s+/, '');
      const words = shellWords(rest.replace(/\s+>\s*\S+\s*$/, ''));
      return { id: key, command, text, rest, words };
    }),
);

/** The words after the command's own (`cache clear` is two). */
function argumentsOf(example: Example): string[] {
  return example.words.slice(example.id.split(':').length);
}

/** The shell line to run for an example, in its spending-nothing form. */
function spendingNothing(example: Example): string {
  const node = `${JSON.stringify(process.execPath)} ${JSON.stringify(distillBin)}`;
  const form = forms[example.id] ?? 'as written';
  if (form === 'help') return `${node} ${example.id.split(':').join(' ')} --help`;
  if (form === 'validate') {
    const pipeline = argumentsOf(example).find((word) => !word.startsWith('-'));
    assert.ok(pipeline, `${example.text}: names no pipeline`);
    return `${node} validate ${pipeline}`;
  }
  const line = `${node} ${example.rest}`;
  if (form === 'dry run') return example.words.includes('--dry-run') ? line : line.replace(/(\s+>\s*\S+\s*)?$/, ' --dry-run$1');
  // Clearing a scratch cache removes nothing anyone paid for; --yes because stdin is no terminal here.
  if (example.id === 'cache:clear' && !example.words.includes('--yes')) return `${line} --yes`;
  return line;
}

test('every command has examples', () => {
  for (const [id, command] of commandList) assert.ok(command.examples.length > 0, `${id} has no example`);
});

test('every example parses against its command’s own flags and arguments', async () => {
  for (const example of examples) {
    const { command } = example;
    await assert.doesNotReject(
      Parser.parse(argumentsOf(example), {
        flags: { ...command.baseFlags, ...command.flags, json: Flags.boolean() },
        args: command.args,
        strict: command.strict,
      }),
      example.text,
    );
  }
});

for (const example of examples) {
  test(`example runs: ${example.text}`, { skip: sharedDataMissing(), timeout: 180_000 }, () => {
    const line = spendingNothing(example);
    const result = spawnSync('sh', ['-c', line], { cwd: scratch, env: environment, encoding: 'utf8', timeout: 170_000 });
    const output = result.stdout + result.stderr;
    assert.equal(result.status, 0, `${line}\nexited ${result.status}:\n${output.slice(-3000)}`);
    assert.doesNotMatch(output, stackTraceLine, `${line} printed a stack trace`);
  });
}

test('init --help lists every recipe, from the one recipe list', () => {
  const result = spawnSync(process.execPath, [distillBin, 'init', '--help'], { encoding: 'utf8' });
  assert.equal(result.status, 0);
  const recipes = listRecipes();
  assert.ok(recipes.includes('quickstart') && recipes.length > 5, recipes.join(', '));
  const help = result.stdout.replaceAll(/\s+/g, ' ');
  for (const recipe of recipes) assert.ok(help.includes(recipe), `init --help does not name the recipe ${recipe}`);
});

test('the cache topic has a summary of its own, not one of its commands’', () => {
  const result = spawnSync(process.execPath, [distillBin, 'cache', '--help'], { encoding: 'utf8' });
  assert.equal(result.status, 0);
  const topicSummary = result.stdout.split('\n')[0]!;
  assert.match(topicSummary, /teacher cache/);
  for (const [id, command] of commandList) {
    if (id.startsWith('cache:')) assert.notEqual(topicSummary, command.summary, `the topic shows ${id}'s summary`);
  }
});
