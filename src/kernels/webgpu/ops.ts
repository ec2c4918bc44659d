// Generic WGSL kernels on contiguous float32 buffers: element-wise unary and binary ops and the matrix
// product. Pure kernels: they take buffers and sizes, record dispatches on the context, and return a fresh
// output buffer (the caller releases it); tensors and autograd live in core/device.ts.
//
// n = elements, M×K · K×N = the product's operands (row-major)

import type { WebGPUContext } from "./context.js";

const WG = 256; // threads per workgroup of the element-wise kernels
const MAX_GROUPS = 65535; // WebGPU's default maxComputeWorkgroupsPerDimension

/** Workgroups for n elements as (x, y): x·y·WG ≥ n, both within the per-dimension limit. */
function grid(n: number): [number, number] {
  const groups = Math.max(1, Math.ceil(n / WG));
  const y = Math.ceil(groups / MAX_GROUPS);
  return [Math.ceil(groups / y), y];
}

// sin and cos as Cephes' sinf / cosf: x reduced to r in [−π/4, π/4] by the nearest multiple j of π/2 (π/2
// in three parts, so the reduction is exact for moderate x), then a polynomial of r by j's quadrant.
// SwiftShader's own sin and cos err by 2e-4 of 1.
const MATH = /* wgsl */ `
fn sincos_(x: f32, shift: i32) -> f32 {
  let j = round(x * 0.63661977236758134);
  let r = ((x - j * 1.5703125) - j * 4.837512969970703125e-4) - j * 7.54978995489188216e-8;
  let z = r * r;
  let s = r + r * z * (-1.6666654611e-1 + z * (8.3321608736e-3 + z * -1.9515295891e-4));
  let c = 1.0 - 0.5 * z + z * z * (4.166664568298827e-2 + z * (-1.388731625493765e-3 + z * 2.443315711809948e-5));
  let q = (i32(j) + shift) & 3;
  return select(select(select(-c, -s, q == 2), c, q == 1), s, q == 0);
}
fn sin_(x: f32) -> f32 { return sincos_(x, 0); }
fn cos_(x: f32) -> f32 { return sincos_(x, 1); }
fn isNan_(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
fn isInf_(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) == 0x7f800000u; }
// +∞ and NaN (WGSL has no literal for them, and a constant expression may not produce one)
var<private> INF_BITS: u32 = 0x7f800000u;
var<private> NAN_BITS: u32 = 0x7fc00000u;
// x ** y as JavaScript's (the CPU path's): 1 where y = 0 (a NaN x too); NaN for a NaN operand, a finite
// negative x with a non-integer y, and (±1) ** ±∞; a negative x (−0 and −∞ too) keeps its sign for odd
// integer y; 0 ** y and ∞ ** y without log2's infinities; x · x exactly for y = 2; else 2^(y·log2|x|).
fn powJs(x: f32, y: f32) -> f32 {
  let inf = bitcast<f32>(INF_BITS);
  if (y == 0.0) { return 1.0; }
  if (isNan_(x) || isNan_(y)) { return bitcast<f32>(NAN_BITS); }
  if (y == 2.0) { return x * x; }
  let ax = abs(x);
  if (isInf_(y)) {
    if (ax == 1.0) { return bitcast<f32>(NAN_BITS); }
    return select(0.0, inf, (ax > 1.0) == (y > 0.0));
  }
  let integer = fract(y) == 0.0;
  if (x < 0.0 && !integer && !isInf_(x)) { return bitcast<f32>(NAN_BITS); }
  var r = exp2(y * log2(ax));
  if (ax == 0.0) { r = select(inf, 0.0, y > 0.0); }
  if (isInf_(ax)) { r = select(0.0, inf, y > 0.0); }
  let negative = (bitcast<u32>(x) & 0x80000000u) != 0u;
  return select(r, -r, negative && integer && fract(y * 0.5) != 0.0);
}`;

// the flat element index of an invocation in a (x, y) grid of WG-wide workgroups
const INDEX = /* wgsl */ `${MATH}
struct P { n: u32, stride: u32, alpha: f32 }
@group(0) @binding(0) var<uniform> p: P;
fn index(g: vec3u) -> u32 { return g.y * p.stride + g.x; }`;

