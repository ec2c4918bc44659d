// Parameter initialization, as torch.nn.init. Every function fills its tensor in place (outside the
// graph), returns it, and draws from the default generator unless one is passed.
//
// The random fills follow PyTorch's CPU kernels draw for draw, so that the same seed gives the same
// numbers as PyTorch: `uniform_` maps each 24-bit float u to from + u·(to - from) in float32, and
// `normal_` on 16 or more elements fills the tensor with uniforms first and then turns each block of
// 16 into normals by the Box-Muller transform (u1 = 1 - x[j], u2 = x[j + 8] for j < 8), redrawing the
// last 16 when the size is not a multiple of 16.

import { defaultGenerator, fillNormal, fillUniform, type Generator } from "../core/random.js";
import { Tensor, shapeStr } from "../core/tensor.js";

const f32 = Math.fround;

export type Nonlinearity =
  | "linear"
  | "conv1d"
  | "conv2d"
  | "conv3d"
  | "conv_transpose1d"
  | "conv_transpose2d"
  | "conv_transpose3d"
  | "sigmoid"
  | "tanh"
  | "relu"
  | "leaky_relu"
  | "selu";

const LINEAR_FNS = new Set([
  "linear",
  "conv1d",
  "conv2d",
  "conv3d",
  "conv_transpose1d",
  "conv_transpose2d",
  "conv_transpose3d",
  "sigmoid",
]);

/**
 * The recommended gain for a nonlinearity: 1 for linear/conv/sigmoid, 5/3 for tanh, √2 for relu,
 * √(2 / (1 + slope²)) for leaky_relu (slope `param`, default 0.01), 3/4 for selu.
 */
export function calculateGain(nonlinearity: Nonlinearity, param?: number | null): number {
  if (LINEAR_FNS.has(nonlinearity)) return 1;
  switch (nonlinearity) {
    case "tanh":
      return 5.0 / 3;
    case "relu":
      return Math.sqrt(2.0);
    case "leaky_relu": {
      let slope = 0.01;
      if (param !== undefined && param !== null) {
        if (typeof param !== "number" || !Number.isFinite(param)) {
          throw new Error(`negative_slope ${String(param)} not a valid number`);
        }
        slope = param;
      }
      return Math.sqrt(2.0 / (1 + slope ** 2));
    }
    case "selu":
      return 3.0 / 4;
    default:
      throw new Error(`Unsupported nonlinearity ${String(nonlinearity)}`);
  }
}

function checkTensor(t: unknown, who: string): asserts t is Tensor {
  if (!(t instanceof Tensor))
    throw new TypeError(`${who}: expected a Tensor, got ${t === null ? "null" : typeof t}`);
}

/**
 * [fanIn, fanOut] of a weight of shape (out, in, ...kernel): in·∏kernel and out·∏kernel.
 */
export function calculateFanInAndFanOut(t: Tensor): [number, number] {
  checkTensor(t, "calculateFanInAndFanOut");
  if (t.shape.length < 2) {
    throw new Error(
      `Fan in and fan out can not be computed for tensor with fewer than 2 dimensions (got shape ${shapeStr(t.shape)})`,
    );
  }
  let receptive = 1;
  for (let i = 2; i < t.shape.length; i++) receptive *= t.shape[i];
  return [t.shape[1] * receptive, t.shape[0] * receptive];
}

function correctFan(t: Tensor, mode: string): number {
  const m = String(mode).toLowerCase();
  if (m !== "fan_in" && m !== "fan_out") {
    throw new Error(`Mode ${mode} not supported, please use one of ['fan_in', 'fan_out']`);
  }
  const [fanIn, fanOut] = calculateFanInAndFanOut(t);
  return m === "fan_in" ? fanIn : fanOut;
}

// ---- the public initializers

/** Fills `t` with values drawn from U(a, b). */
export function uniform_(t: Tensor, a = 0, b = 1, generator: Generator = defaultGenerator): Tensor {
  checkTensor(t, "uniform_");
  if (!(a <= b))
    throw new Error(`uniform_ expects to return a [from, to) range, but found from=${a} > to=${b}`);
  fillUniform(t.data, a, b, generator);
  return t;
}

/** Fills `t` with values drawn from N(mean, std²). */
export function normal_(t: Tensor, mean = 0, std = 1, generator: Generator = defaultGenerator): Tensor {
  checkTensor(t, "normal_");
  if (!(std >= 0)) throw new Error(`normal expects std >= 0.0, but found std ${std}`);
  fillNormal(t.data, mean, std, generator);
  return t;
}

/** Fills `t` with `val`. */
export function constant_(t: Tensor, val: number): Tensor {
  checkTensor(t, "constant_");
  t.data.fill(val);
  return t;
}

export function zeros_(t: Tensor): Tensor {
  return constant_(t, 0);
}

export function ones_(t: Tensor): Tensor {
  return constant_(t, 1);
}

/** Glorot uniform: U(-a, a) with a = gain·√(6 / (fanIn + fanOut)). */
export function xavierUniform_(t: Tensor, gain = 1, generator: Generator = defaultGenerator): Tensor {
  const [fanIn, fanOut] = calculateFanInAndFanOut(t);
  const std = gain * Math.sqrt(2.0 / (fanIn + fanOut));
  const a = Math.sqrt(3.0) * std;
  return uniform_(t, -a, a, generator);
}

