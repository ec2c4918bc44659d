// Reductions (sum, mean, max/min, argmax, norm) and the softmaxes along a dimension, with their backwards.

import { stridedOffsets } from "./broadcast.js";
import {
  deviceArgExtreme,
  deviceCumsum,
  deviceExtreme,
  deviceSoftmax,
  deviceSumAll,
  deviceSumDims,
} from "./device.js";
import { deviceIntCumsum, deviceTruth } from "./device-index.js";
import { alloc, scalarTypeName } from "./dtype.js";
import { result } from "./engine.js";
import { normDim, shapeNumel } from "./shape.js";
import { reshape } from "./shapes.js";
import { Tensor } from "./tensor.js";

function normDims(dim: number | number[] | null | undefined, ndim: number): boolean[] {
  const red = new Array<boolean>(ndim).fill(dim === undefined || dim === null);
  if (dim !== undefined && dim !== null) {
    const dims = Array.isArray(dim) ? dim : [dim];
    if (dims.length === 0) red.fill(true);
    for (const d of dims) {
      const k = normDim(d, ndim);
      if (red[k]) throw new Error(`dim ${k} appears multiple times in the list of dims`);
      red[k] = true;
    }
  }
  return red;
}

/** For each input element, the index of its output element when the `red` dims are reduced. */
function reduceIndex(shape: readonly number[], red: boolean[]): { idx: Int32Array; outN: number } {
  const strides = new Array<number>(shape.length).fill(0);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (!red[d]) {
      strides[d] = s;
      s *= shape[d];
    }
  }
  return { idx: stridedOffsets(shape, strides), outN: s };
}

function reducedShape(shape: readonly number[], red: boolean[], keepdim: boolean): number[] {
  const out: number[] = [];
  shape.forEach((d, i) => {
    if (!red[i]) out.push(d);
    else if (keepdim) out.push(1);
  });
  return out;
}

function sumImpl(
  a: Tensor,
  dim: number | number[] | null | undefined,
  keepdim: boolean,
  scale: number,
  name: string,
): Tensor {
  const red = normDims(dim, a.ndim);
  const shape = reducedShape(a.shape, red, keepdim);
  const x = a.data;
  const n = x.length;
  // integer and bool tensors sum to int64, as PyTorch's
  const dtype = a.dtype === "float32" ? "float32" : "int64";
  if (red.every((r) => r)) {
    let s = 0;
    for (let i = 0; i < n; i++) s += x[i];
    const out = alloc(dtype, 1) as Float32Array;
    out[0] = s * scale;
    return result(out, shape, [a], name, (g) => [new Float32Array(n).fill(g[0] * scale)]);
  }
  const { idx, outN } = reduceIndex(a.shape, red);
  const acc = new Float64Array(outN);
  for (let i = 0; i < n; i++) acc[idx[i]] += x[i];
  const out = alloc(dtype, outN) as Float32Array;
  for (let i = 0; i < outN; i++) out[i] = acc[i] * scale;
  return result(out, shape, [a], name, (g) => {
    const gx = new Float32Array(n);
    for (let i = 0; i < n; i++) gx[i] = g[idx[i]] * scale;
    return [gx];
  });
}

/** Sum of all elements, or over `dim` (a number or a list). */
export function sum(a: Tensor, dim?: number | number[] | null, keepdim = false): Tensor {
  if (a._gpu !== null) return deviceReduce(a, dim, keepdim, false);
  // PyTorch's names: sum() is SumBackward0, any call with a dim (even None) SumBackward1
  return sumImpl(a, dim, keepdim, 1, dim === undefined && !keepdim ? "SumBackward0" : "SumBackward1");
}

/** Mean of all elements, or over `dim`. */
export function mean(a: Tensor, dim?: number | number[] | null, keepdim = false): Tensor {
  if (a._gpu !== null) return deviceReduce(a, dim, keepdim, true);
  requireFloat(
    a,
    "mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype.",
    true,
  );
  const red = normDims(dim, a.ndim);
  let count = 1;
  a.shape.forEach((d, i) => {
    if (red[i]) count *= d;
  });
  return sumImpl(
    a,
    dim,
    keepdim,
    1 / count,
    dim === undefined && !keepdim ? "MeanBackward0" : "MeanBackward1",
  );
}