/** The element-wise unary ops: WGSL expression of x. */
export const UNARY_OPS = {
  neg: "-x",
  exp: "exp(x)",
  // Cephes' tanhf: an odd polynomial below |x| = 0.625 (exact for tiny x, where 1 − e^−2|x| would round
  // to 0), else 1 − 2/(e^2|x| + 1), which saturates to ±1 without overflow (WGSL's tanh may give NaN)
  tanh: `select(sign(x) * (1.0 - 2.0 / (exp(2.0 * abs(x)) + 1.0)),
    ((((-5.70498872745e-3 * x * x + 2.06390887954e-2) * x * x - 5.37397155531e-2) * x * x
      + 1.33314422036e-1) * x * x - 3.33332819422e-1) * x * x * x + x,
    abs(x) < 0.625)`,
  sigmoid: "1.0 / (1.0 + exp(-x))",
  relu: "max(x, 0.0)",
  log: "log(x)",
  sqrt: "sqrt(x)",
  abs: "abs(x)",
  square: "x * x",
  sin: "sin_(x)",
  cos: "cos_(x)",
  // x ** p.alpha as JavaScript's (the CPU path's; WGSL's pow is undefined for a negative base): powJs
  pow: "powJs(x, p.alpha)",
  // clamp's two sides (a NaN stays NaN, as max(x, lo) / min(x, hi) in PyTorch)
  clampMin: "select(x, p.alpha, x < p.alpha)",
  clampMax: "select(x, p.alpha, x > p.alpha)",
  // p.alpha · x (the backward passes' scaling)
  scale: "p.alpha * x",
} as const;
export type UnaryOp = keyof typeof UNARY_OPS;

/** The element-wise binary ops: WGSL expression of a, b and p.alpha. */
export const BINARY_OPS = {
  add: "a + p.alpha * b",
  sub: "a - p.alpha * b",
  mul: "a * b",
  div: "a / b",
  // the backward passes' products, a = dL/dy and b = y (tanh, sigmoid) or x (relu)
  tanhGrad: "a * (1.0 - b * b)",
  sigmoidGrad: "a * b * (1.0 - b)",
  reluGrad: "select(0.0, a, b > 0.0)",
  // a = dL/dy and b = x (log, abs, sin, cos, square) or y (sqrt)
  logGrad: "a / b",
  sqrtGrad: "a / (2.0 * b)",
  absGrad: "a * sign(b)",
  squareGrad: "2.0 * a * b",
  sinGrad: "a * cos_(b)",
  cosGrad: "-a * sin_(b)",
  // clamp's gradient, a side at a time: a passes where b = x ≥ lo (or ≤ hi), lo or hi in p.alpha
  passAbove: "select(0.0, a, b >= p.alpha)",
  passBelow: "select(0.0, a, b <= p.alpha)",
  // a ** b with a tensor exponent, as JavaScript's ** (the CPU path's)
  pow: "powJs(a, b)",
  // the ties of a full max / min: 1 where a equals the extreme b (NaN matching NaN), else 0
  tie: "select(0.0, 1.0, a == b || (isNan_(a) && isNan_(b)))",
} as const;
export type BinaryOp = keyof typeof BINARY_OPS;

function unaryWgsl(op: UnaryOp): string {
  return `${INDEX}
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let i = index(g);
  if (i >= p.n) { return; }
  let x = X[i];
  Y[i] = ${UNARY_OPS[op]};
}`;
}

function binaryWgsl(op: BinaryOp): string {
  return `${INDEX}
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let i = index(g);
  if (i >= p.n) { return; }
  let a = A[i];
  let b = B[i];
  C[i] = ${BINARY_OPS[op]};
}`;
}

function params(ctx: WebGPUContext, n: number, gx: number, alpha: number): GPUBuffer {
  const b = new ArrayBuffer(12);
  const v = new DataView(b);
  v.setUint32(0, n, true);
  v.setUint32(4, gx * WG, true);
  v.setFloat32(8, alpha, true);
  return ctx.uniform(b);
}

/** Y (n) = op(X (n)) (scale multiplies by alpha), in a new buffer. */
export function gpuUnary(ctx: WebGPUContext, op: UnaryOp, x: GPUBuffer, n: number, alpha = 0): GPUBuffer {
  if (!Object.hasOwn(UNARY_OPS, op)) throw new Error(`gpuUnary: unknown op ${JSON.stringify(op)}`);
  const y = ctx.storage(n * 4);
  if (n === 0) return y;
  const [gx, gy] = grid(n);
  const u = params(ctx, n, gx, alpha);
  ctx.dispatch(ctx.pipeline(unaryWgsl(op)), [u, x, y], gx, gy);
  ctx.release(u);
  return y;
}

/** C (n) = op(A (n), B (n)) (add and sub scale B by alpha), in a new buffer. */
export function gpuBinary(
  ctx: WebGPUContext,
  op: BinaryOp,
  a: GPUBuffer,
  b: GPUBuffer,
  n: number,
  alpha = 1,
): GPUBuffer {
  if (!Object.hasOwn(BINARY_OPS, op)) throw new Error(`gpuBinary: unknown op ${JSON.stringify(op)}`);
  const c = ctx.storage(n * 4);
  if (n === 0) return c;
  const [gx, gy] = grid(n);
  const u = params(ctx, n, gx, alpha);
  ctx.dispatch(ctx.pipeline(binaryWgsl(op)), [u, a, b, c], gx, gy);
  ctx.release(u);
  return c;
}

const MAX_DIMS = 8; // dimensions of a broadcast binary op

