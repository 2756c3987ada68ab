import path from 'node:path';
import { writeFileNoFollow } from '../files/no-follow-files.js';
import type { QuantizationComparison } from '../plugins/kinds/exporter.js';
import type { DecoderStudentDescriptor } from './decoder-student-descriptor.js';
import { taskPrefixes } from './load-student.js';
import { precisionChoiceFileName, type PrecisionChoice } from './precision-choice.js';
import { predictCommand } from './predict-command.js';
import { readStudentFolder } from './student-folder.js';

/** The file every exported model folder carries: how to feed and call the student. */
export const modelReadmeFile = 'README.md';

/** An accuracy measured on labelled examples, with what it was measured on. */
export interface MeasuredAccuracy {
  readonly metric: string;
  readonly accuracy: number;
  /** How many examples it was measured on, where known. */
  readonly examples: number | null;
  /** What was scored, e.g. `the chosen checkpoint in PyTorch, on the test split`. */
  readonly what: string;
}

/** What the README of a model folder says besides what the folder itself holds. */
export interface ModelReadmeFacts {
  /** A heading: the pipeline's name, or the folder's. */
  readonly title: string;
  /** One line on where the model comes from (the pipeline file, the checkpoint). */
  readonly origin: string;
  /** The dataset's student input as a `{field}` template, where known. */
  readonly inputTemplate: string | null;
  /** A real input of the student's format with its gold label (a test example), where known. */
  readonly example: { readonly input: string; readonly label: string } | null;
  /** The closed label set, where there is one (a decoder folder's own labels are used when this is null). */
  readonly labels: readonly string[] | null;
  readonly accuracies: readonly MeasuredAccuracy[];
  /** The int8 graphs against full precision, when the exporter quantised. */
  readonly quantization: QuantizationComparison | null;
  /** Which graphs load by default and why (`distill-precision.json`), when the folder has int8 graphs. */
  readonly precisionChoice?: PrecisionChoice | null;
}

const percent = (value: number): string => (Number.isFinite(value) ? `${(value * 100).toFixed(1)}%` : 'not measured');

/** A fenced code block (a fence longer than any run of backticks inside). */
function fenced(language: string, text: string): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((match) => match[0].length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}${language}\n${text}\n${fence}`;
}

/** The input section: the template, the task prefixes or the decoder prompt around it, an example. */
function inputSection(facts: ModelReadmeFacts, descriptor: DecoderStudentDescriptor | null): string[] {
  const lines = ['## Input', ''];
  if (facts.inputTemplate !== null) {
    lines.push("One text per example, built from the dataset's fields by this template:", '', fenced('text', facts.inputTemplate), '');
  } else {
    lines.push('One text per example, in the format the student was trained on.', '');
  }
  if (descriptor === null) {
    lines.push(
      `The student is a T5 trained on two tasks: the input after \`${taskPrefixes.predict}\` answers the label, after \`${taskPrefixes.explain}\` the rationale.`,
      '`distill predict`, `distill serve` and `loadStudent` add these prefixes: give them the input alone. transformers.js and',
      'other runtimes see the text as it is: prepend the prefix yourself.',
      '',
    );
  } else {
    const prompt = (task: 'predict' | 'explain') =>
      JSON.stringify((descriptor.chat?.before ?? '') + descriptor.tasks[task].prefix) +
      ' + input + ' +
      JSON.stringify(descriptor.tasks[task].suffix + (descriptor.chat?.after ?? ''));
    lines.push(
      `The student is a decoder (causal LM, ${descriptor.promptFormat} prompt). The prompt around the input (distill-student.json):`,
      '',
      fenced('text', `predict: ${prompt('predict')}\nexplain: ${prompt('explain')}`),
      '',
      descriptor.targets === 'label-then-rationale'
        ? `It answers the label, then ${JSON.stringify(descriptor.rationaleSeparator)} and the rationale, in one generation.`
        : 'It answers the label to the predict prompt and the rationale to the explain prompt.',
      '`distill predict`, `distill serve` and `loadStudent` build the prompt: give them the input alone.',
      '',
    );
  }
  if (facts.example) {
    lines.push('An input from the test split (gold label: `' + facts.example.label + '`):', '', fenced('text', facts.example.input), '');
  }
  return lines;
}

