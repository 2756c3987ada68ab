import { pluginSteps, type PipelineConfig, type PluginStep } from '../config/pipeline-config.js';
import { UserError } from '../errors/user-error.js';
import type { PluginRegistry } from '../plugins/plugin-registry.js';
import { pluginSweepAxes, type PluginSweepAxisName, type SweepAxis } from '../plugins/sweep-axis.js';

/** Training mode of a sweep point. */
export type SweepMode = 'standard' | 'step-by-step';

/** One point of a sweep grid and the configuration that trains it. */
export interface SweepVariant {
  readonly mode: SweepMode;
  readonly dataFraction: number;
  readonly rationaleRate: number;
  readonly alpha: number;
  readonly seed: number;
  readonly config: PipelineConfig;
}

/** A plugin-owned axis with its owner and the pipeline key of the owner's steps (`samplers`, `loss`). */
interface OwnedAxis {
  readonly axis: SweepAxis;
  readonly pluginId: string;
  readonly key: 'samplers' | 'loss';
  readonly list: boolean;
}

/** The owner of every plugin axis, found through the registry; an axis nobody declares is a user error. */
function ownedAxes(registry: PluginRegistry): OwnedAxis[] {
  return pluginSweepAxes.map((name) => {
    const owner = registry.sweepAxisOwner(name);
    const slot = owner && pluginSteps.find((step) => step.kind === owner.descriptor.kind);
    if (!owner || !slot || (slot.pointer !== '/samplers' && slot.pointer !== '/loss')) {
      throw new UserError({
        pointer: '/sweep',
        message: `a sweep needs a sampler or loss-weight plugin that declares the ${name} axis, and none of the registered plugins does`,
        fix: 'register the plugin that owns the axis (the built-in list has one), or remove the sweep block',
      });
    }
    return { axis: owner.axis, pluginId: owner.descriptor.id, key: slot.pointer === '/samplers' ? 'samplers' : 'loss', list: slot.list };
  });
}

/** The value an axis has in the pipeline itself: its owner's option, else the owner's unset value. */
function pipelineValue(config: PipelineConfig, owned: OwnedAxis): number {
  const steps: readonly PluginStep[] = owned.key === 'samplers' ? config.samplers : [config.loss];
  const value = steps.find((step) => step.use === owned.pluginId)?.options[owned.axis.option];
  return typeof value === 'number' ? value : owned.axis.unsetValue;
}

/**
 * The pipeline's samplers and loss for one point: the owners' own sampler steps are dropped (the
 * others keep their place, first), then each axis writes its owner's step in axis order, leaving it
 * out at its `omittedAt` value; an axis owned by the loss weight replaces the loss.
 */
function pointSteps(config: PipelineConfig, owners: readonly OwnedAxis[], values: Readonly<Record<PluginSweepAxisName, number>>) {
  const ownerIds = new Set(owners.filter((owned) => owned.list).map((owned) => owned.pluginId));
  const samplers: PluginStep[] = config.samplers.filter((step) => !ownerIds.has(step.use));
  let loss = config.loss;
  for (const owned of owners) {
    const value = values[owned.axis.name];
    const step = { use: owned.pluginId, options: { [owned.axis.option]: value } };
    if (owned.key === 'loss') loss = step;
    else if (value !== owned.axis.omittedAt) samplers.push(step);
  }
  return { samplers, loss };
}

/**
 * Every combination of a pipeline's `sweep` axes, each as a configuration. The data-fraction,
 * rationale-rate and α axes belong to the plugins that declare them (`sweepAxes` of a descriptor,
 * found through the registry): each point writes their steps (see {@link pointSteps}); the seed is
 * replaced. `standard` mode trains labels only (α = 1, no rationales), so its points ignore the
 * rationale-rate and α axes and are listed once. Without a `sweep` block the result is empty.
 */
export function sweepVariants(config: PipelineConfig, registry: PluginRegistry): SweepVariant[] {
  const grid = config.sweep;
  if (!grid) return [];
  const owners = ownedAxes(registry);
  // Owners come in axis order; an axis the grid leaves out keeps the pipeline's own value.
  const axisValues = (name: PluginSweepAxisName) => grid[name] ?? [pipelineValue(config, owners[pluginSweepAxes.indexOf(name)]!)];
  const variants = new Map<string, SweepVariant>();
  for (const mode of grid.mode ?? ['step-by-step']) {
    for (const dataFraction of axisValues('data_fraction')) {
      for (const rate of axisValues('rationale_rate')) {
        for (const weight of axisValues('alpha')) {
          for (const seed of grid.seed ?? [config.seed]) {
            const rationaleRate = mode === 'standard' ? 0 : rate;
            const alpha = mode === 'standard' ? 1 : weight;
            const key = JSON.stringify([mode, dataFraction, rationaleRate, alpha, seed]);
            if (variants.has(key)) continue;
            const steps = pointSteps(config, owners, { data_fraction: dataFraction, rationale_rate: rationaleRate, alpha });
            variants.set(key, { mode, dataFraction, rationaleRate, alpha, seed, config: { ...config, ...steps, seed, sweep: undefined } });
          }
        }
      }
    }
  }
  return [...variants.values()];
}