function broadcastWgsl(op: BinaryOp): string {
  return `${MATH}
struct P { n: u32, stride: u32, alpha: f32, nd: u32, shape: array<vec4u, 2>, sa: array<vec4u, 2>, sb: array<vec4u, 2> }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let i = g.y * p.stride + g.x;
  if (i >= p.n) { return; }
  var rem = i;
  var ia = 0u;
  var ib = 0u;
  for (var d = i32(p.nd) - 1; d >= 0; d--) {
    let size = p.shape[d / 4][d % 4];
    let c = rem % size;
    rem = rem / size;
    ia += c * p.sa[d / 4][d % 4];
    ib += c * p.sb[d / 4][d % 4];
  }
  let a = A[ia];
  let b = B[ib];
  C[i] = ${BINARY_OPS[op]};
}`;
}

/** An operand's strides over the broadcast shape `out`: 0 along the dimensions it is broadcast on. */
function broadcastStrides(shape: readonly number[], out: readonly number[]): number[] {
  const nd = out.length;
  const strides = new Array<number>(nd).fill(0);
  let stride = 1;
  for (let d = nd - 1; d >= 0; d--) {
    const size = shape[shape.length - nd + d] ?? 1;
    strides[d] = size === 1 ? 0 : stride;
    stride *= size;
  }
  return strides;
}

/**
 * C (out) = op(A (aShape), B (bShape)) with NumPy/PyTorch broadcasting, `out` the broadcast shape (checked
 * by the caller), at most 8 dimensions; in a new buffer.
 */
export function gpuBinaryBroadcast(
  ctx: WebGPUContext,
  op: BinaryOp,
  a: GPUBuffer,
  aShape: readonly number[],
  b: GPUBuffer,
  bShape: readonly number[],
  out: readonly number[],
  alpha = 1,
): GPUBuffer {
  if (!Object.hasOwn(BINARY_OPS, op)) throw new Error(`gpuBinaryBroadcast: unknown op ${JSON.stringify(op)}`);
  if (out.length > MAX_DIMS) {
    throw new Error(`${op} on webgpu: broadcasting supports up to ${MAX_DIMS} dimensions, got ${out.length}`);
  }
  const n = out.reduce((x, y) => x * y, 1);
  const c = ctx.storage(n * 4);
  if (n === 0) return c;
  const [gx, gy] = grid(n);
  const words = new ArrayBuffer(16 + 3 * 32);
  const v = new DataView(words);
  v.setUint32(0, n, true);
  v.setUint32(4, gx * WG, true);
  v.setFloat32(8, alpha, true);
  v.setUint32(12, out.length, true);
  const sa = broadcastStrides(aShape, out);
  const sb = broadcastStrides(bShape, out);
  for (let d = 0; d < out.length; d++) {
    v.setUint32(16 + 4 * d, out[d], true);
    v.setUint32(48 + 4 * d, sa[d], true);
    v.setUint32(80 + 4 * d, sb[d], true);
  }
  const u = ctx.uniform(words);
  ctx.dispatch(ctx.pipeline(broadcastWgsl(op)), [u, a, b, c], gx, gy);
  ctx.release(u);
  return c;
}

const TILE = 16;

/** The tiled product's WGSL for one (transA, transB, bias) combination. */
function gemmWgsl(transA: boolean, transB: boolean, bias: boolean): string {
  // batch w.z: A, B and C are `batch` matrices one after another
  const a = transA ? "A[oa + ka * p.M + row]" : "A[oa + row * p.K + ka]"; // A (M, K), or Aᵀ stored (K, M)
  const b = transB ? "B[ob + col * p.K + kb]" : "B[ob + kb * p.N + col]"; // B (K, N), or Bᵀ stored (N, K)
  return /* wgsl */ `
struct P { M: u32, N: u32, K: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>; // (M, N)
${bias ? "@group(0) @binding(4) var<storage, read> bias: array<f32>; // (N)" : ""}
var<workgroup> As: array<array<f32, ${TILE}>, ${TILE}>;
var<workgroup> Bs: array<array<f32, ${TILE}>, ${TILE}>;
@compute @workgroup_size(${TILE}, ${TILE})
fn main(@builtin(workgroup_id) w: vec3u, @builtin(local_invocation_id) l: vec3u) {
  let row = w.y * ${TILE}u + l.y;
  let col = w.x * ${TILE}u + l.x;
  let oa = w.z * p.M * p.K;
  let ob = w.z * p.K * p.N;
  var acc = 0.0;
  for (var t = 0u; t < (p.K + ${TILE - 1}u) / ${TILE}u; t++) {
    let ka = t * ${TILE}u + l.x;
    let kb = t * ${TILE}u + l.y;
    // each thread loads A's element (its row, ka) and B's (kb, its column); zero outside the operands
    As[l.y][l.x] = 0.0;
    if (row < p.M && ka < p.K) { As[l.y][l.x] = ${a}; }
    Bs[l.y][l.x] = 0.0;
    if (kb < p.K && col < p.N) { Bs[l.y][l.x] = ${b}; }
    workgroupBarrier();
    for (var k = 0u; k < ${TILE}u; k++) { acc = fma(As[l.y][k], Bs[k][l.x], acc); }
    workgroupBarrier();
  }
  if (row < p.M && col < p.N) { C[w.z * p.M * p.N + row * p.N + col] = acc${bias ? " + bias[col]" : ""}; }
}`;
}

