/** Version of the {@link Evaluator} contract. */
export const evaluatorContractVersion = 1;

/** Scores a predicted label against gold. */
export interface Evaluator {
  /**
   * Name of the metric; the trainer worker implements the same metric under this name so that
   * PyTorch and Node-side scores agree (`exact-match`, `numeric-equality`).
   */
  readonly metric: string;
  /** 1 for a correct prediction, 0 otherwise. */
  score(prediction: string, gold: string): number;
}