function extreme(
  a: Tensor,
  sign: 1 | -1,
  dim: number | undefined,
  keepdim: boolean,
  name: string,
): Tensor | { values: Tensor; indices: Tensor } {
  if (a._gpu !== null) return deviceExtreme(a, sign === 1, dim, keepdim);
  const x = a.data;
  const n = x.length;
  const better = (v: number, best: number) =>
    (sign > 0 ? v > best : v < best) || (Number.isNaN(v) && !Number.isNaN(best));
  if (dim === undefined) {
    if (n === 0) throw new Error(`${name}(): Expected reduction dim to be specified for input.numel() == 0`);
    let best = x[0];
    for (let i = 1; i < n; i++) if (better(x[i], best)) best = x[i];
    const one = alloc(a.dtype, 1) as Float32Array;
    one[0] = best;
    return result(one, [], [a], `${name === "max" ? "Max" : "Min"}Backward1`, (g) => {
      // Ties share the gradient evenly, as PyTorch's full reduction does.
      let count = 0;
      for (let i = 0; i < n; i++) if (x[i] === best || (Number.isNaN(best) && Number.isNaN(x[i]))) count++;
      const gx = new Float32Array(n);
      for (let i = 0; i < n; i++)
        if (x[i] === best || (Number.isNaN(best) && Number.isNaN(x[i]))) gx[i] = g[0] / count;
      return [gx];
    });
  }
  const d = normDim(dim, a.ndim);
  const size = a.ndim === 0 ? 1 : a.shape[d];
  if (size === 0) throw new Error(`${name}(): Expected reduction dim ${d} to have non-zero size.`);
  const inner = shapeNumel(a.shape.slice(d + 1));
  const outer = shapeNumel(a.shape.slice(0, d));
  const vals = alloc(a.dtype, outer * inner) as Float32Array;
  const arg = new Int32Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let best = x[o * size * inner + i];
      let bi = 0;
      for (let k = 1; k < size; k++) {
        const v = x[(o * size + k) * inner + i];
        if (better(v, best)) {
          best = v;
          bi = k;
        }
      }
      vals[o * inner + i] = best;
      arg[o * inner + i] = bi;
    }
  }
  const red = a.shape.map((_, i) => i === d);
  const shape = a.ndim === 0 ? [] : reducedShape(a.shape, red, keepdim);
  const values = result(vals, shape, [a], `${name === "max" ? "Max" : "Min"}Backward0`, (g) => {
    const gx = new Float32Array(n);
    for (let o = 0; o < outer; o++)
      for (let i = 0; i < inner; i++) gx[(o * size + arg[o * inner + i]) * inner + i] += g[o * inner + i];
    return [gx];
  });
  const indices = new Tensor(Float64Array.from(arg), shape);
  return { values, indices };
}

/** Largest element, or `{values, indices}` along `dim`. */
export function max(a: Tensor): Tensor;
export function max(a: Tensor, dim: number, keepdim?: boolean): { values: Tensor; indices: Tensor };
export function max(a: Tensor, dim?: number, keepdim = false): Tensor | { values: Tensor; indices: Tensor } {
  return extreme(a, 1, dim, keepdim, "max");
}

export function min(a: Tensor): Tensor;
export function min(a: Tensor, dim: number, keepdim?: boolean): { values: Tensor; indices: Tensor };
export function min(a: Tensor, dim?: number, keepdim = false): Tensor | { values: Tensor; indices: Tensor } {
  return extreme(a, -1, dim, keepdim, "min");
}