/** What the student answers, and how well. */
function labelsAndAccuracy(facts: ModelReadmeFacts, descriptor: DecoderStudentDescriptor | null): string[] {
  const labels = facts.labels ?? descriptor?.labels ?? null;
  const lines = ['## Labels', ''];
  lines.push(labels ? labels.map((label) => `- \`${label}\``).join('\n') : 'Free text (no closed label set).', '', '## Accuracy', '');
  for (const measured of facts.accuracies) {
    const examples = measured.examples === null ? '' : ` on ${measured.examples} examples`;
    lines.push(`- ${measured.metric} ${percent(measured.accuracy)}${examples}: ${measured.what}.`);
  }
  const quantization = facts.quantization;
  if (quantization) {
    lines.push(
      `- int8 graphs (\`onnx/*_quantized.onnx\`): ${quantization.metric} ${percent(quantization.quantizedAccuracy)} against ${percent(quantization.fullPrecisionAccuracy)} in fp32 on ${quantization.examples} examples (${percent(quantization.agreement)} identical answers).`,
    );
  }
  if (facts.accuracies.length === 0 && !quantization) lines.push('Not measured when this folder was written.');
  if (facts.precisionChoice) {
    lines.push(
      '',
      `Loaded by default: ${facts.precisionChoice.default} (\`${precisionChoiceFileName}\`; \`--precision\` or \`loadStudent\`'s \`precision\` overrides it). ${facts.precisionChoice.reason}.`,
    );
  }
  lines.push('');
  return lines;
}

/** How to call the student from the CLI, the library and transformers.js. */
function usageSection(facts: ModelReadmeFacts, descriptor: DecoderStudentDescriptor | null, maxNewTokens: number): string[] {
  const input = facts.example?.input ?? 'your input';
  const library = [
    "import { loadStudent } from 'distill';",
    '',
    "const student = await loadStudent('path/to/this/folder'); // { precision: 'int8' } for the quantised graphs",
    `const [prediction] = await student.predict([${JSON.stringify(input)}]); // { explain: true } adds the rationale`,
    'console.log(prediction.label);',
    'await student.close();',
  ].join('\n');
  const setup = [
    'env.allowRemoteModels = false; // everything is in this folder: never download',
    "env.localModelPath = '/';",
    "const folder = '/absolute/path/to/this/folder';",
  ];
  const transformers =
    descriptor === null
      ? [
          "import { env, AutoTokenizer, AutoModelForSeq2SeqLM } from '@huggingface/transformers';",
          '',
          ...setup,
          'const tokenizer = await AutoTokenizer.from_pretrained(folder);',
          "const model = await AutoModelForSeq2SeqLM.from_pretrained(folder, { dtype: 'fp32' }); // 'q8': the int8 graphs",
          `const inputs = tokenizer(${JSON.stringify(taskPrefixes.predict + input)});`,
          `const output = await model.generate({ ...inputs, max_new_tokens: ${maxNewTokens}, do_sample: false });`,
          'console.log(tokenizer.batch_decode(output, { skip_special_tokens: true })[0].trim());',
        ]
      : [
          "import { env, pipeline } from '@huggingface/transformers';",
          '',
          ...setup,
          "const generator = await pipeline('text-generation', folder, { dtype: 'fp32' }); // 'q8': the int8 graph",
          `const prompt = ${JSON.stringify((descriptor.chat?.before ?? '') + descriptor.tasks.predict.prefix)} + ${JSON.stringify(input)} + ${JSON.stringify(descriptor.tasks.predict.suffix + (descriptor.chat?.after ?? ''))};`,
          'const [output] = await generator(prompt, {',
          `  max_new_tokens: ${maxNewTokens},`,
          '  do_sample: false,',
          `  add_special_tokens: ${descriptor.promptSpecialTokens},`,
          '  return_full_text: false,',
          '});',
          'console.log(output.generated_text.trim());',
        ];
  return [
    '## Use it',
    '',
    'From the command line, in this folder (`--explain` adds the rationale, `--json` prints JSON):',
    '',
    fenced('sh', predictCommand('.', input)),
    '',
    'Served over HTTP: `distill serve --model .` (see docs/serving.md).',
    '',
    'From Node, with distill as a library:',
    '',
    fenced('js', library),
    '',
    'With transformers.js, offline:',
    '',
    fenced('js', transformers.join('\n')),
    '',
  ];
}

/** The README of an exported model folder (T5 or decoder, read from the folder). */
export function modelReadme(directory: string, facts: ModelReadmeFacts): string {
  const folder = readStudentFolder(directory);
  const descriptor = folder.family === 'causal-lm' ? folder.descriptor : null;
  const maxNewTokens = (folder.family === 'causal-lm' ? folder.descriptor.maxNewTokens : folder.maxNewTokens) ?? 64;
  return [
    `# ${facts.title}`,
    '',
    `A distilled student exported by distill: ${facts.origin}. Everything needed to run it is in this folder (ONNX graphs, tokenizer, configuration); nothing is downloaded.`,
    '',
    ...inputSection(facts, descriptor),
    ...labelsAndAccuracy(facts, descriptor),
    ...usageSection(facts, descriptor, maxNewTokens),
  ].join('\n');
}

/** Writes `README.md` into an exported model folder. */
export function writeModelReadme(directory: string, facts: ModelReadmeFacts): void {
  writeFileNoFollow(path.join(directory, modelReadmeFile), modelReadme(directory, facts));
}
