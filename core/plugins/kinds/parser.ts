import type { DatasetExample } from './dataset.js';

/** Version of the {@link Parser} contract. */
export const parserContractVersion = 1;

/**
 * What a parser made of one completion. Nothing is dropped: an answer that could not be parsed is
 * kept with the reason, and counted in the teacher report.
 */
export type ParsedAnswer =
  | {
      readonly status: 'parsed';
      /** Label normalised into the dataset's label space. */
      readonly label: string;
      /** Cleaned rationale, or null when missing or shorter than the minimum length. */
      readonly rationale: string | null;
    }
  | {
      readonly status: 'unparsed';
      readonly label: null;
      /** A rationale may still be recovered when the label is not. */
      readonly rationale: string | null;
      /** Why parsing failed, e.g. `no label word found`. */
      readonly reason: string;
    };

/** Extracts a label and a rationale from a teacher's raw completion. */
export interface Parser {
  parse(completion: string, example: DatasetExample): ParsedAnswer;
}
