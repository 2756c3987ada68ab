/**
 * The natural log of the gamma function (Lanczos, g = 7, nine coefficients): about 15 significant
 * digits for positive arguments, which is all the beta function below needs.
 */
function logGamma(value: number): number {
  const coefficients = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
    -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (value < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * value)) - logGamma(1 - value);
  const shifted = value - 1;
  let sum = coefficients[0]!;
  for (let index = 1; index < coefficients.length; index++) sum += coefficients[index]! / (shifted + index);
  const base = shifted + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (shifted + 0.5) * Math.log(base) - base + Math.log(sum);
}

/** The continued fraction of the incomplete beta function (modified Lentz), valid for x < (a + 1) / (a + b + 2). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let result = d;
  for (let m = 1; m <= 1000; m++) {
    const even = (m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m));
    d = 1 + even * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + even / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    result *= d * c;
    const odd = (-(a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1));
    d = 1 + odd * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + odd / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const step = d * c;
    result *= step;
    if (Math.abs(step - 1) < 1e-15) break;
  }
  return result;
}

/** The regularised incomplete beta function I_x(a, b), for a, b > 0 and 0 ≤ x ≤ 1. */
export function regularizedIncompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  // The fraction converges fast on one side of the mean; the symmetry I_x(a, b) = 1 − I_{1−x}(b, a) covers the other.
  if (x < (a + 1) / (a + b + 2)) return (front * betaContinuedFraction(a, b, x)) / a;
  return 1 - (front * betaContinuedFraction(b, a, 1 - x)) / b;
}

/**
 * The one-sided Clopper–Pearson lower confidence bound on a binomial proportion: the smallest p
 * for which seeing `successes` or more of `trials` still has probability `1 − level`, i.e. the
 * `(1 − level)` quantile of Beta(successes, trials − successes + 1). It is exact (never below its
 * level, whatever the true proportion and the sample size), hence conservative for small samples,
 * which is the point: a small validation set must not promise much. 0 when there is no success.
 *
 * @param level - the confidence level, e.g. 0.95 (strictly between 0 and 1)
 */
export function clopperPearsonLowerBound(successes: number, trials: number, level: number): number {
  if (!Number.isInteger(trials) || trials < 1 || !Number.isInteger(successes) || successes < 0 || successes > trials) {
    throw new RangeError(`a binomial bound needs whole numbers 0 ≤ successes ≤ trials and trials ≥ 1 (got ${successes} of ${trials})`);
  }
  if (!(level > 0 && level < 1)) throw new RangeError(`the confidence level must lie strictly between 0 and 1 (got ${level})`);
  if (successes === 0) return 0;
  const alpha = 1 - level;
  // All successes: the quantile has the closed form alpha^(1/n).
  if (successes === trials) return Math.pow(alpha, 1 / trials);
  // P(X ≥ k | p) = I_p(k, n − k + 1) rises with p: bisect for the p where it equals alpha.
  let low = 0;
  let high = successes / trials;
  for (let iteration = 0; iteration < 100 && high - low > 1e-12; iteration++) {
    const middle = (low + high) / 2;
    if (regularizedIncompleteBeta(middle, successes, trials - successes + 1) < alpha) low = middle;
    else high = middle;
  }
  // The lower end of the last interval: rounding never lifts the bound above the exact one.
  return low;
}