/** Index of the largest element (of the flattened tensor, or along `dim`), int64 as PyTorch's. */
export function argmax(a: Tensor, dim?: number, keepdim = false): Tensor {
  if (a._gpu !== null) return deviceArgExtreme(a, true, dim, keepdim);
  if (dim === undefined) {
    const flat = reshape(a.detach(), [-1]);
    const index = (extreme(flat, 1, 0, false, "max") as { indices: Tensor }).indices;
    // keepdim keeps every dimension of the input, each of size 1 (PyTorch)
    return keepdim
      ? new Tensor(
          index.data,
          a.shape.map(() => 1),
        )
      : index;
  }
  return (extreme(a.detach(), 1, dim, keepdim, "max") as { indices: Tensor }).indices;
}

/** Index of the smallest element (of the flattened tensor, or along `dim`), int64. */
export function argmin(a: Tensor, dim?: number, keepdim = false): Tensor {
  if (a._gpu !== null) return deviceArgExtreme(a, false, dim, keepdim);
  if (dim === undefined) {
    const index = (extreme(reshape(a.detach(), [-1]), -1, 0, false, "min") as { indices: Tensor }).indices;
    return keepdim
      ? new Tensor(
          index.data,
          a.shape.map(() => 1),
        )
      : index;
  }
  return (extreme(a.detach(), -1, dim, keepdim, "min") as { indices: Tensor }).indices;
}

/**
 * The p-norm of all elements, as `torch.norm(a, p)` (p = 2 by default): Infinity gives the largest
 * magnitude, -Infinity the smallest, 0 the number of nonzero elements. One node (`NormBackward1`) whose
 * gradient follows PyTorch's `norm_backward`: 0 where the norm is 0 (not 0/0), none at all for p = 0.
 */
export function norm(a: Tensor, p = 2): Tensor {
  if (a.dtype !== "float32")
    throw new Error(
      `linalg.vector_norm: Expected a floating point or complex tensor as input. Got ${scalarTypeName(a.dtype)}`,
    );
  const x = a.data;
  const n = x.length;
  let v = 0;
  if (n === 0) v = 0;
  else if (p === Number.POSITIVE_INFINITY || p === Number.NEGATIVE_INFINITY) {
    v = Math.abs(x[0]);
    for (let i = 1; i < n && !Number.isNaN(v); i++) {
      const m = Math.abs(x[i]);
      if (Number.isNaN(m) || (p > 0 ? m > v : m < v)) v = m;
    }
  } else if (p === 0) {
    for (let i = 0; i < n; i++) if (x[i] !== 0) v++;
  } else {
    // each |x|^p rounded to float32 as PyTorch's elementwise pass, summed in double
    let s = 0;
    if (p === 1) for (let i = 0; i < n; i++) s += Math.abs(x[i]);
    else if (p === 2) for (let i = 0; i < n; i++) s += Math.fround(x[i] * x[i]);
    else for (let i = 0; i < n; i++) s += Math.fround(Math.abs(x[i]) ** p);
    s = Math.fround(s);
    v = p === 1 ? s : p === 2 ? Math.sqrt(s) : s ** (1 / p);
  }
  const out = new Float32Array([v]);
  return result(out, [], [a], "NormBackward1", (g) => {
    if (p === 0) return [null]; // PyTorch's gradient is undefined there: nothing reaches the input
    const nv = out[0];
    const go = g[0];
    const gx = new Float32Array(n);
    if (p === 1) {
      for (let i = 0; i < n; i++) gx[i] = Math.sign(x[i]) * go;
    } else if (p === 2) {
      if (nv !== 0) for (let i = 0; i < n; i++) gx[i] = (go * x[i]) / nv;
    } else if (!Number.isFinite(p)) {
      // the elements at the extreme (or NaN) share the gradient evenly
      let count = 0;
      for (let i = 0; i < n; i++) if (Math.abs(x[i]) === nv || Number.isNaN(x[i])) count++;
      for (let i = 0; i < n; i++)
        gx[i] = Math.sign(x[i]) * (Math.abs(x[i]) === nv || Number.isNaN(x[i]) ? go / count : 0);
    } else if (p < 1) {
      const scale = go * nv ** (1 - p);
      for (let i = 0; i < n; i++)
        gx[i] = x[i] === 0 ? 0 : Math.sign(x[i]) * Math.abs(x[i]) ** (p - 1) * scale;
    } else {
      const scale = nv === 0 ? 0 : go / nv ** (p - 1);
      if (p < 2) for (let i = 0; i < n; i++) gx[i] = Math.sign(x[i]) * Math.abs(x[i]) ** (p - 1) * scale;
      else for (let i = 0; i < n; i++) gx[i] = x[i] * Math.abs(x[i]) ** (p - 2) * scale;
    }
    return [gx];
  });
}

