import type { LoadedPipeline } from '../config/load-pipeline.js';
import type { TeachSplit } from './teach-stage.js';

/** The roles a pipeline's dataset splits play. */
export type SplitRole = 'train' | 'validation' | 'test';

/** The dataset splits for the asked roles, with the pipeline's limits. */
export function splitsForRoles(loaded: LoadedPipeline, roles: readonly SplitRole[]): TeachSplit[] {
  const { splits, limit } = loaded.config.dataset;
  const chosen: TeachSplit[] = [];
  for (const role of roles) {
    const split = splits[role];
    if (split === undefined) continue; // validation held out of train: train's records cover it
    if (chosen.some((each) => each.split === split)) continue;
    chosen.push({ split, limit: limit[role] });
  }
  return chosen;
}
