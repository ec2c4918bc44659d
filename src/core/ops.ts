// Generic ops with autograd and NumPy/PyTorch broadcasting. Each op's backward sits right below its
// forward, inside the same function: the closure passed to `result` maps dL/d(out) to dL/d(inputs).

import { gemm } from "../kernels/backend.js";
import { Tensor, type TensorLike, normDim, result, shapeNumel, shapeStr } from "./tensor.js";

// ---------------------------------------------------------------- broadcasting

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

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * For each element of `shape` (row-major), the offset Σ index[d]·strides[d]: the one index loop behind
 * broadcasting, reductions and permutations.
 */
function stridedOffsets(shape: readonly number[], strides: readonly number[]): Int32Array {
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
function broadcastIndex(shape: readonly number[], outShape: readonly number[]): Int32Array | null {
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
function reduceTo(g: Float32Array, idx: Int32Array | null, n: number): Float32Array {
  if (idx === null) return g;
  const out = new Float32Array(n);
  for (let i = 0; i < g.length; i++) out[idx[i]] += g[i];
  return out;
}

function toTensor(x: TensorLike): Tensor {
  return x instanceof Tensor ? x : new Tensor(new Float32Array([x]), []);
}

// ---------------------------------------------------------------- elementwise binary

function binary(
  a: Tensor,
  b: Tensor,
  name: string,
  f: (x: number, y: number) => number,
  dA: ((g: number, x: number, y: number, out: number) => number) | null,
  dB: ((g: number, x: number, y: number, out: number) => number) | null,
): Tensor {
  const shape = broadcastShapes(a.shape, b.shape);
  const n = shapeNumel(shape);
  const ai = broadcastIndex(a.shape, shape);
  const bi = broadcastIndex(b.shape, shape);
  const x = a.data;
  const y = b.data;
  const out = new Float32Array(n);
  if (ai === null && bi === null) for (let i = 0; i < n; i++) out[i] = f(x[i], y[i]);
  else if (ai === null) for (let i = 0; i < n; i++) out[i] = f(x[i], y[bi![i]]);
  else if (bi === null) for (let i = 0; i < n; i++) out[i] = f(x[ai[i]], y[i]);
  else for (let i = 0; i < n; i++) out[i] = f(x[ai[i]], y[bi[i]]);
  return result(out, shape, [a, b], name, (g) => {
    let ga: Float32Array | null = null;
    let gb: Float32Array | null = null;
    if (a.requiresGrad && dA !== null) {
      const t = new Float32Array(n);
      for (let i = 0; i < n; i++)
        t[i] = dA(g[i], x[ai === null ? i : ai[i]], y[bi === null ? i : bi[i]], out[i]);
      ga = reduceTo(t, ai, a.numel);
    }
    if (b.requiresGrad && dB !== null) {
      const t = new Float32Array(n);
      for (let i = 0; i < n; i++)
        t[i] = dB(g[i], x[ai === null ? i : ai[i]], y[bi === null ? i : bi[i]], out[i]);
      gb = reduceTo(t, bi, b.numel);
    }
    return [ga, gb];
  });
}

/** a + alpha·b, broadcast. */
export function add(a: TensorLike, b: TensorLike, alpha = 1): Tensor {
  const ta = toTensor(a);
  const tb = toTensor(b);
  if (!(b instanceof Tensor)) return addScalar(ta, alpha * b);
  if (!(a instanceof Tensor)) return addScalar(mulScalar(tb, alpha), a);
  if (alpha === 1) {
    // The common case, without a callback per element.
    const shape = broadcastShapes(ta.shape, tb.shape);
    const n = shapeNumel(shape);
    const ai = broadcastIndex(ta.shape, shape);
    const bi = broadcastIndex(tb.shape, shape);
    const x = ta.data;
    const y = tb.data;
    const out = new Float32Array(n);
    if (ai === null && bi === null) for (let i = 0; i < n; i++) out[i] = x[i] + y[i];
    else for (let i = 0; i < n; i++) out[i] = x[ai === null ? i : ai[i]] + y[bi === null ? i : bi[i]];
    return result(out, shape, [ta, tb], "AddBackward0", (g) => [
      ta.requiresGrad ? reduceTo(g, ai, ta.numel) : null,
      tb.requiresGrad ? reduceTo(g, bi, tb.numel) : null,
    ]);
  }
  return binary(
    ta,
    tb,
    "AddBackward0",
    (x, y) => x + alpha * y,
    (g) => g,
    (g) => alpha * g,
  );
}

/** a - alpha·b, broadcast. */
export function sub(a: TensorLike, b: TensorLike, alpha = 1): Tensor {
  if (!(b instanceof Tensor)) return addScalar(toTensor(a), -alpha * b, "SubBackward0");
  if (!(a instanceof Tensor)) return rsubScalar(b, a, alpha);
  return binary(
    a,
    b,
    "SubBackward0",
    (x, y) => x - alpha * y,
    (g) => g,
    (g) => -alpha * g,
  );
}

export function mul(a: TensorLike, b: TensorLike): Tensor {
  if (!(b instanceof Tensor)) return mulScalar(toTensor(a), b);
  if (!(a instanceof Tensor)) return mulScalar(b, a);
  return binary(
    a,
    b,
    "MulBackward0",
    (x, y) => x * y,
    (g, _x, y) => g * y,
    (g, x) => g * x,
  );
}

export function div(a: TensorLike, b: TensorLike): Tensor {
  if (!(b instanceof Tensor)) return mulScalar(toTensor(a), 1 / b, "DivBackward0");
  return binary(
    toTensor(a),
    b,
    "DivBackward0",
    (x, y) => x / y,
    (g, _x, y) => g / y,
    (g, x, y) => (-g * x) / (y * y),
  );
}

/** Elementwise power: a scalar or a tensor exponent (broadcast). */
export function pow(a: TensorLike, p: TensorLike): Tensor {
  if (!(p instanceof Tensor)) {
    const t = toTensor(a);
    const e = p;
    return unary(
      t,
      "PowBackward0",
      (x) => x ** e,
      (g, x) => (e === 0 ? 0 : g * e * x ** (e - 1)),
    );
  }
  return binary(
    toTensor(a),
    p,
    a instanceof Tensor ? "PowBackward1" : "PowBackward2",
    (x, y) => x ** y,
    (g, x, y) => (y === 0 ? 0 : g * y * x ** (y - 1)),
    (g, x, y, out) => (x === 0 && y >= 0 ? 0 : g * out * Math.log(x)),
  );
}

/** Elementwise maximum of two tensors (broadcast); ties split the gradient evenly, as PyTorch. */
export function maximum(a: Tensor, b: Tensor): Tensor {
  return binary(
    a,
    b,
    "MaximumBackward0",
    (x, y) => (Number.isNaN(x) || Number.isNaN(y) ? Number.NaN : Math.max(x, y)),
    (g, x, y) => (x > y ? g : x === y ? g / 2 : 0),
    (g, x, y) => (y > x ? g : x === y ? g / 2 : 0),
  );
}

export function minimum(a: Tensor, b: Tensor): Tensor {
  return binary(
    a,
    b,
    "MinimumBackward0",
    (x, y) => (Number.isNaN(x) || Number.isNaN(y) ? Number.NaN : Math.min(x, y)),
    (g, x, y) => (x < y ? g : x === y ? g / 2 : 0),
    (g, x, y) => (y < x ? g : x === y ? g / 2 : 0),
  );
}

// ---------------------------------------------------------------- elementwise unary

function unary(
  a: Tensor,
  name: string,
  f: (x: number) => number,
  df: (g: number, x: number, out: number) => number,
): Tensor {
  const n = a.numel;
  const x = a.data;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = f(x[i]);
  return result(out, a.shape, [a], name, (g) => {
    const gx = new Float32Array(n);
    for (let i = 0; i < n; i++) gx[i] = df(g[i], x[i], out[i]);
    return [gx];
  });
}

function addScalar(a: Tensor, s: number, name = "AddBackward0"): Tensor {
  const n = a.numel;
  const x = a.data;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = x[i] + s;
  return result(out, a.shape, [a], name, (g) => [g]);
}

/** s − alpha·a, one node as PyTorch's `s - a` (RsubBackward1); rounded as (a·(−alpha)) + s. */
function rsubScalar(a: Tensor, s: number, alpha: number): Tensor {
  const n = a.numel;
  const x = a.data;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.fround(x[i] * -alpha) + s;
  return result(out, a.shape, [a], "RsubBackward1", (g) => {
    const gx = new Float32Array(n);
    for (let i = 0; i < n; i++) gx[i] = g[i] * -alpha;
    return [gx];
  });
}

function mulScalar(a: Tensor, s: number, name = "MulBackward0"): Tensor {
  const n = a.numel;
  const x = a.data;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = x[i] * s;
  return result(out, a.shape, [a], name, (g) => {
    const gx = new Float32Array(n);
    for (let i = 0; i < n; i++) gx[i] = g[i] * s;
    return [gx];
  });
}

export function neg(a: Tensor): Tensor {
  return unary(
    a,
    "NegBackward0",
    (x) => -x,
    (g) => -g,
  );
}

export function exp(a: Tensor): Tensor {
  return unary(a, "ExpBackward0", Math.exp, (g, _x, y) => g * y);
}

export function log(a: Tensor): Tensor {
  return unary(a, "LogBackward0", Math.log, (g, x) => g / x);
}

export function sqrt(a: Tensor): Tensor {
  return unary(a, "SqrtBackward0", Math.sqrt, (g, _x, y) => g / (2 * y));
}

export function abs(a: Tensor): Tensor {
  return unary(a, "AbsBackward0", Math.abs, (g, x) => (x > 0 ? g : x < 0 ? -g : 0));
}

export function sin(a: Tensor): Tensor {
  return unary(a, "SinBackward0", Math.sin, (g, x) => g * Math.cos(x));
}

export function cos(a: Tensor): Tensor {
  return unary(a, "CosBackward0", Math.cos, (g, x) => -g * Math.sin(x));
}

export function tanh(a: Tensor): Tensor {
  return unary(a, "TanhBackward0", Math.tanh, (g, _x, y) => g * (1 - y * y));
}

export function sigmoid(a: Tensor): Tensor {
  return unary(
    a,
    "SigmoidBackward0",
    (x) => 1 / (1 + Math.exp(-x)),
    (g, _x, y) => g * y * (1 - y),
  );
}

export function relu(a: Tensor): Tensor {
  return unary(
    a,
    "ReluBackward0",
    (x) => (x > 0 ? x : Number.isNaN(x) ? x : 0),
    (g, _x, y) => (y > 0 ? g : 0),
  );
}

export function square(a: Tensor): Tensor {
  return unary(
    a,
    "PowBackward0",
    (x) => x * x,
    (g, x) => 2 * g * x,
  );
}

/**
 * Clamps into [min, max] (either may be omitted) as PyTorch's min(max(x, min), max), so everything becomes
 * `max` when min > max; the gradient passes where min <= x <= max.
 */
export function clamp(a: Tensor, min?: number | null, max?: number | null): Tensor {
  const lo = min ?? Number.NEGATIVE_INFINITY;
  const hi = max ?? Number.POSITIVE_INFINITY;
  if (min == null && max == null) throw new Error("clamp: at least one of 'min' or 'max' must not be None");
  return unary(
    a,
    "ClampBackward1",
    (x) => {
      if (Number.isNaN(x)) return x;
      const y = x < lo ? lo : x;
      return y > hi ? hi : y;
    },
    (g, x) => (x >= lo && x <= hi ? g : 0),
  );
}

// ---------------------------------------------------------------- matrix product

/**
 * Matrix product with PyTorch's rules: 1-D·1-D is a dot product, 1-D operands gain and lose a
 * dimension, and leading (batch) dimensions broadcast.
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.ndim === 0 || b.ndim === 0) {
    throw new Error(
      `both arguments to matmul need to be at least 1D, but they are ${a.ndim}D and ${b.ndim}D`,
    );
  }
  const aShape = a.ndim === 1 ? [1, a.shape[0]] : a.shape;
  const bShape = b.ndim === 1 ? [b.shape[0], 1] : b.shape;
  const M = aShape[aShape.length - 2];
  const K = aShape[aShape.length - 1];
  const K2 = bShape[bShape.length - 2];
  const N = bShape[bShape.length - 1];
  if (K !== K2) {
    throw new Error(
      `mat1 and mat2 shapes cannot be multiplied (${M}x${K} and ${K2}x${N}); got ${shapeStr(a.shape)} @ ${shapeStr(b.shape)}`,
    );
  }
  const aBatch = aShape.slice(0, -2);
  const bBatch = bShape.slice(0, -2);
  const batch = broadcastShapes(aBatch, bBatch);
  const nb = shapeNumel(batch);
  const ai = broadcastIndex(aBatch, batch);
  const bi = broadcastIndex(bBatch, batch);
  const outFull = [...batch, M, N];
  const out = new Float32Array(nb * M * N);
  const A = a.data;
  const B = b.data;
  for (let t = 0; t < nb; t++) {
    const ao = (ai === null ? t : ai[t]) * M * K;
    const bo = (bi === null ? t : bi[t]) * K * N;
    gemm(false, false, M, N, K, A, ao, K, B, bo, N, 0, out, t * M * N, N);
  }
  let shape = outFull;
  if (a.ndim === 1 && b.ndim === 1) shape = [];
  else if (a.ndim === 1) shape = [...batch, N];
  else if (b.ndim === 1) shape = [...batch, M];
  return result(out, shape, [a, b], "MmBackward0", (g) => {
    let ga: Float32Array | null = null;
    let gb: Float32Array | null = null;
    if (a.requiresGrad) {
      ga = new Float32Array(a.numel);
      for (let t = 0; t < nb; t++) {
        const ao = (ai === null ? t : ai[t]) * M * K;
        // dA (M, K) += dC (M, N) · Bᵀ
        gemm(false, true, M, K, N, g, t * M * N, N, B, (bi === null ? t : bi[t]) * K * N, N, 1, ga, ao, K);
      }
    }
    if (b.requiresGrad) {
      gb = new Float32Array(b.numel);
      for (let t = 0; t < nb; t++) {
        const bo = (bi === null ? t : bi[t]) * K * N;
        // dB (K, N) += Aᵀ · dC (M, N)
        gemm(true, false, K, N, M, A, (ai === null ? t : ai[t]) * M * K, K, g, t * M * N, N, 1, gb, bo, N);
      }
    }
    return [ga, gb];
  });
}

/** x · Wᵀ + b in one node (x (..., in), W (out, in), b (out)), as `F.linear`. */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  const inF = weight.shape[1];
  const outF = weight.shape[0];
  if (x.ndim === 0 || x.shape[x.ndim - 1] !== inF) {
    const rows = x.ndim <= 1 ? 1 : shapeNumel(x.shape.slice(0, -1));
    throw new Error(
      `mat1 and mat2 shapes cannot be multiplied (${rows}x${x.shape[x.ndim - 1] ?? 1} and ${inF}x${outF}); expected input with last dimension ${inF}, got ${shapeStr(x.shape)}`,
    );
  }
  const rows = x.numel / inF;
  const out = new Float32Array(rows * outF);
  const X = x.data;
  const W = weight.data;
  if (bias) {
    const bd = bias.data;
    if (outF >= 16) for (let r = 0; r < rows; r++) out.set(bd, r * outF);
    else for (let r = 0, o = 0; r < rows; r++) for (let j = 0; j < outF; j++) out[o++] = bd[j];
  }
  gemm(false, true, rows, outF, inF, X, 0, inF, W, 0, inF, bias ? 1 : 0, out, 0, outF);
  const shape = x.shape.slice();
  shape[shape.length - 1] = outF;
  const inputs = bias ? [x, weight, bias] : [x, weight];
  return result(out, shape, inputs, "AddmmBackward0", (g, into) => {
    let dx: Float32Array | null = null;
    let dW: Float32Array | null = null;
    let db: Float32Array | null = null;
    if (x.requiresGrad) {
      dx = new Float32Array(x.numel);
      gemm(false, false, rows, inF, outF, g, 0, outF, W, 0, inF, 0, dx, 0, inF);
    }
    // parameter gradients go straight into a leaf's .grad where the engine offers it (then null here)
    if (weight.requiresGrad) {
      const to = into?.(weight) ?? null;
      const d = to ?? new Float32Array(weight.numel);
      gemm(true, false, outF, inF, rows, g, 0, outF, X, 0, inF, to !== null ? 1 : 0, d, 0, inF);
      dW = to !== null ? null : d;
    }
    if (bias?.requiresGrad) {
      const to = into?.(bias) ?? null;
      const d = to ?? new Float32Array(outF);
      for (let r = 0; r < rows; r++) for (let j = 0; j < outF; j++) d[j] += g[r * outF + j];
      db = to !== null ? null : d;
    }
    return bias ? [dx, dW, db] : [dx, dW];
  });
}

// ---------------------------------------------------------------- reductions

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
  if (red.every((r) => r)) {
    let s = 0;
    for (let i = 0; i < n; i++) s += x[i];
    return result(new Float32Array([s * scale]), shape, [a], name, (g) => [
      new Float32Array(n).fill(g[0] * scale),
    ]);
  }
  const { idx, outN } = reduceIndex(a.shape, red);
  const acc = new Float64Array(outN);
  for (let i = 0; i < n; i++) acc[idx[i]] += x[i];
  const out = new Float32Array(outN);
  for (let i = 0; i < outN; i++) out[i] = acc[i] * scale;
  return result(out, shape, [a], name, (g) => {
    const gx = new Float32Array(n);
    for (let i = 0; i < n; i++) gx[i] = g[idx[i]] * scale;
    return [gx];
  });
}