/** Softmax along `dim`. */
export function softmax(a: Tensor, dim: number): Tensor {
  if (a._gpu !== null) return deviceSoftmax(a, normDim(dim, a.ndim), false);
  const y = softmaxData(a, dim, false);
  const { outer, size, inner } = y;
  return result(y.out, a.shape, [a], "SoftmaxBackward0", (g) => {
    const gx = new Float32Array(a.numel);
    const s = y.out;
    for (let o = 0; o < outer; o++)
      for (let i = 0; i < inner; i++) {
        let dot = 0;
        for (let k = 0; k < size; k++) {
          const j = (o * size + k) * inner + i;
          dot += g[j] * s[j];
        }
        for (let k = 0; k < size; k++) {
          const j = (o * size + k) * inner + i;
          gx[j] = s[j] * (g[j] - dot);
        }
      }
    return [gx];
  });
}

/** log(softmax) along `dim`, computed stably. */
export function logSoftmax(a: Tensor, dim: number): Tensor {
  if (a._gpu !== null) return deviceSoftmax(a, normDim(dim, a.ndim), true);
  const y = softmaxData(a, dim, true);
  const { outer, size, inner } = y;
  return result(y.out, a.shape, [a], "LogSoftmaxBackward0", (g) => {
    const gx = new Float32Array(a.numel);
    const ls = y.out;
    for (let o = 0; o < outer; o++)
      for (let i = 0; i < inner; i++) {
        let gs = 0;
        for (let k = 0; k < size; k++) gs += g[(o * size + k) * inner + i];
        for (let k = 0; k < size; k++) {
          const j = (o * size + k) * inner + i;
          gx[j] = g[j] - Math.exp(ls[j]) * gs;
        }
      }
    return [gx];
  });
}

function softmaxData(a: Tensor, dim: number, logMode: boolean) {
  if (a.dtype !== "float32")
    throw new Error(
      `"${logMode ? "log_softmax" : "softmax"}_lastdim_kernel_impl" not implemented for '${scalarTypeName(a.dtype)}'`,
    );
  const d = normDim(dim, a.ndim);
  const size = a.ndim === 0 ? 1 : a.shape[d];
  const inner = shapeNumel(a.shape.slice(d + 1));
  const outer = shapeNumel(a.shape.slice(0, d));
  const x = a.data;
  const out = new Float32Array(a.numel);
  for (let o = 0; o < outer; o++)
    for (let i = 0; i < inner; i++) {
      let m = Number.NEGATIVE_INFINITY;
      for (let k = 0; k < size; k++) m = Math.max(m, x[(o * size + k) * inner + i]);
      let s = 0;
      for (let k = 0; k < size; k++) s += Math.exp(x[(o * size + k) * inner + i] - m);
      const ls = Math.log(s);
      for (let k = 0; k < size; k++) {
        const j = (o * size + k) * inner + i;
        out[j] = logMode ? x[j] - m - ls : Math.exp(x[j] - m) / s;
      }
    }
  return { out, outer, size, inner };
}

/** PyTorch's refusal of an op that needs a float tensor (`Got: Long` in its message's style when `got`). */
export function requireFloat(a: Tensor, message: string, got = false): void {
  if (a.dtype !== "float32") throw new Error(got ? `${message} Got: ${scalarTypeName(a.dtype)}` : message);
}

// ---------------------------------------------------------------- all, any, cumsum

