/** The split whose problems {@link svampWorkedAnswers} explain. */
export const svampWorkedAnswersSplit = 'train';

/**
 * Step-by-step reasoning written for the first problems of SVAMP's train split (by line index), the
 * worked examples of few-shot prompts: SVAMP ships equations but no explanations. Problem 8 is
 * skipped because its gold equation does not follow from its text. The answer comes from the gold
 * equation in the file, so only the reasoning is written here.
 */
export const svampWorkedAnswers: readonly { readonly index: number; readonly reasoning: string }[] = [
  { index: 0, reasoning: 'Luke scored 84 points in 2 rounds, the same number each round. So he scored 84 / 2 = 42 points per round.' },
  { index: 1, reasoning: 'Each of the 7 rows has 30 crayons. So she has 7 * 30 = 210 crayons.' },
  {
    index: 2,
    reasoning: 'Julia played with 17 kids on Monday, 15 on Tuesday and 2 on Wednesday. Altogether that is 17 + 15 + 2 = 34 kids.',
  },
  { index: 3, reasoning: 'Danny has 28 bottle caps now, after finding 22 at the park. So at first he had 28 - 22 = 6 bottle caps.' },
  { index: 4, reasoning: 'Bobby had 30 pieces of candy and ate 23 of them. So he has 30 - 23 = 7 pieces left.' },
  {
    index: 5,
    reasoning:
      'Each block has 17 houses and each house gets 4 pieces, so one block gets 4 * 17 = 68 pieces. For 16 blocks that is 68 * 16 = 1088 pieces.',
  },
  {
    index: 6,
    reasoning: 'Matthew had 13 + 15 = 28 crackers and cakes and shared them equally among his 28 friends. So each person ate 28 / 28 = 1.',
  },
  { index: 7, reasoning: 'They harvest 8 sacks per day and each sack holds 35 oranges. So they harvest 8 * 35 = 280 oranges per day.' },
  { index: 9, reasoning: 'Josh had 19 marbles, lost 11 and then found 5. So he has 19 - 11 + 5 = 13 marbles now.' },
];
