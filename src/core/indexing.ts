// Indexing and selection: where, gather / scatter / scatterAdd, indexSelect, maskedFill.

import { broadcastIndex, broadcastShapes, reduceTo, stridedOffsets, toTensor } from "./broadcast.js";
import { alloc, coerce, promoteTypes } from "./dtype.js";
import { deviceGather, deviceIndexSelect, deviceMaskedFill, deviceScatter } from "./device-index.js";
import { result } from "./engine.js";
import { normDim, shapeNumel, shapeStr } from "./shape.js";
import { contiguousStrides, Tensor, type TensorLike } from "./tensor.js";

/** Elementwise choice: `cond` (nonzero = true) ? a : b, broadcast. */
export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  const ta = toTensor(a);
  const tb = toTensor(b);
  const shape = broadcastShapes(broadcastShapes(cond.shape, ta.shape), tb.shape);
  const n = shapeNumel(shape);
  const ci = broadcastIndex(cond.shape, shape);
  const ai = broadcastIndex(ta.shape, shape);
  const bi = broadcastIndex(tb.shape, shape);
  const c = cond.data;
  const x = ta.data;
  const y = tb.data;
  const out = alloc(promoteTypes(ta.dtype, tb.dtype), n) as Float32Array;
  for (let i = 0; i < n; i++) {
    const pick = c[ci === null ? i : ci[i]] !== 0;
    out[i] = pick ? x[ai === null ? i : ai[i]] : y[bi === null ? i : bi[i]];
  }
  return result(out, shape, [ta, tb], "WhereBackward0", (g) => {
    const ga = new Float32Array(n);
    const gb = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      if (c[ci === null ? i : ci[i]] !== 0) ga[i] = g[i];
      else gb[i] = g[i];
    }
    return [
      ta.requiresGrad ? reduceTo(ga, ai, ta.numel) : null,
      tb.requiresGrad ? reduceTo(gb, bi, tb.numel) : null,
    ];
  });
}

// ---------------------------------------------------------------- gather / scatter / indexSelect / maskedFill

function checkIndexDtype(index: Tensor, op: string): void {
  if (index.dtype !== "int64") throw new Error(`${op}(): Expected dtype int64 for index`);
}

/**
 * For each element of `index` (row-major), the offset into a contiguous tensor of `shape` of the element at
 * the same coordinates, with the coordinate along `d` left at 0 (the index value supplies it).
 */
function baseOffsets(index: Tensor, shape: readonly number[], d: number): Int32Array {
  const st = contiguousStrides(shape);
  st[d] = 0;
  return stridedOffsets(index.shape, st);
}

function checkIndexValue(v: number, d: number, size: number): void {
  if (!(v >= 0 && v < size))
    throw new Error(`index ${v} is out of bounds for dimension ${d} with size ${size}`);
}

/** out[i][j] = a[i][index[i][j]] along `dim` (for dim = 1), as `torch.gather`; shaped as `index`. */
export function gather(a: Tensor, dim: number, index: Tensor): Tensor {
  checkIndexDtype(index, "gather");
  const d = normDim(dim, a.ndim);
  if (index.ndim !== a.ndim && !(a.ndim === 0 && index.ndim <= 1) && !(index.ndim === 0 && a.ndim <= 1))
    throw new Error("Index tensor must have the same number of dimensions as input tensor");
  const ashape = a.ndim === 0 ? [1] : a.shape;
  for (let k = 0; k < index.ndim; k++) {
    if (k !== d && index.shape[k] > ashape[k])
      throw new Error(
        `Size does not match at dimension ${k} expected index ${shapeStr(index.shape)} to be smaller than self ${shapeStr(a.shape)} apart from dimension ${d}`,
      );
  }
  if (a._gpu !== null || index._gpu !== null) return deviceGather(a, d, index);
  const n = index.numel;
  const base = baseOffsets(index, ashape, d);
  const step = contiguousStrides(ashape)[d];
  const size = ashape[d];
  const idx = index.data;
  const src = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    checkIndexValue(idx[i], d, size);
    src[i] = base[i] + idx[i] * step;
  }
  const x = a.data;
  const out = alloc(a.dtype, n) as Float32Array;
  for (let i = 0; i < n; i++) out[i] = x[src[i]];
  const numel = a.numel;
  return result(out, index.shape, [a], "GatherBackward0", (g) => {
    const gx = new Float32Array(numel);
    for (let i = 0; i < n; i++) gx[src[i]] += g[i];
    return [gx];
  });
}

