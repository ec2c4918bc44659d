// Gradient clipping on the webgpu device (nn/clip.ts's device path): the p-norm of each gradient, the
// total norm and the clip coefficient computed on the device, and the gradients scaled (or clamped) in
// place by kernels that read the coefficient from a buffer. Nothing is read back; the caller reads the
// two-float result buffer when it wants the total.
//
// n = elements of one gradient, K = gradients

import type { WebGPUContext } from "./context.js";

const WG = 256;
const MAX_GROUPS = 65535;

/** How a norm order reduces: a sum of x², of |x|, of |x|^p, a max or min of |x|, a count of non-zeros. */
const MODE = { two: 0, one: 1, max: 2, min: 3, count: 4, pow: 5 } as const;

function modeOf(p: number): number {
  if (p === 2) return MODE.two;
  if (p === 1) return MODE.one;
  if (p === Number.POSITIVE_INFINITY) return MODE.max;
  if (p === Number.NEGATIVE_INFINITY) return MODE.min;
  if (p === 0) return MODE.count;
  return MODE.pow;
}

// The reduction shared by `norm` (up to 64 workgroups per gradient, each writing its partial reduction
// to PART) and `total` (one thread: each gradient's norm from its partials, the norm of those K norms,
// then the coefficient)
const REDUCE_WGSL = /* wgsl */ `
struct P {
  n: u32, off: u32, mode: u32, p: f32, // elements (norm) or K (total); first partial's slot; MODE; order
  invP: f32, maxNorm: f32, check: u32, inf: f32, // inf: +∞ (WGSL has no literal for it)
  groups: u32, // workgroups of this gradient (norm)
}
@group(0) @binding(0) var<uniform> u: P;

fn inf() -> f32 { return u.inf; }
fn isNan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
fn isFinite(x: f32) -> bool { return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u; }

fn identity() -> f32 { return select(0.0, inf(), u.mode == ${MODE.min}u); }

// what one element adds to the reduction
fn term(x: f32) -> f32 {
  let a = abs(x);
  switch u.mode {
    case ${MODE.two}u: { return x * x; }
    case ${MODE.count}u: { return select(1.0, 0.0, x == 0.0); } // NaN counts, as x !== 0
    case ${MODE.pow}u: {
      if (a == 0.0) { return select(inf(), 0.0, u.p > 0.0); } // 0^p, without pow's log2(0)
      return pow(a, u.p);
    }
    default: { return a; }
  }
}

fn combine(a: f32, b: f32) -> f32 {
  if (u.mode == ${MODE.max}u || u.mode == ${MODE.min}u) {
    if (isNan(a) || isNan(b)) { return a + b; } // NaN wins, as on the CPU
    return select(min(a, b), max(a, b), u.mode == ${MODE.max}u);
  }
  return a + b;
}

fn finish(r: f32) -> f32 {
  if (u.mode == ${MODE.two}u) { return sqrt(r); }
  if (u.mode == ${MODE.pow}u) {
    if (r == 0.0) { return select(inf(), 0.0, u.invP > 0.0); }
    if (!isFinite(r) && !isNan(r)) { return select(0.0, inf(), u.invP > 0.0); }
    return pow(r, u.invP);
  }
  return r;
}`;

const NORM_WGSL = /* wgsl */ `${REDUCE_WGSL}
@group(0) @binding(1) var<storage, read> X: array<f32>;          // a gradient (n)
@group(0) @binding(2) var<storage, read_write> PART: array<f32>; // (Σ groups) partial reductions
var<workgroup> part: array<f32, ${WG}>;
@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_id) l: vec3u, @builtin(workgroup_id) w: vec3u) {
  var acc = identity();
  for (var i = w.x * ${WG}u + l.x; i < u.n; i += u.groups * ${WG}u) { acc = combine(acc, term(X[i])); }
  part[l.x] = acc;
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s = s / 2u) {
    if (l.x < s) { part[l.x] = combine(part[l.x], part[l.x + s]); }
    workgroupBarrier();
  }
  if (l.x == 0u) { PART[u.off + w.x] = part[0]; }
}`;

const TOTAL_WGSL = /* wgsl */ `${REDUCE_WGSL}
@group(0) @binding(1) var<storage, read> PART: array<f32>;      // (Σ groups)
@group(0) @binding(2) var<storage, read> TABLE: array<u32>;     // (K + 1): gradient k's partials start at TABLE[k]
@group(0) @binding(3) var<storage, read_write> OUT: array<f32>; // (2): total, coef
@compute @workgroup_size(1)
fn main() {
  var acc = identity();
  for (var k = 0u; k < u.n; k++) {
    var r = identity();
    for (var j = TABLE[k]; j < TABLE[k + 1u]; j++) { r = combine(r, PART[j]); }
    acc = combine(acc, term(finish(r)));
  }
  let t = finish(acc);
  // PyTorch's max_norm / (total + 1e-6): a reciprocal, then a product
  var coef = (1.0 / (t + 1e-6)) * u.maxNorm;
  if (u.check != 0u && !isFinite(t)) { coef = 1.0; } // errorIfNonfinite: leave the gradients as they are
  OUT[0] = t;
  OUT[1] = coef;
}`;

