import type { ModelUsage } from './run-summary.js';

/** A shell word: single-quoted, or `$'…'` (ANSI-C quoting) where it holds a line break. */
export function shellQuote(text: string): string {
  if (/^[A-Za-z0-9_./:=@%+,-]+$/.test(text)) return text;
  if (!/[\n\r\t]/.test(text)) return `'${text.replace(/'/g, `'\\''`)}'`;
  const escaped = text.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t');
  return `$'${escaped}'`;
}

/** What the snippets call the student with: the evaluate stage's own settings. */
export interface UsageSettings {
  readonly scoreLabels: boolean;
  readonly precision: 'fp32' | 'int8';
  /** The labels to score where the folder carries none (T5), else null. */
  readonly labels: readonly string[] | null;
}

/**
 * The exported student's folder with a `distill predict` command line and a `loadStudent` module
 * that answer one real test input with the settings the evaluate stage scored it with, so that what
 * a reader copies gives the answers the report measured.
 */
export function modelUsage(directory: string, exampleInput: string, settings: UsageSettings): ModelUsage {
  const flags = [
    ...(settings.scoreLabels ? ['--score-labels'] : []),
    ...(settings.scoreLabels && settings.labels ? ['--labels', shellQuote(settings.labels.join(','))] : []),
    ...(settings.precision === 'int8' ? ['--quantized'] : []),
  ];
  const cli = ['distill predict --model', shellQuote(directory), ...flags, shellQuote(exampleInput)].join(' ');
  const loadOptions = settings.precision === 'int8' ? `, { precision: 'int8' }` : '';
  const predictOptions = !settings.scoreLabels
    ? ''
    : settings.labels
      ? `, { scoreLabels: true, labels: ${JSON.stringify(settings.labels)} }`
      : ', { scoreLabels: true }';
  const library = [
    `import { loadStudent } from 'distill';`,
    '',
    `const student = await loadStudent(${JSON.stringify(directory)}${loadOptions});`,
    `const [prediction] = await student.predict([${JSON.stringify(exampleInput)}]${predictOptions});`,
    `console.log(prediction.label${settings.scoreLabels ? ', prediction.confidence' : ''});`,
    'await student.close();',
  ].join('\n');
  return { directory, exampleInput, cli, library };
}
