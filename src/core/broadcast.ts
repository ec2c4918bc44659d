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

/**
 * Copies the elements of a strided view of `src` (its `shape`, `strides` and `offset`) into `dst` in
 * row-major order: one routine for every gather, run as a tight loop over the innermost dimension (a
 * block copy where that is contiguous) after merging dimensions that are contiguous with each other and
 * dropping those of size 1. `dst` is returned; it must hold shapeNumel(shape) elements.
 */
export function gatherStrided<A extends Float32Array | Float64Array | Uint8Array>(
  src: A,
  shape: readonly number[],
  strides: readonly number[],
  offset: number,
  dst: A,
): A {
  // merge: dims of size 1 go; a dim whose stride is its inner neighbour's stride × size joins it
  const sh: number[] = [];
  const st: number[] = [];
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d];
    if (n === 0) return dst;
    if (n === 1) continue;
    const k = sh.length - 1;
    if (k >= 0 && st[k] === strides[d] * n) {
      sh[k] *= n;
      st[k] = strides[d];
    } else {
      sh.push(n);
      st.push(strides[d]);
    }
  }
  const nd = sh.length;
  if (nd === 0) {
    dst[0] = src[offset];
    return dst;
  }
  const inner = sh[nd - 1];
  const is = st[nd - 1];
  const total = dst.length;
  const counter = new Array<number>(nd).fill(0);
  let off = offset;
  for (let o = 0; o < total; o += inner) {
    if (is === 1 && inner >= 32) dst.set(src.subarray(off, off + inner), o);
    else for (let i = 0, p = off; i < inner; i++, p += is) dst[o + i] = src[p];
    for (let d = nd - 2; d >= 0; d--) {
      counter[d]++;
      off += st[d];
      if (counter[d] < sh[d]) break;
      off -= st[d] * counter[d];
      counter[d] = 0;
    }
  }
  return dst;
}
