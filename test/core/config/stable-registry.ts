import { PluginRegistry } from '../../../core/plugins/plugin-registry.js';
import { builtinRegistry } from '../../../plugins/composition-root.js';

// Built-in plugins the configuration tests rely on. Other built-ins come and go while the project
// grows; leaving them out keeps the expected messages ("available evaluator plugins: …") stable.
const stableIds = new Set(['evaluator/exact-match', 'evaluator/numeric-equality', 'loss-weight/constant', 'loss-weight/linear']);

/** A registry of the few built-in plugins the configuration tests were written against, with the built-in defaults. */
export function stableRegistry(): PluginRegistry {
  const builtins = builtinRegistry();
  return new PluginRegistry(
    builtins.list().filter((descriptor) => stableIds.has(`${descriptor.kind}/${descriptor.id}`)),
    builtins.defaults,
  );
}
