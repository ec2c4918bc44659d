// Optimizer updates on the webgpu device: in-place WGSL kernels over a parameter's buffer, its gradient's
// and its state's, as the CPU loops of optim/*.ts compute them (float32 throughout).
//
// n = elements of the parameter

import type { WebGPUContext } from "./context.js";

const WG = 256;
const MAX_GROUPS = 65535;

// The CPU loops round a + b·c once (f32(a + b * c): the product of two float32 values is exact in
// float64), a fused multiply-add. WGSL's fma() may be computed unfused (SwiftShader does), so fma32
// builds it from exact pieces: b·c = p + e (Dekker's product, Veltkamp's split), p + a = s + t (Knuth's
// two-sum), then s + (t + e), one rounding but for rare double-rounding ties; where that is NaN (an
// overflowing split, an infinite operand) what IEEE's fma gives. The device may flush subnormal values
// (below 1.2e-38) to zero, which the CPU keeps.
const FMA32 = /* wgsl */ `
fn isNan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
fn isInf(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) == 0x7f800000u; }
fn isFinite(x: f32) -> bool { return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u; }
fn split(x: f32) -> vec2f {
  let t = 4097.0 * x;
  let hi = t - (t - x);
  return vec2f(hi, x - hi);
}
fn fma32(b: f32, c: f32, a: f32) -> f32 {
  let p = b * c;
  let bs = split(b);
  let cs = split(c);
  let e = ((bs.x * cs.x - p) + bs.x * cs.y + bs.y * cs.x) + bs.y * cs.y;
  let s = p + a;
  let v = s - p;
  let t = (p - (s - v)) + (a - v);
  let r = s + (t + e);
  if (isNan(r)) {
    // an overflowing split (|x| past ~8e34) or product, or an infinite operand: the exact product of
    // finite b, c is finite, so an infinite a wins; else the plain sum (±inf or NaN, as IEEE says)
    if (isInf(a) && isFinite(b) && isFinite(c)) { return a; }
    return p + a;
  }
  return r;
}`;

const SGD_WGSL = /* wgsl */ `${FMA32}
struct P { n: u32, stride: u32, negLr: f32, sign: f32, wd: f32, mu: f32, keep: f32, flags: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read_write> W: array<f32>;
@group(0) @binding(2) var<storage, read> G: array<f32>;
@group(0) @binding(3) var<storage, read_write> V: array<f32>; // momentum buffer (unused without momentum)
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let i = g.y * p.stride + g.x;
  if (i >= p.n) { return; }
  var d = p.sign * G[i];
  if (p.wd != 0.0) { d = fma32(p.wd, W[i], d); }
  if ((p.flags & 1u) != 0u) { // momentum
    var b = d;
    if ((p.flags & 2u) == 0u) { b = fma32(p.keep, d, V[i] * p.mu); } // not the first step
    V[i] = b;
    if ((p.flags & 4u) != 0u) { d = fma32(p.mu, b, d); } else { d = b; } // Nesterov
  }
  W[i] = fma32(p.negLr, d, W[i]);
}`;

export interface GpuSgdStep {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  maximize: boolean;
  /** Whether the momentum buffer is fresh (torch's first step copies d into it). */
  first: boolean;
}

/**
 * One SGD step (torch.optim.SGD's update) in place on `w` (n) from `g` (n); `v` (n) is the momentum
 * buffer, required when `o.momentum` > 0 (else ignored).
 */