/**
 * C (M, N) = op(A) · op(B) (+ bias (N) on every row), in a new buffer, where op(A) is A (M, K) or, with
 * transA, the transpose of A stored (K, M); likewise B (K, N) or Bᵀ stored (N, K). Row-major; 16×16
 * tiles in workgroup memory. With `batch` > 1: that many products of matrices stored one after another.
 */
export function gpuGemm(
  ctx: WebGPUContext,
  transA: boolean,
  transB: boolean,
  M: number,
  N: number,
  K: number,
  a: GPUBuffer,
  b: GPUBuffer,
  bias: GPUBuffer | null = null,
  batch = 1,
): GPUBuffer {
  if (M === 0 || N === 0 || batch === 0) return ctx.storage(batch * M * N * 4);
  const gx = Math.ceil(N / TILE);
  const gy = Math.ceil(M / TILE);
  if (gx > MAX_GROUPS || gy > MAX_GROUPS || batch > MAX_GROUPS) {
    throw new RangeError(`gpuGemm: ${batch}×${M}×${N} needs more than ${MAX_GROUPS} workgroups a dimension`);
  }
  const c = ctx.storage(batch * M * N * 4);
  const u = ctx.uniform([M, N, K]);
  const pipeline = ctx.pipeline(gemmWgsl(transA, transB, bias !== null));
  ctx.dispatch(pipeline, bias === null ? [u, a, b, c] : [u, a, b, c, bias], gx, gy, batch);
  ctx.release(u);
  return c;
}

/** C (M, N) = A (M, K) · B (K, N), row-major, in a new buffer. */
export function gpuMatmul(
  ctx: WebGPUContext,
  a: GPUBuffer,
  b: GPUBuffer,
  M: number,
  N: number,
  K: number,
): GPUBuffer {
  return gpuGemm(ctx, false, false, M, N, K, a, b);
}

// ---------------------------------------------------------------------------------------------------------
// Reductions (the backward passes of broadcast ops and of linear's bias, and the losses' sum / mean)

const SUM_TO_WGSL = /* wgsl */ `
struct P { n: u32, stride: u32, nd: u32, R: u32, shape: array<vec4u, 2>, red: array<vec4u, 2> }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let o = g.y * p.stride + g.x;
  if (o >= p.n) { return; }
  // X's index of output o with every summed dimension at 0: o spelled over the kept dimensions
  var rem = o;
  var base = 0u;
  var st = 1u;
  for (var d = i32(p.nd) - 1; d >= 0; d--) {
    let size = p.shape[d / 4][d % 4];
    if (p.red[d / 4][d % 4] == 0u) {
      base += (rem % size) * st;
      rem = rem / size;
    }
    st *= size;
  }
  var acc = 0.0;
  for (var k = 0u; k < p.R; k++) {
    var r = k;
    var idx = base;
    var s = 1u;
    for (var d = i32(p.nd) - 1; d >= 0; d--) {
      let size = p.shape[d / 4][d % 4];
      if (p.red[d / 4][d % 4] == 1u) {
        idx += (r % size) * s;
        r = r / size;
      }
      s *= size;
    }
    acc += X[idx];
  }
  Y[o] = acc;
}`;

/**
 * Y (out) = X (xShape) summed over the dimensions that broadcasting `out` to `xShape` expanded (the
 * gradient of a broadcast operand), in a new buffer. `out` broadcasts to `xShape` (checked by the caller).
 */
export function gpuSumTo(
  ctx: WebGPUContext,
  x: GPUBuffer,
  xShape: readonly number[],
  out: readonly number[],
): GPUBuffer {
  const nd = xShape.length;
  if (nd > MAX_DIMS) throw new Error(`sum on webgpu: up to ${MAX_DIMS} dimensions, got ${nd}`);
  const n = out.reduce((x, y) => x * y, 1);
  const y = ctx.storage(n * 4);
  if (n === 0) return y;
  const [gx, gy] = grid(n);
  const words = new ArrayBuffer(16 + 2 * 32);
  const v = new DataView(words);
  let R = 1;
  for (let d = 0; d < nd; d++) {
    const o = out[out.length - nd + d] ?? 1;
    const red = o === 1 && xShape[d] !== 1;
    if (red) R *= xShape[d];
    v.setUint32(16 + 4 * d, xShape[d], true);
    v.setUint32(48 + 4 * d, red ? 1 : 0, true);
  }
  v.setUint32(0, n, true);
  v.setUint32(4, gx * WG, true);
  v.setUint32(8, nd, true);
  v.setUint32(12, R, true);
  const u = ctx.uniform(words);
  ctx.dispatch(ctx.pipeline(SUM_TO_WGSL), [u, x, y], gx, gy);
  ctx.release(u);
  return y;
}

