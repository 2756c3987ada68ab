import type { LoadedPipeline } from '../../config/load-pipeline.js';
import type { SplitRole } from '../../teacher/teach-pipeline.js';
import type { TeacherCaches } from '../../teacher/teacher-caches.js';
import type { PipelineInstances } from '../pipeline-instances.js';

/** What every stage definition of one pipeline is made from. */
export interface PipelineContext {
  readonly loaded: LoadedPipeline;
  /** The run's plugin instances, each made once. */
  readonly instances: PipelineInstances;
  /** The run's teacher caches. */
  readonly caches: TeacherCaches;
  /** Roles the teacher labels (default: train); more roles make a teacher stage of their own. */
  readonly teacherRoles: readonly SplitRole[];
  /** Train from scratch even where the trainer stage's folder holds checkpoints of the same request. */
  readonly restartTrainer: boolean;
  /** The metric of the pipeline's first evaluator: what training picks checkpoints by and evaluation reports. */
  readonly metric: string;
}