/** The flat targets of a scatter of `index` along `d` into `a`, checked as PyTorch checks them. */
function scatterTargets(a: Tensor, d: number, index: Tensor, src: Tensor | null, op: string): Int32Array {
  checkScatter(a, d, index, src, op);
  const ashape = a.ndim === 0 ? [1] : a.shape;
  const n = index.numel;
  const base = baseOffsets(index, ashape, d);
  const step = contiguousStrides(ashape)[d];
  const idx = index.data;
  const to = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    checkIndexValue(idx[i], d, ashape[d]);
    to[i] = base[i] + idx[i] * step;
  }
  return to;
}

/** PyTorch's checks of a scatter's dtypes and shapes. */
function checkScatter(a: Tensor, d: number, index: Tensor, src: Tensor | null, op: string): void {
  checkIndexDtype(index, op);
  if (index.ndim !== a.ndim && !(a.ndim === 0 && index.ndim <= 1))
    throw new Error("Index tensor must have the same number of dimensions as self tensor");
  if (src !== null && src.ndim !== index.ndim && !(src.ndim === 0 && index.ndim <= 1))
    throw new Error("Index tensor must have the same number of dimensions as src tensor");
  const ashape = a.ndim === 0 ? [1] : a.shape;
  for (let k = 0; k < index.ndim; k++) {
    if (
      (k !== d && index.shape[k] > ashape[k]) ||
      (src !== null && src.ndim > 0 && index.shape[k] > src.shape[k])
    ) {
      throw new Error(
        src !== null
          ? `Expected index ${shapeStr(index.shape)} to be smaller than self ${shapeStr(a.shape)} apart from dimension ${d} and to be smaller size than src ${shapeStr(src.shape)}`
          : `Expected index ${shapeStr(index.shape)} to be smaller than self ${shapeStr(a.shape)} apart from dimension ${d}`,
      );
    }
  }
}

/** For each element of `index`, the flat offset of the element of `src` at the same coordinates. */
function srcOffsets(index: Tensor, src: Tensor): Int32Array {
  if (src.ndim === 0) return new Int32Array(index.numel);
  return stridedOffsets(index.shape, contiguousStrides(src.shape));
}

/**
 * A copy of `a` with `src` (a tensor, or one value) written at `index` along `dim`: for dim = 1,
 * out[i][index[i][j]] = src[i][j], as `torch.scatter`. Where an index repeats, the last write wins.
 */
export function scatter(a: Tensor, dim: number, index: Tensor, src: Tensor | number): Tensor {
  const d = normDim(dim, a.ndim);
  const s = src instanceof Tensor ? src : null;
  if (a._gpu !== null || index._gpu !== null || s?._gpu) {
    checkScatter(a, d, index, s, "scatter");
    return deviceScatter(a, d, index, src, false);
  }
  const to = scatterTargets(a, d, index, s, "scatter");
  const out = a.data.slice();
  const n = to.length;
  if (s === null) {
    const v = coerce(src as number, a.dtype);
    for (let i = 0; i < n; i++) out[to[i]] = v;
    return result(out, a.shape, [a], "ScatterBackward1", (g) => {
      const gx = Float32Array.from(g);
      for (let i = 0; i < n; i++) gx[to[i]] = 0;
      return [gx];
    });
  }
  const from = srcOffsets(index, s);
  const y = s.data;
  for (let i = 0; i < n; i++) out[to[i]] = y[from[i]];
  return result(out, a.shape, [a, s], "ScatterBackward0", (g) => {
    let gx: Float32Array | null = null;
    let gs: Float32Array | null = null;
    if (a.requiresGrad) {
      gx = Float32Array.from(g);
      for (let i = 0; i < n; i++) gx[to[i]] = 0;
    }
    if (s.requiresGrad) {
      gs = new Float32Array(s.numel);
      for (let i = 0; i < n; i++) gs[from[i]] = g[to[i]];
    }
    return [gx, gs];
  });
}

/** A copy of `a` with `src` added at `index` along `dim` (repeats accumulate), as `torch.scatter_add`. */
export function scatterAdd(a: Tensor, dim: number, index: Tensor, src: Tensor): Tensor {
  const d = normDim(dim, a.ndim);
  if (a._gpu !== null || index._gpu !== null || src._gpu !== null) {
    checkScatter(a, d, index, src, "scatter_add");
    return deviceScatter(a, d, index, src, true);
  }
  const to = scatterTargets(a, d, index, src, "scatter_add");
  const from = srcOffsets(index, src);
  const out = a.data.slice();
  const y = src.data;
  const n = to.length;
  for (let i = 0; i < n; i++) out[to[i]] += y[from[i]];
  return result(out, a.shape, [a, src], "ScatterAddBackward0", (g) => {
    let gs: Float32Array | null = null;
    if (src.requiresGrad) {
      gs = new Float32Array(src.numel);
      for (let i = 0; i < n; i++) gs[from[i]] = g[to[i]];
    }
    return [a.requiresGrad ? g : null, gs];
  });
}