const SUM_WGSL = /* wgsl */ `
struct P { n: u32, stride: u32, alpha: f32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;
var<workgroup> part: array<f32, ${WG}>;
@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_id) l: vec3u) {
  var acc = 0.0;
  for (var i = l.x; i < p.n; i += ${WG}u) { acc += X[i]; }
  part[l.x] = acc;
  workgroupBarrier();
  for (var w = ${WG / 2}u; w > 0u; w = w / 2u) {
    if (l.x < w) { part[l.x] += part[l.x + w]; }
    workgroupBarrier();
  }
  if (l.x == 0u) { Y[0] = part[0] * p.alpha; }
}`;

/** Y (1) = alpha · Σ X (n) (alpha = 1/n: the mean), one workgroup, in a new buffer. */
export function gpuSum(ctx: WebGPUContext, x: GPUBuffer, n: number, alpha = 1): GPUBuffer {
  const y = ctx.storage(4);
  const u = params(ctx, n, 1, alpha);
  ctx.dispatch(ctx.pipeline(SUM_WGSL), [u, x, y], 1, 1);
  ctx.release(u);
  return y;
}

const EXPAND_WGSL = `${INDEX}
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let i = index(g);
  if (i >= p.n) { return; }
  Y[i] = p.alpha * X[0];
}`;

/** Y (n) = alpha · X[0] everywhere (the gradient of a sum or mean), in a new buffer. */
export function gpuExpandScalar(ctx: WebGPUContext, x: GPUBuffer, n: number, alpha = 1): GPUBuffer {
  const y = ctx.storage(n * 4);
  if (n === 0) return y;
  const [gx, gy] = grid(n);
  const u = params(ctx, n, gx, alpha);
  ctx.dispatch(ctx.pipeline(EXPAND_WGSL), [u, x, y], gx, gy);
  ctx.release(u);
  return y;
}

// ---------------------------------------------------------------------------------------------------------
// pow with a tensor exponent: its backward. max / min: over every element, or along one dimension (the
// tensor viewed as (outer, size, inner)) with the index of each extreme, and the backward of the latter.
// Indices are i32 (the device's int64 tensors, core/device.ts).

const POW_BACKWARD_WGSL = /* wgsl */ `${MATH}
struct P { n: u32, stride: u32, nd: u32, shape: array<vec4u, 2>, sx: array<vec4u, 2>, sy: array<vec4u, 2> }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> G: array<f32>; // (out)
@group(0) @binding(2) var<storage, read> X: array<f32>; // (xShape), broadcast to out
@group(0) @binding(3) var<storage, read> Y: array<f32>; // (yShape), broadcast to out
@group(0) @binding(4) var<storage, read> O: array<f32>; // (out): x ** y
@group(0) @binding(5) var<storage, read_write> DX: array<f32>; // (out)
@group(0) @binding(6) var<storage, read_write> DY: array<f32>; // (out)
// Math.log: NaN below 0, −∞ at 0
fn logJs(x: f32) -> f32 {
  if (x < 0.0 || isNan_(x)) { return bitcast<f32>(NAN_BITS); }
  if (x == 0.0) { return -bitcast<f32>(INF_BITS); }
  return log(x);
}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let i = g.y * p.stride + g.x;
  if (i >= p.n) { return; }
  var rem = i;
  var ix = 0u;
  var iy = 0u;
  for (var d = i32(p.nd) - 1; d >= 0; d--) {
    let size = p.shape[d / 4][d % 4];
    let c = rem % size;
    rem = rem / size;
    ix += c * p.sx[d / 4][d % 4];
    iy += c * p.sy[d / 4][d % 4];
  }
  let gi = G[i];
  let x = X[ix];
  let y = Y[iy];
  // dx = g·y·x^(y−1), 0 where y = 0; dy = g·out·log(x), 0 where x = 0 and y ≥ 0 (the CPU path's)
  DX[i] = select(gi * y * powJs(x, y - 1.0), 0.0, y == 0.0);
  DY[i] = select(gi * O[i] * logJs(x), 0.0, x == 0.0 && y >= 0.0);
}`;

/**
 * The backward of out = x ** y broadcast (out the broadcast shape, at most 8 dimensions): dL/dx and dL/dy
 * both of out's shape, in two new buffers (the caller sums each back to its operand's shape).
 */
