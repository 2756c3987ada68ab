import type { Tensor as OrtTensor } from 'onnxruntime-node';
import type { OnnxRuntime } from './greedy-decoder.js';

/** The shape of one cache tensor but its length: `[batch, heads, length, headSize]`. */
export interface CacheShape {
  readonly batch: number;
  readonly heads: number;
  readonly headSize: number;
}

/**
 * Preallocated outputs for greedy decoding (`loadStudent`'s `reuseBuffers`): each growing cache
 * (`present.*` of the self-attention) gets two buffers sized for the longest generation, written in
 * turn, so that a step reads its past from one while onnxruntime writes its present into the other;
 * the logits get one buffer reused every step. onnxruntime-node writes a run's outputs into the
 * tensors passed as fetches, so no step allocates cache memory of its own.
 */
export class CacheBuffers {
  private readonly buffers = new Map<string, [Float32Array, Float32Array]>();
  private turn = 0;
  private logits: OrtTensor | null = null;

  /**
   * @param presentNames - the growing `present.*` outputs.
   * @param longest - the most positions a cache reaches in this generation.
   */
  constructor(
    private readonly runtime: OnnxRuntime,
    presentNames: readonly string[],
    private readonly shape: CacheShape,
    longest: number,
  ) {
    const size = shape.batch * shape.heads * longest * shape.headSize;
    for (const name of presentNames) this.buffers.set(name, [new Float32Array(size), new Float32Array(size)]);
  }

  /**
   * The fetches of one step whose presents hold `length` positions: the logits' buffer (once its
   * vocabulary is known) and a view of the buffer of each present not read by this step.
   */
  fetches(length: number): Record<string, OrtTensor | null> {
    const { batch, heads, headSize } = this.shape;
    const fetches: Record<string, OrtTensor | null> = { logits: this.logits };
    for (const [name, pair] of this.buffers) {
      const view = new Float32Array(pair[this.turn]!.buffer, 0, batch * heads * length * headSize);
      fetches[name] = new this.runtime.Tensor('float32', view, [batch, heads, length, headSize]);
    }
    this.turn = 1 - this.turn;
    return fetches;
  }

  /**
   * The logits a step wrote, `[batch, 1, vocabulary]`: the preallocated tensor from the second step on
   * (the first step's, allocated by onnxruntime, tells the vocabulary).
   */
  stepLogits(result: Record<string, OrtTensor>): Float32Array {
    if (!this.logits) {
      const dims = result.logits!.dims;
      this.logits = new this.runtime.Tensor('float32', new Float32Array(dims[0]! * dims[1]! * dims[2]!), [...dims]);
      return result.logits!.data as Float32Array;
    }
    return this.logits.data as Float32Array;
  }
}