export function gpuSgdStep(
  ctx: WebGPUContext,
  w: GPUBuffer,
  g: GPUBuffer,
  v: GPUBuffer | null,
  n: number,
  o: GpuSgdStep,
): void {
  if (n === 0) return;
  if (o.momentum !== 0 && v === null) throw new Error("gpuSgdStep: momentum needs a momentum buffer");
  const groups = Math.ceil(n / WG);
  const gy = Math.ceil(groups / MAX_GROUPS);
  const gx = Math.ceil(groups / gy);
  const words = new ArrayBuffer(32);
  const dv = new DataView(words);
  dv.setUint32(0, n, true);
  dv.setUint32(4, gx * WG, true);
  dv.setFloat32(8, -o.lr, true);
  dv.setFloat32(12, o.maximize ? -1 : 1, true);
  dv.setFloat32(16, o.weightDecay, true);
  dv.setFloat32(20, o.momentum, true);
  dv.setFloat32(24, 1 - o.dampening, true);
  dv.setUint32(28, (o.momentum !== 0 ? 1 : 0) | (o.first ? 2 : 0) | (o.nesterov ? 4 : 0), true);
  const u = ctx.uniform(words);
  const unused = v === null ? ctx.storage(4) : null; // V may not alias G (read-only there)
  ctx.dispatch(ctx.pipeline(SGD_WGSL), [u, w, g, v ?? unused!], gx, gy);
  ctx.release(u);
  if (unused !== null) ctx.release(unused);
}

const ADAM_WGSL = /* wgsl */ `${FMA32}
struct P {
  n: u32, stride: u32, sign: f32, l2: f32, decay: f32, b1: f32, c1: f32, b2: f32,
  c2: f32, eps: f32, negStepSize: f32, bc2Sqrt: f32, amsgrad: u32,
}
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read_write> W: array<f32>;
@group(0) @binding(2) var<storage, read> G: array<f32>;
@group(0) @binding(3) var<storage, read_write> M: array<f32>;
@group(0) @binding(4) var<storage, read_write> V: array<f32>;
@group(0) @binding(5) var<storage, read_write> VMAX: array<f32>; // amsgrad only
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let i = g.y * p.stride + g.x;
  if (i >= p.n) { return; }
  var gi = p.sign * G[i];
  if (p.l2 != 0.0) { gi = fma32(p.l2, W[i], gi); }
  let mi = fma32(p.c1, gi, M[i] * p.b1);
  M[i] = mi;
  let vi = fma32(p.c2 * gi, gi, V[i] * p.b2);
  V[i] = vi;
  var vm = vi;
  if (p.amsgrad != 0u) {
    let old = VMAX[i];
    vm = select(vi, old, old > vi || isNan(old)); // NaN wins
    VMAX[i] = vm;
  }
  let denom = sqrt(vm) / p.bc2Sqrt + p.eps;
  W[i] = W[i] * p.decay + (p.negStepSize * mi) / denom;
}`;

/** The per-step scalars of an Adam(W) step, as optim/adam.ts computes them for kernels/adam.ts. */
export interface GpuAdamStep {
  sign: number;
  l2: number;
  decay: number;
  b1: number;
  c1: number;
  b2: number;
  c2: number;
  eps: number;
  negStepSize: number;
  bc2Sqrt: number;
}

/**
 * One Adam(W) step (kernels/adam.ts's update) in place on `w` (n), from `g` (n), updating the moments
 * `m`, `v` (n) and, with amsgrad, the running maximum `vMax` (n).
 */
export function gpuAdamStep(
  ctx: WebGPUContext,
  w: GPUBuffer,
  g: GPUBuffer,
  m: GPUBuffer,
  v: GPUBuffer,
  vMax: GPUBuffer | null,
  n: number,
  o: GpuAdamStep,
): void {
  if (n === 0) return;
  const groups = Math.ceil(n / WG);
  const gy = Math.ceil(groups / MAX_GROUPS);
  const gx = Math.ceil(groups / gy);
  const words = new ArrayBuffer(64);
  const dv = new DataView(words);
  dv.setUint32(0, n, true);
  dv.setUint32(4, gx * WG, true);
  [o.sign, o.l2, o.decay, o.b1, o.c1, o.b2, o.c2, o.eps, o.negStepSize, o.bc2Sqrt].forEach((x, k) => {
    dv.setFloat32(8 + 4 * k, x, true);
  });
  dv.setUint32(48, vMax === null ? 0 : 1, true);
  const u = ctx.uniform(words);
  const unused = vMax === null ? ctx.storage(4) : null;
  ctx.dispatch(ctx.pipeline(ADAM_WGSL), [u, w, g, m, v, vMax ?? unused!], gx, gy);
  ctx.release(u);
  if (unused !== null) ctx.release(unused);
}