export function gpuPowBackward(
  ctx: WebGPUContext,
  g: GPUBuffer,
  x: GPUBuffer,
  xShape: readonly number[],
  y: GPUBuffer,
  yShape: readonly number[],
  out: GPUBuffer,
  outShape: readonly number[],
): [GPUBuffer, GPUBuffer] {
  if (outShape.length > MAX_DIMS) {
    throw new Error(
      `pow on webgpu: broadcasting supports up to ${MAX_DIMS} dimensions, got ${outShape.length}`,
    );
  }
  const n = outShape.reduce((a, b) => a * b, 1);
  const dx = ctx.storage(n * 4);
  const dy = ctx.storage(n * 4);
  if (n === 0) return [dx, dy];
  const [gx, gy] = grid(n);
  const words = new ArrayBuffer(16 + 3 * 32);
  const v = new DataView(words);
  v.setUint32(0, n, true);
  v.setUint32(4, gx * WG, true);
  v.setUint32(8, outShape.length, true);
  const sx = broadcastStrides(xShape, outShape);
  const sy = broadcastStrides(yShape, outShape);
  for (let d = 0; d < outShape.length; d++) {
    v.setUint32(16 + 4 * d, outShape[d], true);
    v.setUint32(48 + 4 * d, sx[d], true);
    v.setUint32(80 + 4 * d, sy[d], true);
  }
  const u = ctx.uniform(words);
  ctx.dispatch(ctx.pipeline(POW_BACKWARD_WGSL), [u, g, x, y, out, dx, dy], gx, gy);
  ctx.release(u);
  return [dx, dy];
}

// whether v (at index i) beats best (at bi) for max (p.isMax = 1) or min: the CPU loop keeps its first
// extreme and lets a NaN win; bi = NONE (nothing yet) loses to anything
const BEATS = /* wgsl */ `
const NONE = 0xffffffffu;
fn beats(v: f32, i: u32, best: f32, bi: u32) -> bool {
  if (bi == NONE) { return true; }
  if (isNan_(best)) { return isNan_(v) && i < bi; }
  if (isNan_(v)) { return true; }
  return select((v < best), (v > best), p.isMax == 1u) || (v == best && i < bi);
}`;

const EXTREME_ALL_WGSL = /* wgsl */ `${MATH}
struct P { n: u32, isMax: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> X: array<f32>; // (n)
@group(0) @binding(2) var<storage, read_write> V: array<f32>; // (1)
@group(0) @binding(3) var<storage, read_write> I: array<i32>; // (1)
${BEATS}
var<workgroup> pv: array<f32, ${WG}>;
var<workgroup> pi: array<u32, ${WG}>;
@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_id) l: vec3u) {
  var best = 0.0;
  var bi = NONE;
  for (var i = l.x; i < p.n; i += ${WG}u) {
    let v = X[i];
    if (beats(v, i, best, bi)) { best = v; bi = i; }
  }
  pv[l.x] = best;
  pi[l.x] = bi;
  workgroupBarrier();
  for (var w = ${WG / 2}u; w > 0u; w = w / 2u) {
    if (l.x < w && pi[l.x + w] != NONE && beats(pv[l.x + w], pi[l.x + w], pv[l.x], pi[l.x])) {
      pv[l.x] = pv[l.x + w];
      pi[l.x] = pi[l.x + w];
    }
    workgroupBarrier();
  }
  if (l.x == 0u) {
    V[0] = pv[0];
    I[0] = i32(pi[0]);
  }
}`;

/**
 * The largest (isMax) or smallest of X (n ≥ 1) and its flat index, the first one where several tie (a NaN
 * wins, the first NaN), as the CPU's loop: [value (1), index (1, i32)] in two new buffers; one workgroup.
 */
export function gpuExtremeAll(
  ctx: WebGPUContext,
  isMax: boolean,
  x: GPUBuffer,
  n: number,
): [GPUBuffer, GPUBuffer] {
  if (n === 0) throw new Error("gpuExtremeAll: no elements");
  const v = ctx.storage(4);
  const i = ctx.storage(4);
  const u = ctx.uniform([n, isMax ? 1 : 0]);
  ctx.dispatch(ctx.pipeline(EXTREME_ALL_WGSL), [u, x, v, i], 1, 1);
  ctx.release(u);
  return [v, i];
}

const EXTREME_DIM_WGSL = /* wgsl */ `${MATH}
struct P { n: u32, stride: u32, size: u32, inner: u32, isMax: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> X: array<f32>; // (outer, size, inner)
@group(0) @binding(2) var<storage, read_write> V: array<f32>; // (outer, inner)
@group(0) @binding(3) var<storage, read_write> I: array<i32>; // (outer, inner)
${BEATS}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let col = g.y * p.stride + g.x;
  if (col >= p.n) { return; }
  let base = (col / p.inner) * p.size * p.inner + col % p.inner;
  var best = 0.0;
  var bi = NONE;
  for (var k = 0u; k < p.size; k++) {
    let v = X[base + k * p.inner];
    if (beats(v, k, best, bi)) { best = v; bi = k; }
  }
  V[col] = best;
  I[col] = i32(bi);
}`;

/**
 * max (isMax) or min of X (outer, size ≥ 1, inner) along `size`, and the index of each (the first where
 * several tie; a NaN wins): [values (outer, inner), indices (outer, inner, i32)] in two new buffers.
 */