/** Sum of all elements, or over `dim` (a number or a list). */
export function sum(a: Tensor, dim?: number | number[] | null, keepdim = false): Tensor {
  // PyTorch's names: sum() is SumBackward0, any call with a dim (even None) SumBackward1
  return sumImpl(a, dim, keepdim, 1, dim === undefined && !keepdim ? "SumBackward0" : "SumBackward1");
}

/** Mean of all elements, or over `dim`. */
export function mean(a: Tensor, dim?: number | number[] | null, keepdim = false): Tensor {
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
  const x = a.data;
  const n = x.length;
  const better = (v: number, best: number) =>
    (sign > 0 ? v > best : v < best) || (Number.isNaN(v) && !Number.isNaN(best));
  if (dim === undefined) {
    if (n === 0) throw new Error(`${name}(): Expected reduction dim to be specified for input.numel() == 0`);
    let best = x[0];
    for (let i = 1; i < n; i++) if (better(x[i], best)) best = x[i];
    return result(new Float32Array([best]), [], [a], `${name === "max" ? "Max" : "Min"}Backward1`, (g) => {
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
  const vals = new Float32Array(outer * inner);
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
  const indices = new Tensor(Float32Array.from(arg), shape);
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

/** Index of the largest element (of the flattened tensor, or along `dim`), as float values. */
export function argmax(a: Tensor, dim?: number, keepdim = false): Tensor {
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

/**
 * The p-norm of all elements, as `torch.norm(a, p)` (p = 2 by default): Infinity gives the largest
 * magnitude, -Infinity the smallest, 0 the number of nonzero elements. One node (`NormBackward1`) whose
 * gradient follows PyTorch's `norm_backward`: 0 where the norm is 0 (not 0/0), none at all for p = 0.
 */
export function norm(a: Tensor, p = 2): Tensor {
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

// ---------------------------------------------------------------- shapes (views share data)

function inferShape(shape: readonly number[], numel: number, from: readonly number[]): number[] {
  const out = shape.slice();
  let infer = -1;
  let known = 1;
  out.forEach((d, i) => {
    if (d === -1) {
      if (infer >= 0) throw new Error("only one dimension can be inferred");
      infer = i;
    } else if (!Number.isInteger(d) || d < 0) {
      throw new Error(`invalid shape dimension ${d} in ${shapeStr(shape)}`);
    } else known *= d;
  });
  if (infer >= 0) {
    if (known === 0 || numel % known !== 0) {
      throw new Error(
        `shape '${shapeStr(shape)}' is invalid for input of size ${numel} (shape ${shapeStr(from)})`,
      );
    }
    out[infer] = numel / known;
  } else if (known !== numel) {
    throw new Error(
      `shape '${shapeStr(shape)}' is invalid for input of size ${numel} (shape ${shapeStr(from)})`,
    );
  }
  return out;
}

/** The same data under a new shape (one dimension may be -1); shares memory with `a`. */
export function view(a: Tensor, shape: readonly number[]): Tensor {
  const s = inferShape(shape, a.numel, a.shape);
  return result(a.data, s, [a], "ViewBackward0", (g) => [g]);
}

export function reshape(a: Tensor, shape: readonly number[]): Tensor {
  const s = inferShape(shape, a.numel, a.shape);
  return result(a.data, s, [a], "ReshapeAliasBackward0", (g) => [g]);
}

export function flatten(a: Tensor, startDim = 0, endDim = -1): Tensor {
  if (a.ndim === 0) return reshape(a, [1]);
  const s = normDim(startDim, a.ndim);
  const e = normDim(endDim, a.ndim);
  if (s > e) throw new Error("flatten() has invalid args: start_dim cannot come after end_dim");
  const shape = [...a.shape.slice(0, s), shapeNumel(a.shape.slice(s, e + 1)), ...a.shape.slice(e + 1)];
  return reshape(a, shape);
}

/** Removes size-1 dimensions (all, or only `dim`). */
export function squeeze(a: Tensor, dim?: number): Tensor {
  let shape: number[];
  if (dim === undefined) shape = a.shape.filter((d) => d !== 1);
  else {
    const d = normDim(dim, a.ndim);
    shape = a.ndim > 0 && a.shape[d] === 1 ? a.shape.filter((_, i) => i !== d) : a.shape.slice();
  }
  return result(a.data, shape, [a], dim === undefined ? "SqueezeBackward0" : "SqueezeBackward1", (g) => [g]);
}

/** Inserts a size-1 dimension at `dim`. */
export function unsqueeze(a: Tensor, dim: number): Tensor {
  const d = normDim(dim, a.ndim, 1);
  const shape = a.shape.slice();
  shape.splice(d, 0, 1);
  return result(a.data, shape, [a], "UnsqueezeBackward0", (g) => [g]);
}

function permuteData(x: Float32Array, shape: readonly number[], perm: readonly number[]): Float32Array {
  const inStrides = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    inStrides[d] = s;
    s *= shape[d];
  }
  const src = stridedOffsets(
    perm.map((p) => shape[p]),
    perm.map((p) => inStrides[p]),
  );
  const out = new Float32Array(x.length);
  for (let i = 0; i < out.length; i++) out[i] = x[src[i]];
  return out;
}

/** Reorders dimensions (a copy; tensors here are always contiguous). */
export function permute(a: Tensor, dims: readonly number[]): Tensor {
  return permuteAs(a, dims, "PermuteBackward0");
}

/** `permute` under the node name of the op that asked for it (transpose and t have their own). */
function permuteAs(a: Tensor, dims: readonly number[], name: string): Tensor {
  if (dims.length !== a.ndim) {
    throw new Error(
      `permute(sparse_coo): number of dimensions in the tensor input does not match the length of the desired ordering of dimensions i.e. input.dim() = ${a.ndim} is not equal to len(dims) = ${dims.length}`,
    );
  }
  const perm = dims.map((d) => normDim(d, a.ndim));
  const shape = new Array<number>(perm.length);
  const inv = new Array<number>(perm.length).fill(-1);
  // Moving only size-1 dimensions leaves the memory order as it is: share the data (a view, as PyTorch's).
  let inOrder = true;
  let last = -1;
  for (let i = 0; i < perm.length; i++) {
    const p = perm[i];
    if (inv[p] !== -1) throw new Error(`permute(): repeated dim in ${shapeStr(dims)}`);
    inv[p] = i;
    shape[i] = a.shape[p];
    if (a.shape[p] !== 1) {
      if (p < last) inOrder = false;
      last = p;
    }
  }
  if (inOrder) return result(a.data, shape, [a], name, (g) => [g]);
  return result(permuteData(a.data, a.shape, perm), shape, [a], name, (g) => [permuteData(g, shape, inv)]);
}

export function transpose(a: Tensor, dim0: number, dim1: number): Tensor {
  return transposeAs(a, dim0, dim1, "TransposeBackward0");
}

/** The transpose of a tensor of at most 2 dimensions (a 0-d or 1-d tensor keeps its shape), as `torch.t`. */
export function t(a: Tensor): Tensor {
  if (a.ndim > 2) throw new Error(`t() expects a tensor with <= 2 dimensions, but self is ${a.ndim}D`);
  return transposeAs(a, 0, a.ndim < 2 ? 0 : 1, "TBackward0");
}

function transposeAs(a: Tensor, dim0: number, dim1: number, name: string): Tensor {
  if (a.ndim === 0) {
    normDim(dim0, 0);
    normDim(dim1, 0);
    return result(a.data, a.shape, [a], name, (g) => [g]);
  }
  const d0 = normDim(dim0, a.ndim);
  const d1 = normDim(dim1, a.ndim);
  const perm = a.shape.map((_, i) => i);
  perm[d0] = d1;
  perm[d1] = d0;
  return permuteAs(a, perm, name);
}

/** Broadcasts to `shape` (-1 keeps a dimension), as a copy; the gradient sums back. */
export function expand(a: Tensor, shape: readonly number[]): Tensor {
  const lead = shape.length - a.ndim;
  if (lead < 0) {
    throw new Error(
      `expand: the number of sizes provided (${shape.length}) must be greater or equal to the number of dimensions in the tensor (${a.ndim})`,
    );
  }
  const target = shape.map((d, i) => (d === -1 ? (i < lead ? Number.NaN : a.shape[i - lead]) : d));
  target.forEach((d, i) => {
    const src = i < lead ? 1 : a.shape[i - lead];
    if (Number.isNaN(d) || (src !== 1 && src !== d)) {
      throw new Error(
        `The expanded size of the tensor (${shape[i]}) must match the existing size (${src}) at non-singleton dimension ${i}.  Target sizes: ${shapeStr(shape)}.  Tensor sizes: ${shapeStr(a.shape)}`,
      );
    }
  });
  const idx = broadcastIndex(a.shape, target);
  const n = shapeNumel(target);
  const out = new Float32Array(n);
  const x = a.data;
  for (let i = 0; i < n; i++) out[i] = x[idx === null ? i : idx[i]];
  return result(out, target, [a], "ExpandBackward0", (g) => [reduceTo(g, idx, a.numel)]);
}

/** The slice [start, start + length) along `dim`. Along dim 0 it shares memory with `a`. */
export function narrow(a: Tensor, dim: number, start: number, length: number): Tensor {
  if (a.ndim === 0) throw new Error("narrow() cannot be applied to a 0-dim tensor.");
  const d = normDim(dim, a.ndim);
  const size = a.shape[d];
  if (start < 0) start += size;
  if (
    !Number.isInteger(start) ||
    !Number.isInteger(length) ||
    start < 0 ||
    length < 0 ||
    start + length > size
  ) {
    throw new Error(`start (${start}) + length (${length}) exceeds dimension size (${size}) of dim ${d}`);
  }
  const shape = a.shape.slice();
  shape[d] = length;
  return sliceAs(a, d, start, length, shape, "SliceBackward0");
}

/**
 * Elements [start, start + length) along `d`, shaped `shape` (the same elements, with or without dim `d`),
 * as the node `name`. Along dim 0 it shares memory with `a`.
 */
function sliceAs(a: Tensor, d: number, start: number, length: number, shape: number[], name: string): Tensor {
  const size = a.shape[d];
  const inner = shapeNumel(a.shape.slice(d + 1));
  const outer = shapeNumel(a.shape.slice(0, d));
  const n = a.numel;
  let out: Float32Array;
  if (outer === 1) out = a.data.subarray(start * inner, (start + length) * inner);
  else {
    out = new Float32Array(outer * length * inner);
    for (let o = 0; o < outer; o++)
      out.set(
        a.data.subarray((o * size + start) * inner, (o * size + start + length) * inner),
        o * length * inner,
      );
  }
  return result(out, shape, [a], name, (g) => {
    const gx = new Float32Array(n);
    for (let o = 0; o < outer; o++)
      gx.set(g.subarray(o * length * inner, (o + 1) * length * inner), (o * size + start) * inner);
    return [gx];
  });
}

/** The `index`-th slice along `dim`, without that dimension. */
export function select(a: Tensor, dim: number, index: number): Tensor {
  if (a.ndim === 0) throw new Error("select() cannot be applied to a 0-dim tensor.");
  const d = normDim(dim, a.ndim);
  const size = a.shape[d];
  if (!Number.isInteger(index) || index < -size || index >= size) {
    throw new Error(
      `select(): index ${index} out of range for tensor of size ${shapeStr(a.shape)} at dimension ${d}`,
    );
  }
  const shape = a.shape.filter((_, i) => i !== d);
  return sliceAs(a, d, index < 0 ? index + size : index, 1, shape, "SelectBackward0");
}

export function unbind(a: Tensor, dim = 0): Tensor[] {
  const d = normDim(dim, a.ndim);
  const shape = a.shape.filter((_, i) => i !== d);
  const out: Tensor[] = [];
  for (let i = 0; i < a.shape[d]; i++) out.push(sliceAs(a, d, i, 1, shape, "UnbindBackward0"));
  return out;
}

/** Splits into pieces of `splitSize` along `dim` (the last may be smaller), or into the given sizes. */
export function split(a: Tensor, splitSize: number | number[], dim = 0): Tensor[] {
  const d = normDim(dim, a.ndim);
  const size = a.shape[d];
  const sizes: number[] = [];
  if (Array.isArray(splitSize)) {
    const total = splitSize.reduce((s, v) => s + v, 0);
    if (total !== size) {
      throw new Error(
        `split_with_sizes expects split_sizes to sum exactly to ${size} (input tensor's size at dimension ${d}), but got split_sizes=${shapeStr(splitSize)}`,
      );
    }
    sizes.push(...splitSize);
  } else {
    if (!(splitSize > 0) && size > 0)
      throw new Error(`split expects split_size be non-negative, but got split_size=${splitSize}`);
    for (let s = 0; s < size; s += splitSize) sizes.push(Math.min(splitSize, size - s));
    if (size === 0) sizes.push(0);
  }
  // PyTorch's node names: split_with_sizes for a list of sizes, split for one size
  const name = Array.isArray(splitSize) ? "SplitWithSizesBackward0" : "SplitBackward0";
  const out: Tensor[] = [];
  let start = 0;
  for (const s of sizes) {
    const shape = a.shape.slice();
    shape[d] = s;
    out.push(sliceAs(a, d, start, s, shape, name));
    start += s;
  }
  return out;
}

/** Splits into `chunks` pieces of equal size (ceil), the last possibly smaller, as PyTorch. */
export function chunk(a: Tensor, chunks: number, dim = 0): Tensor[] {
  if (!Number.isInteger(chunks) || chunks <= 0)
    throw new Error(`chunk expects \`chunks\` to be greater than 0, got: ${chunks}`);
  const d = normDim(dim, a.ndim);
  const size = a.shape[d];
  const each = Math.ceil(size / chunks);
  // an empty dimension gives `chunks` empty pieces, as PyTorch
  if (each === 0) return split(a, Array(chunks).fill(0), d);
  return split(a, each, d);
}

/** Concatenates along `dim`; every other dimension must agree. */
export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw new Error("torch.cat(): expected a non-empty list of Tensors");
  const ref = tensors[0];
  const d = normDim(dim, ref.ndim);
  for (const [k, t] of tensors.entries()) {
    if (t.ndim !== ref.ndim || t.shape.some((s, i) => i !== d && s !== ref.shape[i])) {
      throw new Error(
        `Sizes of tensors must match except in dimension ${d}. Expected ${shapeStr(ref.shape)} (except dim ${d}) but got ${shapeStr(t.shape)} for tensor number ${k} in the list.`,
      );
    }
  }
  const inner = shapeNumel(ref.shape.slice(d + 1));
  const outer = shapeNumel(ref.shape.slice(0, d));
  const sizes = tensors.map((t) => t.shape[d]);
  const total = sizes.reduce((s, v) => s + v, 0);
  const shape = ref.shape.slice();
  shape[d] = total;
  return joinAs(tensors, outer, sizes, inner, shape, "CatBackward0");
}

/**
 * Joins the tensors as `outer` blocks of `sizes[k]·inner` elements each, side by side (cat, and stack as a
 * cat of size-1 dimensions), into a tensor of `shape`, as the node `name`.
 */
function joinAs(
  tensors: readonly Tensor[],
  outer: number,
  sizes: readonly number[],
  inner: number,
  shape: number[],
  name: string,
): Tensor {
  const total = sizes.reduce((s, v) => s + v, 0);
  const out = new Float32Array(outer * total * inner);
  let off = 0;
  for (let k = 0; k < tensors.length; k++) {
    const src = tensors[k].data;
    const len = sizes[k] * inner;
    for (let o = 0; o < outer; o++) out.set(src.subarray(o * len, (o + 1) * len), o * total * inner + off);
    off += len;
  }
  return result(out, shape, tensors, name, (g) => {
    const grads: (Float32Array | null)[] = [];
    let off2 = 0;
    for (let k = 0; k < tensors.length; k++) {
      const len = sizes[k] * inner;
      if (tensors[k].requiresGrad) {
        const gk = new Float32Array(outer * len);
        for (let o = 0; o < outer; o++)
          gk.set(g.subarray(o * total * inner + off2, o * total * inner + off2 + len), o * len);
        grads.push(gk);
      } else grads.push(null);
      off2 += len;
    }
    return grads;
  });
}

/** Stacks equally shaped tensors along a new dimension `dim`. */
export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw new Error("stack expects a non-empty TensorList");
  const ref = tensors[0];
  for (const [k, t] of tensors.entries()) {
    if (!sameShape(t.shape, ref.shape)) {
      throw new Error(
        `stack expects each tensor to be equal size, but got ${shapeStr(ref.shape)} at entry 0 and ${shapeStr(t.shape)} at entry ${k}`,
      );
    }
  }
  const d = normDim(dim, ref.ndim, 1);
  // a cat of the tensors with a size-1 dimension inserted at d, as one node
  const shape = ref.shape.slice();
  shape.splice(d, 0, tensors.length);
  const outer = shapeNumel(ref.shape.slice(0, d));
  const inner = shapeNumel(ref.shape.slice(d));
  return joinAs(
    tensors,
    outer,
    tensors.map(() => 1),
    inner,
    shape,
    "StackBackward0",
  );
}

/** A copy with its own memory; the gradient passes through. */
export function clone(a: Tensor): Tensor {
  return result(Float32Array.from(a.data), a.shape, [a], "CloneBackward0", (g) => [g]);
}

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
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const pick = c[ci === null ? i : ci[i]] !== 0;
    out[i] = pick ? ta.data[ai === null ? i : ai[i]] : tb.data[bi === null ? i : bi[i]];
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
