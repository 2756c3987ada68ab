/** What a secret is replaced with wherever distill prints or writes it. */
export const redactedMarker = '[redacted]';

// A secret shorter than this is no secret, and replacing it everywhere would mangle ordinary text.
const minimumSecretLength = 4;

function usableSecrets(secrets: readonly string[]): string[] {
  return [...new Set(secrets)].filter((secret) => secret.length >= minimumSecretLength).sort((left, right) => right.length - left.length);
}

/** Replaces every occurrence of each secret in a line of text (logs, error messages). */
export function redactText(text: string, secrets: readonly string[]): string {
  let result = text;
  for (const secret of usableSecrets(secrets)) result = result.split(secret).join(redactedMarker);
  return result;
}

/**
 * A deep copy of a value with every secret replaced inside its strings: a string that is exactly a
 * secret becomes `[redacted]`, a string containing one has that part replaced. Keys are left alone.
 */
export function redactSecrets<Value>(value: Value, secrets: readonly string[]): Value {
  const usable = usableSecrets(secrets);
  const walk = (node: unknown): unknown => {
    if (typeof node === 'string') return usable.length === 0 ? node : redactText(node, usable);
    if (Array.isArray(node)) return node.map(walk);
    if (typeof node === 'object' && node !== null) return Object.fromEntries(Object.entries(node).map(([key, item]) => [key, walk(item)]));
    return node;
  };
  return walk(value) as Value;
}