export function gpuExtremeDim(
  ctx: WebGPUContext,
  isMax: boolean,
  x: GPUBuffer,
  outer: number,
  size: number,
  inner: number,
): [GPUBuffer, GPUBuffer] {
  const cols = outer * inner;
  const v = ctx.storage(cols * 4);
  const i = ctx.storage(cols * 4);
  if (cols === 0) return [v, i];
  const [gx, gy] = grid(cols);
  const u = ctx.uniform([cols, gx * WG, size, inner, isMax ? 1 : 0]);
  ctx.dispatch(ctx.pipeline(EXTREME_DIM_WGSL), [u, x, v, i], gx, gy);
  ctx.release(u);
  return [v, i];
}

const EXTREME_BACKWARD_WGSL = /* wgsl */ `
struct P { n: u32, stride: u32, size: u32, inner: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> G: array<f32>; // (outer, inner)
@group(0) @binding(2) var<storage, read> I: array<i32>; // (outer, inner)
@group(0) @binding(3) var<storage, read_write> DX: array<f32>; // (outer, size, inner)
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let j = g.y * p.stride + g.x;
  if (j >= p.n) { return; }
  let col = (j / (p.size * p.inner)) * p.inner + j % p.inner;
  let k = (j / p.inner) % p.size;
  DX[j] = select(0.0, G[col], u32(I[col]) == k);
}`;

/** dX (outer, size, inner): G (outer, inner) at each column's index I, zeros elsewhere; in a new buffer. */
export function gpuExtremeBackward(
  ctx: WebGPUContext,
  g: GPUBuffer,
  indices: GPUBuffer,
  outer: number,
  size: number,
  inner: number,
): GPUBuffer {
  const n = outer * size * inner;
  const dx = ctx.storage(n * 4);
  if (n === 0) return dx;
  const [gx, gy] = grid(n);
  const u = ctx.uniform([n, gx * WG, size, inner]);
  ctx.dispatch(ctx.pipeline(EXTREME_BACKWARD_WGSL), [u, g, indices, dx], gx, gy);
  ctx.release(u);
  return dx;
}

const CUMSUM_WGSL = /* wgsl */ `
struct P { n: u32, stride: u32, size: u32, inner: u32, reverse: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> X: array<f32>; // (outer, size, inner)
@group(0) @binding(2) var<storage, read_write> Y: array<f32>; // (outer, size, inner)
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let col = g.y * p.stride + g.x;
  if (col >= p.n) { return; }
  let base = (col / p.inner) * p.size * p.inner + col % p.inner;
  var s = 0.0;
  for (var k = 0u; k < p.size; k++) {
    let i = base + select(k, p.size - 1u - k, p.reverse == 1u) * p.inner;
    s += X[i];
    Y[i] = s;
  }
}`;

/**
 * Y = the running sums of X (outer, size, inner) along `size` (cumsum), or with `reverse` from the end
 * (cumsum's backward); one thread per column, in a new buffer.
 */
export function gpuCumsum(
  ctx: WebGPUContext,
  x: GPUBuffer,
  outer: number,
  size: number,
  inner: number,
  reverse: boolean,
): GPUBuffer {
  const cols = outer * inner;
  const y = ctx.storage(cols * size * 4);
  if (cols * size === 0) return y;
  const [gx, gy] = grid(cols);
  const u = ctx.uniform([cols, gx * WG, size, inner, reverse ? 1 : 0]);
  ctx.dispatch(ctx.pipeline(CUMSUM_WGSL), [u, x, y], gx, gy);
  ctx.release(u);
  return y;
}

// ---------------------------------------------------------------------------------------------------------
// Row gathers (the packed sequences' moves, indexSelect on the device)

const GATHER_WGSL = /* wgsl */ `
struct P { n: u32, stride: u32, cols: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> index: array<i32>;
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let i = g.y * p.stride + g.x;
  if (i >= p.n) { return; }
  let r = index[i / p.cols];
  Y[i] = select(0.0, X[u32(max(r, 0)) * p.cols + i % p.cols], r >= 0);
}`;

/**
 * Y (rows, cols): row i = X's row index[i], or zeros where index[i] is −1; index (rows) checked by the
 * caller to lie in [−1, rows of X). In a new buffer.
 */
export function gpuGatherRows(ctx: WebGPUContext, x: GPUBuffer, index: Int32Array, cols: number): GPUBuffer {
  const n = index.length * cols;
  const y = ctx.storage(n * 4);
  if (n === 0) return y;
  const [gx, gy] = grid(n);
  const u = ctx.uniform([n, gx * WG, cols]);
  const idx = ctx.upload(index);
  ctx.dispatch(ctx.pipeline(GATHER_WGSL), [u, x, idx, y], gx, gy);
  ctx.release(u);
  ctx.release(idx);
  return y;
}

// ---------------------------------------------------------------------------------------------------------
// Softmax and log-softmax along one dimension: the tensor viewed as (outer, size, inner), one thread per
// (outer, inner) column; max-shifted, so exp cannot overflow.

