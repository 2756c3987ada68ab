/** One synthetic inference pair of the scaffold's fixture, with the teacher answer recorded for it. */
interface FixturePair {
  readonly id: string;
  readonly premise: string;
  readonly hypothesis: string;
  readonly label: 'entailment' | 'neutral' | 'contradiction';
  /** What a zero-shot teacher answers, in the form the `zero-shot` parser reads: the label word, then why. */
  readonly completion: string;
}

/** The files of the fixture dataset a scaffolded recipe package ships in `data/`, as JSON Lines text. */
export interface RecipeFixtureFiles {
  readonly 'train.jsonl': string;
  readonly 'test.jsonl': string;
  /** `{id: "<split>/<id>", completion}` per pair of both splits: what the `recorded` teacher answers. */
  readonly 'teacher.jsonl': string;
}

const subjects = ['A dog', 'A child', 'A woman', 'A man', 'A cat'] as const;
const actions = [
  { doing: 'runs in the park', other: 'sleeps on the sofa', extra: 'with a friend' },
  { doing: 'reads a book', other: 'swims in the lake', extra: 'about ships' },
  { doing: 'eats an apple', other: 'paints a fence', extra: 'from the market' },
  { doing: 'climbs a hill', other: 'sits in a car', extra: 'for the first time' },
] as const;

/** The three pairs (one per label) made from one premise. */
function pairsOf(index: number, subject: string, action: (typeof actions)[number]): FixturePair[] {
  const premise = `${subject} ${action.doing} in the morning.`;
  const who = subject.replace(/^A /, 'the ');
  const pair = (suffix: string, hypothesis: string, label: FixturePair['label'], completion: string): FixturePair => ({
    id: `${index}${suffix}`,
    premise,
    hypothesis,
    label,
    completion,
  });
  return [
    pair(
      'e',
      `${subject} ${action.doing}.`,
      'entailment',
      `True. The premise says that ${who} ${action.doing}, which is what the claim says.`,
    ),
    pair(
      'n',
      `${subject} ${action.doing} ${action.extra}.`,
      'neutral',
      `Inconclusive. The premise does not say whether ${who} ${action.doing} ${action.extra}.`,
    ),
    pair(
      'c',
      `${subject} ${action.other} in the morning.`,
      'contradiction',
      `False. The premise says that ${who} ${action.doing} in the morning, so ${who} cannot ${action.other.replace(/s\b/, '')} then.`,
    ),
  ];
}

/**
 * A tiny synthetic inference dataset, license-free (made up here from a few words), so that a
 * scaffolded recipe runs offline on its own fixture: 16 premises (48 pairs) to train on, 4 (12
 * pairs) to test on, and the answer a zero-shot teacher gives to each pair.
 */
export function recipeFixtureFiles(): RecipeFixtureFiles {
  const premises = subjects.flatMap((subject) => actions.map((action) => ({ subject, action })));
  const pairs = premises.flatMap(({ subject, action }, index) => pairsOf(index + 1, subject, action));
  const lines = (records: readonly object[]) => records.map((record) => JSON.stringify(record)).join('\n') + '\n';
  const dataOf = (pair: FixturePair) => ({ id: pair.id, premise: pair.premise, hypothesis: pair.hypothesis, label: pair.label });
  const train = pairs.slice(0, 48);
  const test = pairs.slice(48);
  const answers = [
    ...train.map((pair) => ({ id: `train/${pair.id}`, completion: pair.completion })),
    ...test.map((pair) => ({ id: `test/${pair.id}`, completion: pair.completion })),
  ];
  return { 'train.jsonl': lines(train.map(dataOf)), 'test.jsonl': lines(test.map(dataOf)), 'teacher.jsonl': lines(answers) };
}