/**
 * RMSprop's WGSL for one (centered, momentum) combination; fma32 where the CPU loop (optim/rmsprop.ts)
 * rounds a product and a sum once.
 */
function rmspropWgsl(centered: boolean, momentum: boolean): string {
  let binding = 4;
  const extra = [
    centered ? `@group(0) @binding(${binding++}) var<storage, read_write> GAVG: array<f32>; // (n)` : "",
    momentum ? `@group(0) @binding(${binding++}) var<storage, read_write> BUF: array<f32>; // (n)` : "",
  ].join("\n");
  return /* wgsl */ `${FMA32}
struct P { n: u32, stride: u32, sign: f32, wd: f32, alpha: f32, c: f32, eps: f32, negLr: f32, mu: f32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read_write> W: array<f32>;  // (n)
@group(0) @binding(2) var<storage, read> G: array<f32>;        // (n)
@group(0) @binding(3) var<storage, read_write> SQ: array<f32>; // (n) square_avg
${extra}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let i = g.y * p.stride + g.x;
  if (i >= p.n) { return; }
  var gi = p.sign * G[i];
  if (p.wd != 0.0) { gi = fma32(p.wd, W[i], gi); }
  let s = fma32(p.c * gi, gi, SQ[i] * p.alpha);
  SQ[i] = s;
  ${
    centered
      ? `let a = fma32(p.c, gi, GAVG[i] * p.alpha);
  GAVG[i] = a;
  let avg = sqrt(fma32(-a, a, s)) + p.eps;`
      : "let avg = sqrt(s) + p.eps;"
  }
  ${
    momentum
      ? `let b = BUF[i] * p.mu + gi / avg;
  BUF[i] = b;
  W[i] = fma32(p.negLr, b, W[i]);`
      : "W[i] = W[i] + (p.negLr * gi) / avg;"
  }
}`;
}

/** The per-step scalars of an RMSprop step, rounded to float32 as optim/rmsprop.ts rounds them. */
export interface GpuRmspropStep {
  sign: number;
  weightDecay: number;
  alpha: number;
  /** 1 - alpha */
  c: number;
  eps: number;
  negLr: number;
  momentum: number;
}

/**
 * One RMSprop step (torch.optim.RMSprop's update) in place on `w` (n) from `g` (n), updating square_avg
 * `sq` (n), with `centered` the running mean of g `gAvg` (n), with momentum the velocity `buf` (n).
 */
export function gpuRmspropStep(
  ctx: WebGPUContext,
  w: GPUBuffer,
  g: GPUBuffer,
  sq: GPUBuffer,
  gAvg: GPUBuffer | null,
  buf: GPUBuffer | null,
  n: number,
  o: GpuRmspropStep,
): void {
  if (n === 0) return;
  if (o.momentum > 0 && buf === null) throw new Error("gpuRmspropStep: momentum needs a momentum buffer");
  const groups = Math.ceil(n / WG);
  const gy = Math.ceil(groups / MAX_GROUPS);
  const gx = Math.ceil(groups / gy);
  const words = new ArrayBuffer(48);
  const dv = new DataView(words);
  dv.setUint32(0, n, true);
  dv.setUint32(4, gx * WG, true);
  [o.sign, o.weightDecay, o.alpha, o.c, o.eps, o.negLr, o.momentum].forEach((x, k) => {
    dv.setFloat32(8 + 4 * k, x, true);
  });
  const u = ctx.uniform(words);
  const momentum = o.momentum > 0;
  const bindings = [u, w, g, sq];
  if (gAvg !== null) bindings.push(gAvg);
  if (momentum) bindings.push(buf!);
  ctx.dispatch(ctx.pipeline(rmspropWgsl(gAvg !== null, momentum)), bindings, gx, gy);
  ctx.release(u);
}