function softmaxWgsl(log: boolean, backward: boolean): string {
  const fwd = /* wgsl */ `
  var m = -3.4028234663852886e38;
  for (var k = 0u; k < p.size; k++) { m = max(m, X[base + k * p.inner]); }
  var s = 0.0;
  for (var k = 0u; k < p.size; k++) { s += exp(X[base + k * p.inner] - m); }
  let lse = m + log(s);
  for (var k = 0u; k < p.size; k++) {
    let i = base + k * p.inner;
    Y[i] = ${log ? "X[i] - lse" : "exp(X[i] - lse)"};
  }`;
  // X is y (the forward's output) and G the gradient: softmax dx = y·(g − Σ g·y); log-softmax
  // dx = g − exp(y)·Σ g
  const bwd = /* wgsl */ `
  var s = 0.0;
  for (var k = 0u; k < p.size; k++) {
    let i = base + k * p.inner;
    s += ${log ? "G[i]" : "G[i] * X[i]"};
  }
  for (var k = 0u; k < p.size; k++) {
    let i = base + k * p.inner;
    Y[i] = ${log ? "G[i] - exp(X[i]) * s" : "X[i] * (G[i] - s)"};
  }`;
  return /* wgsl */ `
struct P { n: u32, stride: u32, size: u32, inner: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;
${backward ? "@group(0) @binding(3) var<storage, read> G: array<f32>;" : ""}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let col = g.y * p.stride + g.x;
  if (col >= p.n) { return; }
  let base = (col / p.inner) * p.size * p.inner + col % p.inner;
  ${backward ? bwd : fwd}
}`;
}

/**
 * Y = softmax (or log-softmax) of X (outer, size, inner) along `size`, in a new buffer; with `dy` given,
 * the backward instead: X is the forward's output y and the result dL/dx.
 */
export function gpuSoftmax(
  ctx: WebGPUContext,
  log: boolean,
  x: GPUBuffer,
  outer: number,
  size: number,
  inner: number,
  dy: GPUBuffer | null = null,
): GPUBuffer {
  const cols = outer * inner;
  const y = ctx.storage(cols * size * 4);
  if (cols * size === 0) return y;
  const [gx, gy] = grid(cols);
  const u = ctx.uniform([cols, gx * WG, size, inner]);
  const pipeline = ctx.pipeline(softmaxWgsl(log, dy !== null));
  ctx.dispatch(pipeline, dy === null ? [u, x, y] : [u, x, y, dy], gx, gy);
  ctx.release(u);
  return y;
}

// ---------------------------------------------------------------------------------------------------------
// Strided copies: the device's views (transpose, permute, expand, narrow, select, ...) are materialized as
// contiguous copies, and cat / stack write each operand into its place in the output.

function stridedWgsl(scatter: boolean): string {
  return /* wgsl */ `
struct P { n: u32, stride: u32, nd: u32, offset: u32, shape: array<vec4u, 2>, st: array<vec4u, 2> }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let i = g.y * p.stride + g.x;
  if (i >= p.n) { return; }
  var rem = i;
  var at = p.offset;
  for (var d = i32(p.nd) - 1; d >= 0; d--) {
    let size = p.shape[d / 4][d % 4];
    at += (rem % size) * p.st[d / 4][d % 4];
    rem = rem / size;
  }
  ${scatter ? "Y[at] = X[i];" : "Y[i] = X[at];"}
}`;
}

/**
 * The strided view (shape, strides, offset, in elements) of the contiguous buffer `x`: gathered into a new
 * contiguous buffer; or, with `into`, the other way: contiguous X (shape) written into `into` at the
 * view's places (each place once: no two elements may share one).
 */
export function gpuStrided(
  ctx: WebGPUContext,
  x: GPUBuffer,
  shape: readonly number[],
  strides: readonly number[],
  offset: number,
  into: GPUBuffer | null = null,
): GPUBuffer {
  if (shape.length > MAX_DIMS) {
    throw new Error(`a view on webgpu: up to ${MAX_DIMS} dimensions, got ${shape.length}`);
  }
  const n = shape.reduce((a, b) => a * b, 1);
  const y = into ?? ctx.storage(n * 4);
  if (n === 0) return y;
  const [gx, gy] = grid(n);
  const words = new ArrayBuffer(16 + 2 * 32);
  const v = new DataView(words);
  v.setUint32(0, n, true);
  v.setUint32(4, gx * WG, true);
  v.setUint32(8, shape.length, true);
  v.setUint32(12, offset, true);
  for (let d = 0; d < shape.length; d++) {
    v.setUint32(16 + 4 * d, shape[d], true);
    v.setUint32(48 + 4 * d, strides[d], true);
  }
  const u = ctx.uniform(words);
  ctx.dispatch(ctx.pipeline(stridedWgsl(into !== null)), [u, x, y], gx, gy);
  ctx.release(u);
  return y;
}