/** The slices of `a` at the positions `index` (1-D int64) along `dim`, as `torch.index_select`. */
export function indexSelect(a: Tensor, dim: number, index: Tensor): Tensor {
  if (index.ndim > 1) throw new Error("index_select(): Index is supposed to be a vector");
  if (index.dtype !== "int64") throw new Error("index_select(): Expected dtype int32 or int64 for index");
  const d = normDim(dim, a.ndim);
  const ashape = a.ndim === 0 ? [1] : a.shape;
  const size = ashape[d];
  if (a._gpu !== null || index._gpu !== null) return deviceIndexSelect(a, d, index);
  const k = index.numel;
  const idx = index.data;
  for (let j = 0; j < k; j++) {
    if (!(idx[j] >= 0 && idx[j] < size))
      throw new Error(`INDICES element is out of DATA bounds, id=${idx[j]} axis_dim=${size}`);
  }
  const inner = shapeNumel(ashape.slice(d + 1));
  const outer = shapeNumel(ashape.slice(0, d));
  const x = a.data;
  const out = alloc(a.dtype, outer * k * inner) as Float32Array;
  for (let o = 0; o < outer; o++)
    for (let j = 0; j < k; j++) {
      const from = (o * size + idx[j]) * inner;
      out.set(x.subarray(from, from + inner), (o * k + j) * inner);
    }
  const shape = a.ndim === 0 ? [] : a.shape.slice();
  if (a.ndim > 0) shape[d] = k;
  return result(out, shape, [a], "IndexSelectBackward0", (g) => {
    const gx = new Float32Array(a.numel);
    for (let o = 0; o < outer; o++)
      for (let j = 0; j < k; j++) {
        const to = (o * size + idx[j]) * inner;
        const from = (o * k + j) * inner;
        for (let i = 0; i < inner; i++) gx[to + i] += g[from + i];
      }
    return [gx];
  });
}

/**
 * `a` with `value` where `mask` (broadcast to `a`) is true, as `torch.masked_fill`. The value may be a
 * 0-d tensor, which then receives the gradient of the filled positions.
 */
export function maskedFill(a: Tensor, mask: Tensor, value: TensorLike): Tensor {
  if (value instanceof Tensor && value.ndim !== 0)
    throw new Error(
      `masked_fill_ only supports a 0-dimensional value tensor, but got tensor with ${value.ndim} dimension(s).`,
    );
  // mask first, as PyTorch broadcasts them (its error names the mask as tensor a)
  const shape = broadcastShapes(mask.shape, a.shape);
  if (a._gpu !== null || mask._gpu !== null) return deviceMaskedFill(a, mask, value, shape);
  const n = shapeNumel(shape);
  const ai = broadcastIndex(a.shape, shape);
  const mi = broadcastIndex(mask.shape, shape);
  const v = value instanceof Tensor ? value : null;
  const fill = coerce(v === null ? (value as number) : v.data[0], a.dtype);
  const x = a.data;
  const m = mask.data;
  const out = alloc(a.dtype, n) as Float32Array;
  for (let i = 0; i < n; i++) out[i] = m[mi === null ? i : mi[i]] !== 0 ? fill : x[ai === null ? i : ai[i]];
  const inputs = v === null ? [a] : [a, v];
  return result(out, shape, inputs, v === null ? "MaskedFillBackward0" : "MaskedFillBackward1", (g) => {
    let gx: Float32Array | null = null;
    let gv: Float32Array | null = null;
    if (a.requiresGrad) {
      const t = new Float32Array(n);
      for (let i = 0; i < n; i++) if (m[mi === null ? i : mi[i]] === 0) t[i] = g[i];
      gx = reduceTo(t, ai, a.numel);
    }
    if (v?.requiresGrad) {
      let s = 0;
      for (let i = 0; i < n; i++) if (m[mi === null ? i : mi[i]] !== 0) s += g[i];
      gv = new Float32Array([s]);
    }
    return v === null ? [gx] : [gx, gv];
  });
}
