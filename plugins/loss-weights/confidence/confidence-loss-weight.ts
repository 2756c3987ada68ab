import { UserError } from '../../../core/errors/user-error.js';
import type { PluginDescriptor } from '../../../core/plugins/plugin-descriptor.js';
import type { LossWeight } from '../../../core/plugins/kinds/loss-weight.js';

/** Options of {@link confidenceLossWeight}. */
export interface ConfidenceLossWeightOptions {
  /** A constant α (default 0.5 when neither `alpha` nor `start`/`end` is given). */
  readonly alpha?: number;
  /** α at the first step, moving linearly to `end` (both or neither). */
  readonly start?: number;
  /** α at the last step. */
  readonly end?: number;
  /** The least weight an example with a known confidence gets (default 0: confidence as it is). */
  readonly floor?: number;
  /** The weight of an example whose confidence is unknown (default 1, the usual share). */
  readonly unknown?: number;
}

/**
 * Weights each example's loss by the teacher's confidence in its label, so that labels most of the
 * teacher's answers agree on pull harder than split votes. α splits the label and rationale terms
 * as the `constant` and `linear` loss weights do; the example's weight multiplies both terms (the
 * trainer normalises by the batch's weight, see docs/trainer-protocol.md). `floor` keeps unsure
 * examples in training with at least that weight; an example without a confidence (one answer, no
 * log-probabilities, or an imputed label) weighs `unknown`.
 */
export const confidenceLossWeight: PluginDescriptor<ConfidenceLossWeightOptions, LossWeight> = {
  id: 'confidence',
  kind: 'loss-weight',
  version: '1.0.0',
  summary: "α as `constant` or `linear`, and each example's loss weighted by the teacher's confidence.",
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      alpha: { type: 'number', minimum: 0, maximum: 1, description: 'Constant weight of the label loss (default 0.5).' },
      start: { type: 'number', minimum: 0, maximum: 1, description: 'α at the first step (with `end`, instead of `alpha`).' },
      end: { type: 'number', minimum: 0, maximum: 1, description: 'α at the last step (with `start`).' },
      floor: {
        type: 'number',
        minimum: 0,
        maximum: 1,
        default: 0,
        description: 'Least weight of an example with a known confidence: max(floor, confidence).',
      },
      unknown: {
        type: 'number',
        minimum: 0,
        maximum: 1,
        default: 1,
        description: 'Weight of an example whose confidence is unknown.',
      },
    },
    // `start` and `end` come together; that they do not come with `alpha` is checked by `create`
    // (a schema's `not` would only say "must NOT be valid").
    dependencies: { start: ['end'], end: ['start'] },
  },
  exampleOptions: { alpha: 0.5, floor: 0.2 },
  create(options) {
    if (options.alpha !== undefined && options.start !== undefined) {
      throw new UserError({
        message: 'the confidence loss weight was given both `alpha` and `start`/`end`',
        pointer: '/loss/options',
        plugin: 'loss-weight/confidence',
        fix: 'keep `alpha` for a constant α, or `start` and `end` for α moving over training',
      });
    }
    const floor = options.floor ?? 0;
    const unknown = options.unknown ?? 1;
    const alpha = options.alpha ?? 0.5;
    const schedule =
      options.start !== undefined && options.end !== undefined ? { start: options.start, end: options.end } : { start: alpha, end: alpha };
    return {
      schedule: () => schedule,
      exampleWeight: (item) => (item.confidence === undefined || item.confidence === null ? unknown : Math.max(floor, item.confidence)),
    };
  },
};