/** Glorot normal: N(0, std²) with std = gain·√(2 / (fanIn + fanOut)). */
export function xavierNormal_(t: Tensor, gain = 1, generator: Generator = defaultGenerator): Tensor {
  const [fanIn, fanOut] = calculateFanInAndFanOut(t);
  const std = gain * Math.sqrt(2.0 / (fanIn + fanOut));
  return normal_(t, 0, std, generator);
}

export interface KaimingOptions {
  /** The negative slope of the rectifier after this layer (leaky_relu only). Default 0. */
  a?: number;
  /** Preserve the variance of the forward pass (`fan_in`, default) or of the backward pass. */
  mode?: "fan_in" | "fan_out";
  nonlinearity?: Nonlinearity;
  generator?: Generator;
}

function kaimingStd(t: Tensor, o: KaimingOptions): number {
  const fan = correctFan(t, o.mode ?? "fan_in");
  const gain = calculateGain(o.nonlinearity ?? "leaky_relu", o.a ?? 0);
  return gain / Math.sqrt(fan);
}

/** He uniform: U(-bound, bound) with bound = gain·√(3 / fan). A tensor with no elements is left as is. */
export function kaimingUniform_(t: Tensor, options: KaimingOptions = {}): Tensor {
  checkTensor(t, "kaimingUniform_");
  if (t.data.length === 0) return t;
  const bound = Math.sqrt(3.0) * kaimingStd(t, options);
  return uniform_(t, -bound, bound, options.generator ?? defaultGenerator);
}

/** He normal: N(0, std²) with std = gain / √fan. A tensor with no elements is left as is. */
export function kaimingNormal_(t: Tensor, options: KaimingOptions = {}): Tensor {
  checkTensor(t, "kaimingNormal_");
  if (t.data.length === 0) return t;
  return normal_(t, 0, kaimingStd(t, options), options.generator ?? defaultGenerator);
}

/**
 * Householder QR of the row-major (m, n) matrix `a`, m >= n, in float64: returns the reduced Q (m, n)
 * and the diagonal of R (n).
 */
function householderQR(a: Float64Array, m: number, n: number): { q: Float64Array; rDiag: Float64Array } {
  const r = a.slice(); // (m, n), becomes R above the diagonal
  const vs: Float64Array[] = []; // Householder vectors, v_k (m - k)
  const rDiag = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    let norm = 0;
    for (let i = k; i < m; i++) norm += r[i * n + k] * r[i * n + k];
    norm = Math.sqrt(norm);
    const x0 = r[k * n + k];
    const alpha = x0 >= 0 ? -norm : norm; // reflect onto -sign(x0)·‖x‖ e1 (no cancellation)
    const v = new Float64Array(m - k);
    for (let i = k; i < m; i++) v[i - k] = r[i * n + k];
    v[0] -= alpha;
    let vv = 0;
    for (let i = 0; i < v.length; i++) vv += v[i] * v[i];
    if (vv > 0) {
      // apply H = I - 2 v vᵀ / (vᵀv) to the remaining columns
      for (let j = k; j < n; j++) {
        let dot = 0;
        for (let i = k; i < m; i++) dot += v[i - k] * r[i * n + j];
        const s = (2 * dot) / vv;
        for (let i = k; i < m; i++) r[i * n + j] -= s * v[i - k];
      }
    }
    vs.push(vv > 0 ? v : new Float64Array(0));
    rDiag[k] = r[k * n + k];
  }
  // Q = H_0 H_1 ... H_{n-1} applied to the first n columns of the identity
  const q = new Float64Array(m * n); // (m, n)
  for (let j = 0; j < n; j++) q[j * n + j] = 1;
  for (let k = n - 1; k >= 0; k--) {
    const v = vs[k];
    if (v.length === 0) continue;
    let vv = 0;
    for (let i = 0; i < v.length; i++) vv += v[i] * v[i];
    for (let j = 0; j < n; j++) {
      let dot = 0;
      for (let i = k; i < m; i++) dot += v[i - k] * q[i * n + j];
      const s = (2 * dot) / vv;
      for (let i = k; i < m; i++) q[i * n + j] -= s * v[i - k];
    }
  }
  return { q, rDiag };
}

/**
 * Fills `t` (at least 2-D; trailing dimensions flattened) with a (semi-)orthogonal matrix times
 * `gain`: the Q of the QR decomposition of a standard normal (rows, cols) matrix (transposed when
 * rows < cols), with each column multiplied by the sign of R's diagonal so that Q is uniformly
 * distributed.
 */
export function orthogonal_(t: Tensor, gain = 1, generator: Generator = defaultGenerator): Tensor {
  checkTensor(t, "orthogonal_");
  if (t.shape.length < 2) {
    throw new Error(`Only tensors with 2 or more dimensions are supported (got shape ${shapeStr(t.shape)})`);
  }
  if (t.data.length === 0) return t;
  const rows = t.shape[0];
  const cols = t.data.length / rows;
  const flat = new Float32Array(rows * cols); // (rows, cols)
  fillNormal(flat, 0, 1, generator);
  const wide = rows < cols;
  const m = wide ? cols : rows;
  const n = wide ? rows : cols;
  const a = new Float64Array(m * n); // (m, n): flat or its transpose
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) a[wide ? j * n + i : i * n + j] = flat[i * cols + j];
  }
  const { q, rDiag } = householderQR(a, m, n);
  const g = f32(gain);
  const out = t.data; // (rows, cols)
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      const ph = Math.sign(rDiag[j]);
      const v = f32(f32(q[i * n + j]) * ph) * g;
      out[wide ? j * cols + i : i * cols + j] = v;
    }
  }
  return t;
}
