import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { loadStudent } from '../../plugins/index.js';
import { environmentWithDistillOnPath, printedModel } from '../support/distill-on-path.js';
import { writeMarkdownFiles } from '../support/markdown-files.js';
import { startProviderServer } from '../support/provider-server.js';
import { temporaryDirectory } from '../support/temporary-directory.js';

// A newcomer's first distillation, scripted: their own 50 reviews in the format docs/your-own-data.md shows,
// the guide's pipeline with the one change it documents for a local OpenAI-compatible server, `distill run`
// from the project folder, then the predict command the run printed — no path typed by hand.

const openings = [
  'The blender',
  'This lamp',
  'The kettle',
  'My new chair',
  'The headphones',
  'This backpack',
  'The toaster',
  'The desk fan',
  'This mug',
  'The charger',
];
const verdicts = [
  { label: 'positive', text: 'works perfectly and I would buy it again.' },
  { label: 'negative', text: 'broke within a week and leaks everywhere.' },
  { label: 'neutral', text: 'does what it says, nothing more.' },
  { label: 'positive', text: 'is quiet, sturdy and lovely to use.' },
  { label: 'negative', text: 'stopped working and support never answered.' },
];

/** 50 reviews: ten products, five verdicts each; 40 to train on, 10 to test. */
function reviews(): { id: string; text: string; label: string }[] {
  return openings.flatMap((opening, product) =>
    verdicts.map((verdict, index) => ({ id: `p${product}-v${index}`, text: `${opening} ${verdict.text}`, label: verdict.label })),
  );
}

/** Runs a command line in bash, as a user types it, without blocking this process (the teacher server lives in it). */
function runInShell(
  command: string,
  options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMilliseconds: number },
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn('bash', ['-c', command], { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMilliseconds);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const jsonLines = (records: readonly object[]) => records.map((record) => JSON.stringify(record)).join('\n') + '\n';

test(
  'a newcomer distils 50 reviews of their own with the guide’s pipeline and predicts with the printed command',
  { timeout: 600_000 },
  async (context) => {
    const project = temporaryDirectory(context);
    writeMarkdownFiles('your-own-data.md', project);
    const all = reviews();
    writeFileSync(path.join(project, 'data', 'train.jsonl'), jsonLines(all.filter((_, index) => index % 5 !== 4)));
    writeFileSync(path.join(project, 'data', 'test.jsonl'), jsonLines(all.filter((_, index) => index % 5 === 4)));

    const server = await startProviderServer('openai', (request) => {
      const label = /broke|leaks|stopped/.test(request.prompt) ? 'negative' : /nothing more/.test(request.prompt) ? 'neutral' : 'positive';
      return { kind: 'answer', text: `${label}. The review's words show the buyer feels ${label} about the product.` };
    });
    context.after(() => server.close());
    // The guide: "Any OpenAI-compatible server … works as the teacher with base_url (and api_key …)".
    const pipeline = path.join(project, 'pipeline.yaml');
    const text = readFileSync(pipeline, 'utf8');
    assert.ok(text.includes('    max_tokens: 128\n'), 'the guide’s teacher block');
    writeFileSync(
      pipeline,
      text.replace('    max_tokens: 128\n', `    max_tokens: 128\n    base_url: ${server.baseUrl}\n    api_key: local-key\n`),
    );

    const environment = { ...environmentWithDistillOnPath(context), DISTILL_CACHE_DIR: path.join(project, 'cache') };
    const run = await runInShell('distill run pipeline.yaml', { cwd: project, env: environment, timeoutMilliseconds: 540_000 });
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
    assert.equal(server.requests.length, 40, 'the teacher was asked once per training review');

    const printed = printedModel(run.stdout);
    assert.ok(printed, `the run printed its model folder and a predict command:\n${run.stdout}`);
    assert.ok(!path.isAbsolute(printed.folder), `the model folder is printed relative to the project: ${printed.folder}`);
    const predicted = spawnSync('bash', ['-c', printed.command], { cwd: project, env: environment, encoding: 'utf8', timeout: 120_000 });
    assert.equal(predicted.status, 0, `${printed.command}\n${predicted.stderr}`);

    // The printed command answers for a real test review, as the library does for the same input.
    const firstTest = all[4]!;
    assert.ok(printed.command.includes(firstTest.text), `the command carries the first test review: ${printed.command}`);
    const student = await loadStudent(path.join(project, printed.folder));
    const [expected] = await student.predict([`Review: ${firstTest.text}`]);
    await student.close();
    assert.equal(predicted.stdout.trim(), expected!.label.trim());
  },
);
