import { didYouMeanPhrase } from '../errors/did-you-mean.js';
import { UserError } from '../errors/user-error.js';
import type { AnyPluginDescriptor } from './plugin-descriptor.js';
import type { PluginDefaults } from './plugin-defaults.js';
import type { PluginKind } from './plugin-kind.js';
import type { PluginSweepAxisName, SweepAxis } from './sweep-axis.js';
import { descriptorProblems } from './validate-descriptor.js';

/**
 * All plugins known to a run: the built-in list plus external plugins named by the pipeline, and
 * the default steps that name some of them. Core receives it from the composition root and never
 * builds its own. Lookups by kind and id; an unknown id fails with the available ids and a did-you-mean.
 */
export class PluginRegistry {
  private readonly byKind = new Map<PluginKind, Map<string, AnyPluginDescriptor>>();

  /**
   * @param descriptors - the plugins; a malformed one, or two with the same kind and id, is a {@link UserError}.
   * @param defaults - the steps used where a pipeline or a command names none (not checked here:
   *   a default naming an unknown plugin is reported where the default is used, at its pointer).
   */
  constructor(
    descriptors: Iterable<AnyPluginDescriptor> = [],
    readonly defaults: PluginDefaults = {},
  ) {
    for (const descriptor of descriptors) this.register(descriptor);
  }

  /** Adds a descriptor; a malformed one, or a second plugin with the same kind and id, is a {@link UserError}. */
  register(descriptor: AnyPluginDescriptor, source = `plugin ${String((descriptor as { id?: unknown }).id)}`): void {
    const problems = descriptorProblems(descriptor, source);
    if (problems.length > 0) throw new UserError(problems);
    const ofKind = this.byKind.get(descriptor.kind) ?? new Map<string, AnyPluginDescriptor>();
    if (ofKind.has(descriptor.id)) {
      throw new UserError({
        message: `${source}: ${/^[aeiou]/.test(descriptor.kind) ? 'an' : 'a'} ${descriptor.kind} plugin with id "${descriptor.id}" is already registered`,
        plugin: `${descriptor.kind}/${descriptor.id}`,
        fix: 'give the plugin a different id',
      });
    }
    ofKind.set(descriptor.id, descriptor);
    this.byKind.set(descriptor.kind, ofKind);
  }

  /** Whether a plugin of this kind and id is registered. */
  has(kind: PluginKind, id: string): boolean {
    return this.byKind.get(kind)?.has(id) ?? false;
  }

  /** The descriptor, or a {@link UserError} listing the ids available for that kind. */
  get(kind: PluginKind, id: string): AnyPluginDescriptor {
    const descriptor = this.byKind.get(kind)?.get(id);
    if (descriptor) return descriptor;
    throw new UserError({ message: `unknown ${kind} plugin "${id}"`, fix: this.unknownIdFix(kind, id) });
  }

  /** The fix text for an unknown id: did-you-mean plus the ids available for the kind. */
  unknownIdFix(kind: PluginKind, id: string): string {
    const available = this.ids(kind);
    const list = available.length > 0 ? `available ${kind} plugins: ${available.join(', ')}` : `no ${kind} plugins are registered`;
    return `${didYouMeanPhrase(id, available)}${list}`;
  }

  /** Ids of one kind, sorted. */
  ids(kind: PluginKind): string[] {
    return [...(this.byKind.get(kind)?.keys() ?? [])].sort();
  }

  /**
   * The plugin that owns a `sweep:` axis, with its declaration, or null when no registered plugin
   * declares it. Two owners of one axis are a {@link UserError}: the sweep could not tell which to vary.
   */
  sweepAxisOwner(name: PluginSweepAxisName): { readonly descriptor: AnyPluginDescriptor; readonly axis: SweepAxis } | null {
    const owners = this.list().flatMap((descriptor) =>
      (descriptor.sweepAxes ?? []).filter((axis) => axis.name === name).map((axis) => ({ descriptor, axis })),
    );
    if (owners.length > 1) {
      throw new UserError({
        message: `the sweep axis ${name} is declared by ${owners.length} plugins: ${owners.map((owner) => `${owner.descriptor.kind}/${owner.descriptor.id}`).join(', ')}`,
        fix: "keep one plugin that declares it; remove the others from the pipeline's plugins list",
      });
    }
    return owners[0] ?? null;
  }

  /** Every descriptor, sorted by kind order then id. */
  list(kind?: PluginKind): AnyPluginDescriptor[] {
    const kinds = kind ? [kind] : [...this.byKind.keys()];
    return kinds.flatMap((each) => this.ids(each).map((id) => this.byKind.get(each)!.get(id)!));
  }
}
