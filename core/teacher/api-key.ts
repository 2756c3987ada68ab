import { UserError } from '../errors/user-error.js';
import type { RequiredVariable } from '../plugins/plugin-requirements.js';

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
 * The API key. The `api_key` option always wins. The environment variable is read only for the
 * provider's own API (no `base_url`, or one on the provider's host over https): a key from the
 * environment goes to no other host, so a shared recipe that sets `base_url` cannot send a user's key
 * anywhere it likes. A `base_url` that needs a key names it in the pipeline (`api_key: ${MY_KEY}`);
 * without one it gets {@link selfHostedPlaceholderKey}. For the provider's own API a missing key is a
 * {@link UserError} raised in `create`, before any work, naming the variable to set.
 */
export function resolveApiKey(lookup: ApiKeyLookup): string {
  const option = (lookup.option ?? '').trim();
  if (option !== '') return option;
  if (!isOfficialEndpoint(lookup)) return selfHostedPlaceholderKey;
  const key = (lookup.environment[lookup.variable] ?? '').trim();
  if (key !== '') return key;
  throw new UserError({
    message: `no API key for the ${lookup.plugin.replace(/^teacher\//, '')} teacher: ${lookup.variable} is not set`,
    plugin: lookup.plugin,
    pointer: '/teacher/options/api_key',
    fix: `export ${lookup.variable}=<your key> (or set the teacher's api_key option to "\${${lookup.variable}}")`,
  });
}

/**
 * The key variable a teacher needs before a run, for its descriptor's `requirements`: the same rule
 * as {@link resolveApiKey} (none when the `api_key` option is given or `base_url` is another server),
 * so that a run reports the unset key before it creates anything.
 */
export function requiredApiKeyVariables(lookup: Omit<ApiKeyLookup, 'environment'>, providerName: string): RequiredVariable[] {
  if ((lookup.option ?? '').trim() !== '' || !isOfficialEndpoint(lookup)) return [];
  return [
    {
      name: lookup.variable,
      what: `no API key for the ${providerName} teacher`,
      option: 'api_key',
      fix: `export ${lookup.variable}=<your key>, or put ${lookup.variable}=<your key> in a .env file in the working directory (or set the teacher's api_key option to "\${${lookup.variable}}")`,
    },
  ];
}

/** What to tell a user whose key was rejected (401), depending on where the key came from. */
export function apiKeyFix(lookup: ApiKeyLookup): string {
  if ((lookup.option ?? '').trim() !== '')
    return `the key comes from the teacher's api_key option: check it and the variable it names (such as ${lookup.variable})`;
  if (!isOfficialEndpoint(lookup)) {
    return `base_url ${lookup.baseUrl} gets no key from the environment: name one in the pipeline, e.g. api_key: "\${${lookup.variable}}"`;
  }
  return `set ${lookup.variable} to a valid key (or the teacher's api_key option)`;
}

/** No `base_url`, or one on the provider's own host over https. */
function isOfficialEndpoint(lookup: Pick<ApiKeyLookup, 'baseUrl' | 'providerHost'>): boolean {
  if (!lookup.baseUrl) return true;
  try {
    const url = new URL(lookup.baseUrl);
    return url.protocol === 'https:' && (url.hostname === lookup.providerHost || url.hostname.endsWith('.' + lookup.providerHost));
  } catch {
    return false;
  }
}
