// The one adapter that lifts a hand-written kernel pair into the autograd graph (candle's CustomOp):
// the caller runs the forward kernel itself and hands over its outputs, the op's inputs, and a backward
// that runs the backward kernel. The adapter makes the graph node (one node, however many outputs), gives
// the backward its gradient buffers, and keeps the engine's bookkeeping out of the kernels.
//
// Gradient buffers follow llm.c's convention: a backward kernel ADDS into `d.add(i)` (which may be a leaf
// parameter's own `.grad`, so large parameter gradients are written once, in place), or writes into
// `d.own(i)` (a zeroed buffer of its own). Inputs that need no gradient get null from both.

import { type GradInto, needsGrad, result, resultMulti, type Tensor } from "./tensor.js";

/** The gradient buffers of one backward call (see the file comment). */
export interface GradBuffers {
  /** A buffer to ADD input i's gradient into: the leaf's `.grad` where the engine offers it, else zeros. */
  add(i: number): Float32Array | null;
  /** A zeroed buffer of input i's size, owned by this call (never a `.grad`). */
  own(i: number): Float32Array | null;
}

/** One output of a kernel: its data and shape. */
export interface KernelOutput {
  data: Float32Array;
  shape: readonly number[];
}

/**
 * The backward of a custom op: `grads[k]` is dL/d(output k) (null for an output that received none;
 * for a one-output op it is never null). It fills the buffers it asks `d` for.
 */
export type CustomBackward = (grads: ReadonlyArray<Float32Array | null>, d: GradBuffers) => void;

/**
 * Wraps computed outputs as tensors recording `backward` when an input needs a gradient. `inputs` may
 * hold null for an absent optional input (a bias); the indices given to `d` count those nulls.
 * `release` frees saved buffers once the backward has run (unless the graph is retained); only
 * multi-output nodes call it.
 */
export function customOp(
  name: string,
  inputs: readonly (Tensor | null)[],
  outputs: readonly KernelOutput[],
  backward: CustomBackward,
  release: (() => void) | null = null,
): Tensor[] {
  const present = inputs.filter((t): t is Tensor => t !== null);
  const slot = new Int32Array(inputs.length).fill(-1); // input index -> position in `present`
  let k = 0;
  inputs.forEach((t, i) => {
    if (t !== null) slot[i] = k++;
  });
  const run = (grads: ReadonlyArray<Float32Array | null>, into?: GradInto): (Float32Array | null)[] => {
    const out: (Float32Array | null)[] = new Array(present.length).fill(null);
    const inGrad = new Array<boolean>(present.length).fill(false); // true where the buffer is a .grad
    const buffers: GradBuffers = {
      add(i) {
        const t = inputs[i];
        if (t === null || !t.requiresGrad) return null;
        const p = slot[i];
        if (out[p] !== null) return out[p];
        const g = into?.(t) ?? null;
        if (g !== null) {
          inGrad[p] = true;
          out[p] = g;
        } else out[p] = new Float32Array(t.numel);
        return out[p];
      },
      own(i) {
        const t = inputs[i];
        if (t === null || !t.requiresGrad) return null;
        const p = slot[i];
        if (out[p] !== null && !inGrad[p]) return out[p];
        if (out[p] !== null) throw new Error(`internal error: ${name} asked for input ${i}'s gradient twice`);
        out[p] = new Float32Array(t.numel);
        return out[p];
      },
    };
    backward(grads, buffers);
    // gradients added into .grad directly are not returned (the engine would add them again)
    for (let p = 0; p < out.length; p++) if (inGrad[p]) out[p] = null;
    return out;
  };
  if (outputs.length === 1) {
    return [result(outputs[0].data, outputs[0].shape, present, name, (g, into) => run([g], into))];
  }
  return resultMulti(
    outputs.map((o) => o.data),
    outputs.map((o) => o.shape),
    present,
    name,
    run,
    release,
  );
}

/** Whether a custom op on these inputs will record a node (so its forward should keep what backward needs). */
export function customNeedsGrad(inputs: readonly (Tensor | null)[]): boolean {
  return needsGrad(...inputs.filter((t): t is Tensor => t !== null));
}
