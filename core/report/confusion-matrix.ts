/** Counts of gold label (rows) against predicted label (columns) over a closed label set. */
export interface ConfusionMatrix {
  /** The label set, in the dataset's order; `other` is added as the last column when a prediction fell outside it. */
  readonly labels: readonly string[];
  /** `counts[gold][predicted]`, indexed as `labels`. */
  readonly counts: readonly (readonly number[])[];
}

/** The column of predictions outside the label set (free generation can answer anything). */
export const otherLabel = 'other';

/**
 * The confusion matrix of predicted against gold labels. A label is matched to the set with the
 * pipeline's own comparison (`matches`, the evaluator), so that what the matrix counts as right is
 * what the accuracy counts; a prediction that matches none goes to {@link otherLabel}.
 */
export function confusionMatrix(
  labels: readonly string[],
  pairs: readonly { readonly gold: string; readonly predicted: string }[],
  matches: (predicted: string, gold: string) => boolean,
): ConfusionMatrix {
  const indexOf = (text: string) => labels.findIndex((label) => matches(text, label));
  const columns = [...labels, otherLabel];
  const counts = columns.map(() => columns.map(() => 0));
  for (const { gold, predicted } of pairs) {
    const row = indexOf(gold);
    const column = indexOf(predicted);
    counts[row === -1 ? labels.length : row]![column === -1 ? labels.length : column]!++;
  }
  const otherUsed = counts[labels.length]!.some((count) => count > 0) || counts.some((row) => row[labels.length]! > 0);
  return otherUsed
    ? { labels: columns, counts }
    : { labels: [...labels], counts: counts.slice(0, labels.length).map((row) => row.slice(0, labels.length)) };
}
