/**
 * Reading how long a provider asked us to wait. Shared by every teacher plugin so that each one
 * honours the same headers the same way:
 *
 * 1. `retry-after-ms` (OpenAI, Anthropic): milliseconds.
 * 2. `retry-after` (RFC 9110): delta seconds, or an HTTP date.
 * 3. Only for a rate-limited answer (429), the rate-limit reset headers: of the limits whose
 *    `remaining` header says 0 (or of all of them when no `remaining` header is sent), the latest reset:
 *    OpenAI `x-ratelimit-reset-requests` / `x-ratelimit-reset-tokens` as durations such as `6m0s`,
 *    `1.5s`, `20ms`; Anthropic `anthropic-ratelimit-requests-reset`, `-tokens-reset`,
 *    `-input-tokens-reset`, `-output-tokens-reset` as RFC 3339 instants.
 */

/** Anything with case-insensitive `get(name)` (the fetch `Headers` the SDKs expose), or a plain record. */
export type HeaderSource = { get(name: string): string | null } | Readonly<Record<string, string | undefined>> | null | undefined;

function header(headers: HeaderSource, name: string): string | null {
  if (!headers) return null;
  if (typeof (headers as { get?: unknown }).get === 'function') return (headers as { get(name: string): string | null }).get(name);
  const record = headers as Readonly<Record<string, string | undefined>>;
  const key = Object.keys(record).find((each) => each.toLowerCase() === name);
  return key === undefined ? null : (record[key] ?? null);
}

const durationUnits: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, µs: 0.001, ns: 0.000001 };

/** Milliseconds of a Go-style duration such as `6m0s`, `1.5s`, `250ms`, `1h2m3s`; null when it is not one. */
export function parseDuration(text: string): number | null {
  const trimmed = text.trim();
  if (trimmed === '') return null;
  // A bare number is seconds, as in `retry-after`.
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000;
  const pattern = /(\d+(?:\.\d+)?)(ms|us|µs|ns|h|m|s)/gy;
  let total = 0;
  let consumed = 0;
  for (const match of trimmed.matchAll(pattern)) {
    total += Number(match[1]) * durationUnits[match[2]!]!;
    consumed += match[0].length;
  }
  return consumed === trimmed.length ? total : null;
}

/**
 * The wait, in milliseconds, that the response headers ask for, or null when they ask for none.
 * `now` is the current time (from the injected clock) for date-valued headers.
 */
export function retryAfterMilliseconds(headers: HeaderSource, now: number, rateLimited = true): number | null {
  const milliseconds = header(headers, 'retry-after-ms');
  if (milliseconds !== null && /^\d+(\.\d+)?$/.test(milliseconds.trim())) return Math.max(0, Number(milliseconds));

  const retryAfter = header(headers, 'retry-after');
  if (retryAfter !== null) {
    const trimmed = retryAfter.trim();
    if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.max(0, Number(trimmed) * 1000);
    const date = Date.parse(trimmed);
    if (!Number.isNaN(date)) return Math.max(0, date - now);
  }

  if (!rateLimited) return null;
  const limits: { remaining: string | null; wait: number | null }[] = [];
  for (const name of ['requests', 'tokens']) {
    const value = header(headers, `x-ratelimit-reset-${name}`);
    if (value !== null) limits.push({ remaining: header(headers, `x-ratelimit-remaining-${name}`), wait: parseDuration(value) });
  }
  for (const name of ['requests', 'tokens', 'input-tokens', 'output-tokens']) {
    const value = header(headers, `anthropic-ratelimit-${name}-reset`);
    if (value === null) continue;
    const instant = Date.parse(value.trim());
    limits.push({
      remaining: header(headers, `anthropic-ratelimit-${name}-remaining`),
      wait: Number.isNaN(instant) ? null : instant - now,
    });
  }
  const exhausted = limits.filter((limit) => limit.remaining !== null && Number(limit.remaining) <= 0);
  const applicable = exhausted.length > 0 ? exhausted : limits.every((limit) => limit.remaining === null) ? limits : [];
  let longest: number | null = null;
  for (const { wait } of applicable) {
    if (wait !== null && Number.isFinite(wait)) longest = Math.max(longest ?? 0, Math.max(0, wait));
  }
  return longest;
}
