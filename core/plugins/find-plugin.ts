import { didYouMeanPhrase } from '../errors/did-you-mean.js';
import { UserError } from '../errors/user-error.js';
import type { AnyPluginDescriptor } from './plugin-descriptor.js';
import type { PluginRegistry } from './plugin-registry.js';

/**
 * The plugins a name on the command line means: `id` (every kind that has it, since ids are unique
 * only within a kind) or `kind/id`. A name that matches none is a {@link UserError} with the closest
 * name and the list of names.
 */
export function findPlugins(registry: PluginRegistry, name: string): AnyPluginDescriptor[] {
  const descriptors = registry.list();
  const found = descriptors.filter((descriptor) => descriptor.id === name || `${descriptor.kind}/${descriptor.id}` === name);
  if (found.length > 0) return found;
  const names = [...new Set(descriptors.flatMap((descriptor) => [descriptor.id, `${descriptor.kind}/${descriptor.id}`]))];
  throw new UserError({
    message: `no plugin is named "${name}"`,
    fix: `${didYouMeanPhrase(name, names)}plugins: ${[...new Set(descriptors.map((descriptor) => descriptor.id))].join(', ')} (\`distill plugins\` lists them)`,
  });
}
