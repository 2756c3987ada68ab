import { studentSessionOptions } from '../../core/inference/session-options.js';
import { threadEnvironment } from './child-process.js';

/**
 * The one thread and spin policy of the inference benches, the same in every runtime: `threads`
 * threads inside an operator, one across operators, and workers that sleep when they have nothing to
 * do (`loadStudent`'s default) rather than spin.
 */
export function threadPolicy(threads: number): string {
  return (
    `${threads} intra-op threads, 1 inter-op, workers sleep when idle: onnxruntime-node and transformers.js get the same session options ` +
    `(intraOpNumThreads ${threads}, interOpNumThreads 1, sequential, graph optimisation all, session.intra_op.allow_spinning 0), ` +
    `PyTorch torch.set_num_threads(${threads}) with OMP_NUM_THREADS=${threads} and OMP_WAIT_POLICY=PASSIVE`
  );
}

/** The environment of a PyTorch child under {@link threadPolicy}: its OpenMP threads sleep when idle. */
export function inferenceEnvironment(threads: number): NodeJS.ProcessEnv {
  return { ...threadEnvironment(threads), OMP_WAIT_POLICY: 'PASSIVE' };
}

/** transformers.js `session_options` under {@link threadPolicy}: exactly what `loadStudent` gives onnxruntime. */
export function transformersJsSessionOptions(threads: number) {
  return studentSessionOptions({ intraOpThreads: threads });
}
