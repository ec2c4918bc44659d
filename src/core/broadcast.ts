// Broadcasting and strided index maps: the one index loop behind element-wise ops, reductions and
// permutations, and the reverse sum that brings a broadcast gradient back to its operand.

import { sameShape, shapeNumel, shapeStr } from "./shape.js";
import { Tensor, type TensorLike } from "./tensor.js";

/** The broadcast shape of two shapes, or PyTorch's error. */
export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  // from the last dimension, as PyTorch, so its error names the rightmost mismatch
  for (let i = n - 1; i >= 0; i--) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(
        `The size of tensor a (${da}) must match the size of tensor b (${db}) at non-singleton dimension ${i}; shapes ${shapeStr(a)} and ${shapeStr(b)}`,
      );
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/**
 * For each element of `shape` (row-major), the offset Σ index[d]·strides[d]: the one index loop behind
 * broadcasting, reductions and permutations.
 */
export function stridedOffsets(shape: readonly number[], strides: readonly number[]): Int32Array {
  const nd = shape.length;
  const n = shapeNumel(shape);
  const idx = new Int32Array(n);
  const counter = new Array<number>(nd).fill(0);
  let off = 0;
  for (let i = 0; i < n; i++) {
    idx[i] = off;
    for (let d = nd - 1; d >= 0; d--) {
      counter[d]++;
      off += strides[d];
      if (counter[d] < shape[d]) break;
      off -= strides[d] * counter[d];
      counter[d] = 0;
    }
  }
  return idx;
}

/**
 * For each element of `outShape`, the index of the element of `shape` that broadcasts to it
 * (`null` when `shape` is `outShape`, the identity).
 */
export function broadcastIndex(shape: readonly number[], outShape: readonly number[]): Int32Array | null {
  if (sameShape(shape, outShape)) return null;
  const nd = outShape.length;
  if (shapeNumel(shape) === 1) return new Int32Array(shapeNumel(outShape));
  const strides = new Array<number>(nd).fill(0);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[nd - shape.length + i] = shape[i] === 1 ? 0 : s;
    s *= shape[i];
  }
  return stridedOffsets(outShape, strides);
}

/** Sums `g` (shaped as the broadcast output) back to the `n` elements of an operand. */
export function reduceTo(g: Float32Array, idx: Int32Array | null, n: number): Float32Array {
  if (idx === null) return g;
  const out = new Float32Array(n);
  for (let i = 0; i < g.length; i++) out[idx[i]] += g[i];
  return out;
}

export function toTensor(x: TensorLike): Tensor {
  return x instanceof Tensor ? x : new Tensor(new Float32Array([x]), []);
}