const SCALE_WGSL = /* wgsl */ `
struct S { n: u32, stride: u32 }
@group(0) @binding(0) var<uniform> s: S;
@group(0) @binding(1) var<storage, read_write> G: array<f32>; // (n)
@group(0) @binding(2) var<storage, read> C: array<f32>;       // (2): total, coef
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let i = g.y * s.stride + g.x;
  if (i >= s.n) { return; }
  let c = C[1];
  if (!(c >= 1.0)) { G[i] = G[i] * c; } // times min(coef, 1), a NaN coefficient included
}`;

const CLAMP_WGSL = /* wgsl */ `
struct S { n: u32, stride: u32, lo: f32, hi: f32 }
@group(0) @binding(0) var<uniform> s: S;
@group(0) @binding(1) var<storage, read_write> G: array<f32>; // (n)
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let i = g.y * s.stride + g.x;
  if (i >= s.n) { return; }
  var v = G[i];
  if (v < s.lo) { v = s.lo; }
  if (v > s.hi) { v = s.hi; } // clamp(min=lo, max=hi); NaN stays NaN
  G[i] = v;
}`;

/** Workgroups for n elements as (x, y): x·y·WG ≥ n, both within the per-dimension limit. */
function grid(n: number): [number, number] {
  const groups = Math.max(1, Math.ceil(n / WG));
  const y = Math.ceil(groups / MAX_GROUPS);
  return [Math.ceil(groups / y), y];
}

function clipUniform(
  ctx: WebGPUContext,
  n: number,
  off: number,
  groups: number,
  p: number,
  maxNorm: number,
  check: boolean,
): GPUBuffer {
  const words = new ArrayBuffer(36);
  const v = new DataView(words);
  v.setUint32(0, n, true);
  v.setUint32(4, off, true);
  v.setUint32(8, modeOf(p), true);
  v.setFloat32(12, p, true);
  v.setFloat32(16, 1 / p, true);
  v.setFloat32(20, maxNorm, true);
  v.setUint32(24, check ? 1 : 0, true);
  v.setFloat32(28, Number.POSITIVE_INFINITY, true);
  v.setUint32(32, groups, true);
  return ctx.uniform(words);
}

/** Workgroups that reduce a gradient of n elements: at least 16 elements a thread, at most 64 groups. */
function normGroups(n: number): number {
  return Math.min(64, Math.max(1, Math.ceil(n / (WG * 16))));
}

/** A gradient's buffer and its element count. */
export interface GpuGrad {
  buffer: GPUBuffer;
  n: number;
}

/**
 * Records clip_grad_norm_ on the device: each gradient's `p`-norm, their total norm, the coefficient
 * maxNorm / (total + 1e-6), and every gradient multiplied by it in place where it is below 1 (not at all
 * when `check` and the total is not finite). Returns a new buffer (2) holding [total, coef], which the
 * caller reads and releases. `grads` is not empty.
 */
export function gpuClipGradNorm(
  ctx: WebGPUContext,
  grads: readonly GpuGrad[],
  p: number,
  maxNorm: number,
  check: boolean,
): GPUBuffer {
  const K = grads.length;
  const table = new Uint32Array(K + 1); // where each gradient's partials start
  grads.forEach((g, k) => {
    table[k + 1] = table[k] + normGroups(g.n);
  });
  const part = ctx.storage(table[K] * 4);
  const out = ctx.storage(8);
  const empty = ctx.storage(4); // bound in place of an empty gradient
  const normPipe = ctx.pipeline(NORM_WGSL);
  grads.forEach((g, k) => {
    const groups = table[k + 1] - table[k];
    const u = clipUniform(ctx, g.n, table[k], groups, p, maxNorm, check);
    ctx.dispatch(normPipe, [u, g.n === 0 ? empty : g.buffer, part], groups);
    ctx.release(u);
  });
  const offsets = ctx.upload(table);
  const u = clipUniform(ctx, K, 0, 0, p, maxNorm, check);
  ctx.dispatch(ctx.pipeline(TOTAL_WGSL), [u, part, offsets, out], 1);
  ctx.release(u);
  ctx.release(offsets);
  const scale = ctx.pipeline(SCALE_WGSL);
  for (const g of grads) {
    if (g.n === 0) continue;
    const [gx, gy] = grid(g.n);
    const su = ctx.uniform([g.n, gx * WG]);
    ctx.dispatch(scale, [su, g.buffer, out], gx, gy);
    ctx.release(su);
  }
  ctx.release(part);
  ctx.release(empty);
  return out;
}

/** Clamps `g` (n) into [lo, hi] in place (clip_grad_value_: lo = -clipValue, hi = clipValue). */
export function gpuClampInPlace(ctx: WebGPUContext, g: GPUBuffer, n: number, lo: number, hi: number): void {
  if (n === 0) return;
  const [gx, gy] = grid(n);
  const words = new ArrayBuffer(16);
  const v = new DataView(words);
  v.setUint32(0, n, true);
  v.setUint32(4, gx * WG, true);
  v.setFloat32(8, lo, true);
  v.setFloat32(12, hi, true);
  const u = ctx.uniform(words);
  ctx.dispatch(ctx.pipeline(CLAMP_WGSL), [u, g], gx, gy);
  ctx.release(u);
}