/** Whether `test` holds for every (all) or some (any) element, overall or along `dim`: a bool tensor. */
function truth(a: Tensor, dim: number | undefined, keepdim: boolean, every: boolean): Tensor {
  if (a._gpu !== null) {
    if (dim === undefined || a.ndim === 0) return deviceTruth(a, undefined, [], every);
    const dd = normDim(dim, a.ndim);
    return deviceTruth(
      a,
      dd,
      reducedShape(
        a.shape,
        a.shape.map((_, i) => i === dd),
        keepdim,
      ),
      every,
    );
  }
  const x = a.data;
  if (dim === undefined) {
    let r = every;
    for (let i = 0; i < x.length; i++) {
      if ((x[i] !== 0) !== every) {
        r = !every;
        break;
      }
    }
    return new Tensor(new Uint8Array([r ? 1 : 0]), []);
  }
  const d = normDim(dim, a.ndim);
  const size = a.ndim === 0 ? 1 : a.shape[d];
  const inner = shapeNumel(a.shape.slice(d + 1));
  const outer = shapeNumel(a.shape.slice(0, d));
  const out = new Uint8Array(outer * inner).fill(every ? 1 : 0);
  for (let o = 0; o < outer; o++)
    for (let k = 0; k < size; k++)
      for (let i = 0; i < inner; i++)
        if ((x[(o * size + k) * inner + i] !== 0) !== every) out[o * inner + i] = every ? 0 : 1;
  const red = a.shape.map((_, i) => i === d);
  return new Tensor(out, a.ndim === 0 ? [] : reducedShape(a.shape, red, keepdim));
}

/** Whether every element is nonzero (true), overall or along `dim`, as `torch.all`: bool. */
export function all(a: Tensor, dim?: number, keepdim = false): Tensor {
  return truth(a, dim, keepdim, true);
}

/** Whether any element is nonzero (true), overall or along `dim`, as `torch.any`: bool. */
export function any(a: Tensor, dim?: number, keepdim = false): Tensor {
  return truth(a, dim, keepdim, false);
}

/**
 * Running sums along `dim`, as `torch.cumsum` (accumulated in double as PyTorch's CPU kernel; integer and
 * bool inputs give int64). The gradient is the reversed running sum of the output's gradient.
 */
export function cumsum(a: Tensor, dim: number): Tensor {
  const d = normDim(dim, a.ndim);
  if (a._gpu !== null) return a.dtype === "float32" ? deviceCumsum(a, d) : deviceIntCumsum(a, d);
  const size = a.ndim === 0 ? 1 : a.shape[d];
  const inner = shapeNumel(a.shape.slice(d + 1));
  const outer = shapeNumel(a.shape.slice(0, d));
  const x = a.data;
  const out = alloc(a.dtype === "float32" ? "float32" : "int64", a.numel) as Float32Array;
  for (let o = 0; o < outer; o++)
    for (let i = 0; i < inner; i++) {
      let s = 0;
      for (let k = 0; k < size; k++) {
        const j = (o * size + k) * inner + i;
        s += x[j];
        out[j] = s;
      }
    }
  return result(out, a.shape, [a], "CumsumBackward0", (g) => {
    const gx = new Float32Array(a.numel);
    for (let o = 0; o < outer; o++)
      for (let i = 0; i < inner; i++) {
        let s = 0;
        for (let k = size - 1; k >= 0; k--) {
          const j = (o * size + k) * inner + i;
          s += g[j];
          gx[j] = s;
        }
      }
    return [gx];
  });
}

/** sum() / mean() of a "webgpu" tensor: every element so far (a dim is refused). */
function deviceReduce(
  a: Tensor,
  dim: number | number[] | null | undefined,
  keepdim: boolean,
  isMean: boolean,
): Tensor {
  if ((dim === undefined || dim === null) && !keepdim) return deviceSumAll(a, isMean);
  const red = normDims(dim, a.ndim);
  const dims = red.flatMap((r, i) => (r ? [i] : []));
  return deviceSumDims(a, dims, keepdim, isMean);
}
