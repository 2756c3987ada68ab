import { UserError } from '../errors/user-error.js';

/** Where a teacher looks for its API key. */
export interface ApiKeyLookup {
  /** The `api_key` option, when given (already `${ENV}`-filled by the loader). */
  readonly option: string | undefined;
  readonly environment: Readonly<Record<string, string | undefined>>;
  /** The conventional variable, e.g. `OPENAI_API_KEY`. */
  readonly variable: string;
  /** `teacher/openai`, for the error. */
  readonly plugin: string;
  /** The `base_url` option; a server other than the provider's own may not need a key. */
  readonly baseUrl: string | undefined;
  /** Host of the provider's own API, e.g. `api.openai.com`. */
  readonly providerHost: string;
}

/**
 * Placeholder sent to a self-hosted server (vLLM, Ollama, LM Studio) when no key is set: they accept
 * any key, but the SDKs refuse to start without one. A server that does check keys answers 401, which
 * the teacher reports naming the variable to set.
 */
export const selfHostedPlaceholderKey = 'no-key-set';

/**
 * The API key: the option, else the environment variable. For the provider's own API a missing key
 * is a {@link UserError} raised in `create`, before any work, naming the variable to set.
 */
export function resolveApiKey(lookup: ApiKeyLookup): string {
  const key = (lookup.option ?? lookup.environment[lookup.variable] ?? '').trim();
  if (key !== '') return key;
  if (lookup.baseUrl && !isProviderHost(lookup.baseUrl, lookup.providerHost)) return selfHostedPlaceholderKey;
  throw new UserError({
    message: `no API key for the ${lookup.plugin.replace(/^teacher\//, '')} teacher: ${lookup.variable} is not set`,
    plugin: lookup.plugin,
    pointer: '/teacher/options/api_key',
    fix: `export ${lookup.variable}=<your key> (or set the teacher's api_key option to "\${${lookup.variable}}")`,
  });
}

function isProviderHost(baseUrl: string, providerHost: string): boolean {
  try {
    const host = new URL(baseUrl).hostname;
    return host === providerHost || host.endsWith('.' + providerHost);
  } catch {
    return false;
  }
}
