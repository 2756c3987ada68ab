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
  /** α of the point; null where the pipeline's loss weight is not α's owner and the grid lists no α, so its own loss is kept. */
  readonly alpha: number | null;
  /** The lowest teacher confidence trained on (0: no example dropped for its confidence). */
  readonly minConfidence: number;
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

/** The pipeline's step of an axis's owner, if it has one. */
function ownerStep(config: PipelineConfig, owned: OwnedAxis): PluginStep | undefined {
  const steps: readonly PluginStep[] = owned.key === 'samplers' ? config.samplers : [config.loss];
  return steps.find((step) => step.use === owned.pluginId);
}

/** The value an axis has in the pipeline itself: its owner's option, else the owner's unset value. */
function pipelineValue(config: PipelineConfig, owned: OwnedAxis): number {
  const value = ownerStep(config, owned)?.options[owned.axis.option];
  return typeof value === 'number' ? value : owned.axis.unsetValue;
}

/**
 * Whether the sweep keeps the pipeline's loss as it is: its loss weight is not the owner of a
 * loss axis (it weights examples by confidence, say) and the grid does not list that axis. Writing
 * the owner's step would silently train another loss; a grid that lists the axis over such a loss
 * is a user error.
 */
function keepsOwnLoss(config: PipelineConfig, owned: OwnedAxis): boolean {
  if (owned.key !== 'loss' || config.loss.use === owned.pluginId) return false;
  if (config.sweep?.[owned.axis.name] === undefined) return true;
  throw new UserError({
    pointer: `/sweep/${owned.axis.name}`,
    message: `the sweep lists ${owned.axis.name}, which the ${owned.pluginId} loss weight owns, but the pipeline's loss is ${config.loss.use}: every point would train the ${owned.pluginId} loss instead`,
    fix: `remove ${owned.axis.name} from the sweep (each point then keeps the ${config.loss.use} loss), or use loss ${owned.pluginId}`,
  });
}

/**
 * The pipeline's samplers and loss for one point: the owners' own sampler steps are dropped (the
 * others keep their place, first), then each axis writes its owner's step in axis order with the
 * axis value (other options of the pipeline's own step of that owner are kept), leaving it out at
 * its `omittedAt` value when there are no such options; an axis owned by the loss weight replaces
 * the loss, unless the pipeline's own loss is kept (see {@link keepsOwnLoss}).
 */
function pointSteps(config: PipelineConfig, owners: readonly OwnedAxis[], values: Readonly<Record<PluginSweepAxisName, number | null>>) {
  const ownerIds = new Set(owners.filter((owned) => owned.list).map((owned) => owned.pluginId));
  const samplers: PluginStep[] = config.samplers.filter((step) => !ownerIds.has(step.use));
  let loss = config.loss;
  for (const owned of owners) {
    const value = values[owned.axis.name];
    if (value === null) continue;
    const options = { ...ownerStep(config, owned)?.options, [owned.axis.option]: value };
    const step = { use: owned.pluginId, options };
    if (owned.key === 'loss') loss = step;
    else if (value !== owned.axis.omittedAt || Object.keys(options).length > 1) samplers.push(step);
  }
  return { samplers, loss };
}

/**
 * Every combination of a pipeline's `sweep` axes, each as a configuration. The data-fraction,
 * rationale-rate, α and min-confidence axes belong to the plugins that declare them (`sweepAxes` of
 * a descriptor, found through the registry): each point writes their steps (see {@link pointSteps});
 * the seed is replaced. `standard` mode trains labels only (α = 1, no rationales), so its points
 * ignore the rationale-rate and α axes and are listed once. Without a `sweep` block the result is empty.
 */
export function sweepVariants(config: PipelineConfig, registry: PluginRegistry): SweepVariant[] {
  const grid = config.sweep;
  if (!grid) return [];
  const owners = ownedAxes(registry);
  // Owners come in axis order; an axis the grid leaves out keeps the pipeline's own value.
  const axisValues = (name: PluginSweepAxisName) => grid[name] ?? [pipelineValue(config, owners[pluginSweepAxes.indexOf(name)]!)];
  const variants = new Map<string, SweepVariant>();
  const alphaOwner = owners[pluginSweepAxes.indexOf('alpha')]!;
  const ownLoss = keepsOwnLoss(config, alphaOwner);
  for (const mode of grid.mode ?? ['step-by-step']) {
    for (const dataFraction of axisValues('data_fraction')) {
      for (const rate of axisValues('rationale_rate')) {
        for (const weight of ownLoss ? [null] : axisValues('alpha')) {
          for (const minConfidence of axisValues('min_confidence')) {
            for (const seed of grid.seed ?? [config.seed]) {
              const rationaleRate = mode === 'standard' ? 0 : rate;
              // Standard training is labels alone, α = 1, whatever the loss weight (a kept loss is replaced here too).
              const alpha = mode === 'standard' ? 1 : weight;
              const key = JSON.stringify([mode, dataFraction, rationaleRate, alpha, minConfidence, seed]);
              if (variants.has(key)) continue;
              const values = { data_fraction: dataFraction, rationale_rate: rationaleRate, alpha, min_confidence: minConfidence };
              const steps = pointSteps(config, owners, values);
              variants.set(key, {
                mode,
                dataFraction,
                rationaleRate,
                alpha,
                minConfidence,
                seed,
                config: { ...config, ...steps, seed, sweep: undefined },
              });
            }
          }
        }
      }
    }
  }
  return [...variants.values()];
}
