import type { PipelineConfig, PluginStep } from '../config/pipeline-config.js';

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

const optionOf = (steps: readonly PluginStep[], use: string, option: string): number | undefined => {
  const value = steps.find((step) => step.use === use)?.options[option];
  return typeof value === 'number' ? value : undefined;
};

/**
 * Every combination of a pipeline's `sweep` axes, each as a configuration: the data-fraction and
 * rationale-rate samplers are set (other samplers keep their place before them), the loss becomes a
 * constant α and the seed is replaced. `standard` mode trains labels only (α = 1, no rationales), so
 * its points ignore the rationale-rate and α axes and are listed once. Without a `sweep` block the
 * result is empty.
 */
export function sweepVariants(config: PipelineConfig): SweepVariant[] {
  const grid = config.sweep;
  if (!grid) return [];
  const baseFraction = optionOf(config.samplers, 'data-fraction', 'fraction') ?? 1;
  const baseRate = optionOf(config.samplers, 'rationale-rate', 'rate') ?? 1;
  const baseAlpha = config.loss.use === 'constant' ? ((config.loss.options.alpha as number | undefined) ?? 0.5) : 0.5;
  const others = config.samplers.filter((step) => step.use !== 'data-fraction' && step.use !== 'rationale-rate');
  const variants = new Map<string, SweepVariant>();
  for (const mode of grid.mode ?? ['step-by-step']) {
    for (const dataFraction of grid.data_fraction ?? [baseFraction]) {
      for (const rate of grid.rationale_rate ?? [baseRate]) {
        for (const weight of grid.alpha ?? [baseAlpha]) {
          for (const seed of grid.seed ?? [config.seed]) {
            const rationaleRate = mode === 'standard' ? 0 : rate;
            const alpha = mode === 'standard' ? 1 : weight;
            const key = JSON.stringify([mode, dataFraction, rationaleRate, alpha, seed]);
            if (variants.has(key)) continue;
            const samplers: PluginStep[] = [...others];
            if (dataFraction < 1) samplers.push({ use: 'data-fraction', options: { fraction: dataFraction } });
            samplers.push({ use: 'rationale-rate', options: { rate: rationaleRate } });
            variants.set(key, {
              mode,
              dataFraction,
              rationaleRate,
              alpha,
              seed,
              config: { ...config, seed, samplers, loss: { use: 'constant', options: { alpha } }, sweep: undefined },
            });
          }
        }
      }
    }
  }
  return [...variants.values()];
}
