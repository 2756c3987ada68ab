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

/**
 * Every secret value of every pipeline loaded in this process. Output sinks are process-wide — the
 * terminal, `--json`, stack traces printed by the CLI framework, files in run folders — and a secret
 * must be replaced wherever output goes, including places that never see the pipeline it came from
 * (a provider's error text on its way to a log line). So the loader registers its secrets here once,
 * and every sink redacts against this set.
 */
const knownSecrets = new Set<string>();
let knownSecretList: string[] = [];

/** Adds values to the secrets every sink redacts (values too short to be secrets are ignored). */
export function registerSecrets(secrets: Iterable<string>): void {
  const before = knownSecrets.size;
  for (const secret of secrets) if (secret.length >= minimumSecretLength) knownSecrets.add(secret);
  if (knownSecrets.size !== before) knownSecretList = usableSecrets([...knownSecrets]);
}

/** A text with every registered secret replaced by {@link redactedMarker}. */
export function redactKnownSecrets(text: string): string {
  if (knownSecretList.length === 0) return text;
  let result = text;
  for (const secret of knownSecretList) if (result.includes(secret)) result = result.split(secret).join(redactedMarker);
  return result;
}
