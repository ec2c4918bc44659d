// Sorting along a dimension: sort, argsort and topk, with their gradients (scattered back to the indices).

import { alloc } from "./dtype.js";
import { deviceOrdered } from "./device-index.js";
import { result } from "./engine.js";
import { normDim, shapeNumel } from "./shape.js";
import { Tensor } from "./tensor.js";

/**
 * `[values, indices]`: PyTorch's named tuple as a pair (`.values` would clash with Array's own `values()`;
 * `max(dim)` keeps its `{ values, indices }` object).
 */
export type ValuesIndices = [values: Tensor, indices: Tensor];

/**
 * Orders the `size` elements of each line along `d` and keeps the first `k`: values and int64 indices,
 * shaped as `a` with `k` along `d`. NaN counts as larger than every number, as PyTorch's; ties keep their
 * order (a stable sort).
 */
function ordered(a: Tensor, dim: number, k: number, descending: boolean, name: string): ValuesIndices {
  const d = normDim(dim, a.ndim);
  if (a._gpu !== null) return deviceOrdered(a, d, k, descending, name);
  const size = a.ndim === 0 ? 1 : a.shape[d];
  const inner = shapeNumel(a.shape.slice(d + 1));
  const outer = shapeNumel(a.shape.slice(0, d));
  const x = a.data;
  const vals = alloc(a.dtype, outer * k * inner) as Float32Array;
  const idx = new Float64Array(outer * k * inner);
  const src = new Int32Array(outer * k * inner); // flat input index of each output element
  const order = new Array<number>(size);
  const key = new Float64Array(size);
  const cmp = (p: number, q: number): number => {
    const u = key[p];
    const v = key[q];
    const un = Number.isNaN(u);
    const vn = Number.isNaN(v);
    let c = un || vn ? (un ? 1 : 0) - (vn ? 1 : 0) : u < v ? -1 : u > v ? 1 : 0;
    if (descending) c = -c;
    return c !== 0 ? c : p - q;
  };
  for (let o = 0; o < outer; o++)
    for (let i = 0; i < inner; i++) {
      for (let j = 0; j < size; j++) {
        order[j] = j;
        key[j] = x[(o * size + j) * inner + i];
      }
      order.sort(cmp);
      for (let j = 0; j < k; j++) {
        const at = (o * k + j) * inner + i;
        const from = (o * size + order[j]) * inner + i;
        vals[at] = x[from];
        idx[at] = order[j];
        src[at] = from;
      }
    }
  const shape = a.ndim === 0 ? [] : a.shape.slice();
  if (a.ndim > 0) shape[d] = k;
  const values = result(vals, shape, [a], name, (g) => {
    const gx = new Float32Array(a.numel);
    for (let j = 0; j < src.length; j++) gx[src[j]] += g[j];
    return [gx];
  });
  return [values, new Tensor(idx, shape)];
}

/** Sorts along `dim` (default the last): `[values, indices]`, as `torch.sort`. */
export function sort(a: Tensor, dim = -1, descending = false): ValuesIndices {
  const d = normDim(dim, a.ndim);
  return ordered(a, d, a.ndim === 0 ? 1 : a.shape[d], descending, "SortBackward0");
}

/** The int64 indices that sort `a` along `dim`, as `torch.argsort`. */
export function argsort(a: Tensor, dim = -1, descending = false): Tensor {
  return sort(a.detach(), dim, descending)[1];
}

/**
 * The `k` largest (or smallest) elements along `dim` (default the last), largest first: `[values, indices]`,
 * as `torch.topk`. PyTorch does not promise an order among equal values; here they keep their positions.
 */
export function topk(a: Tensor, k: number, dim = -1, largest = true, sorted = true): ValuesIndices {
  const d = normDim(dim, a.ndim);
  const size = a.ndim === 0 ? 1 : a.shape[d];
  if (!Number.isInteger(k) || k < 0 || k > size) throw new Error("selected index k out of range");
  void sorted; // the k values always come out in order, which `sorted = false` allows too
  return ordered(a, d, k, largest, "TopkBackward0");
}
