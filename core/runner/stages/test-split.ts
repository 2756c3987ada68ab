import { readTextFileNoFollow, writeFileNoFollow } from '../../files/no-follow-files.js';

/** One test example as the dataset stage stores it: the student's input and the gold label. */
export interface TestExample {
  readonly id: string;
  readonly input: string;
  readonly label: string;
}

/** Writes the test split as JSON lines (`{id, input, label}`). */
export function writeTestSplit(file: string, examples: readonly TestExample[]): void {
  writeFileNoFollow(
    file,
    examples.map((example) => JSON.stringify({ id: example.id, input: example.input, label: example.label }) + '\n').join(''),
  );
}

/** Reads the test split the dataset stage stored. */
export function readTestSplit(file: string): TestExample[] {
  const examples: TestExample[] = [];
  for (const line of readTextFileNoFollow(file).split('\n')) {
    if (line.trim() === '') continue;
    // Written by writeTestSplit in this run folder: three strings per line.
    const { id, input, label } = JSON.parse(line) as TestExample;
    examples.push({ id, input, label });
  }
  return examples;
}
