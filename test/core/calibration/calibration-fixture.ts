import type { CalibrationFile } from '../../../core/calibration/calibration-file.js';

/**
 * A calibration as `distill calibrate` writes it: the target 0.95 reached at 0.87 (62% promised,
 * 60% answered on test at 96% agreement), the target 0.99 reached by no threshold.
 */
export const exampleCalibration: CalibrationFile = {
  format: 1,
  against: 'teacher',
  split: 'valid',
  examples: 600,
  confidence: 'label-probability',
  bound: { method: 'clopper-pearson', level: 0.95 },
  thresholds: [
    { target: 0.95, threshold: 0.87, expected_coverage: 0.62, validation_agreement: 0.97, agreement_lower_bound: 0.951 },
    { target: 0.99, threshold: null, expected_coverage: 0, validation_agreement: null, agreement_lower_bound: null },
  ],
  test: [
    { target: 0.95, threshold: 0.87, coverage: 0.6, agreement: 0.96, examples: 2000 },
    { target: 0.99, threshold: null, coverage: 0, agreement: 1, examples: 2000 },
  ],
};
