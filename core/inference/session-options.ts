import type { InferenceSession } from 'onnxruntime-node';
import type { LoadStudentOptions } from './load-student.js';

/**
 * onnxruntime session options of a student's graphs: the caller's threads, its graph optimisation
 * level (default full),
 * and workers that sleep between runs unless `spinning` asks otherwise (docs/onnx-layout.md, "Threads").
 */
export function studentSessionOptions(options: LoadStudentOptions): InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: options.intraOpThreads ?? 1,
    interOpNumThreads: options.interOpThreads ?? 1,
    executionMode: 'sequential',
    graphOptimizationLevel: options.graphOptimizationLevel ?? 'all',
    extra: {
      session: options.spinning
        ? // Spin inside a run; stop when it ends, so that the idle session's pool never spins while the other runs.
          { 'intra_op.allow_spinning': '1', 'inter_op.allow_spinning': '1', force_spinning_stop: '1' }
        : { 'intra_op.allow_spinning': '0', 'inter_op.allow_spinning': '0' },
    },
  };
}
