import { packagePath } from '../../../core/package-root.js';

/** The worker's entry script; it ships with the package (`plugins/**\/*.py`). */
export const workerMainScript = packagePath('plugins', 'trainers', 'torch', 'worker', 'main.py');

/** The worker's requirements, installed by `npm run setup:python`. */
export const workerRequirementsFile = packagePath('plugins', 'trainers', 'torch', 'worker', 'requirements.txt');
