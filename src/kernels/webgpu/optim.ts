// Optimizer updates on the webgpu device: in-place WGSL kernels over a parameter's buffer, its gradient's
// and its state's, as the CPU loops of optim/*.ts compute them (float32 throughout).
//
// n = elements of the parameter

import type { WebGPUContext } from "./context.js";

const WG = 256;
const MAX_GROUPS = 65535;

const SGD_WGSL = /* wgsl */ `
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
  if (p.wd != 0.0) { d = d + p.wd * W[i]; }
  if ((p.flags & 1u) != 0u) { // momentum
    var b = d;
    if ((p.flags & 2u) == 0u) { b = p.mu * V[i] + p.keep * d; } // not the first step
    V[i] = b;
    if ((p.flags & 4u) != 0u) { d = d + p.mu * b; } else { d = b; } // Nesterov
  }
  W[i] = W[i] + p.negLr * d;
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

const ADAM_WGSL = /* wgsl */ `
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
  if (p.l2 != 0.0) { gi = gi + p.l2 * W[i]; }
  let wi = W[i] * p.decay;
  let mi = M[i] * p.b1 + p.c1 * gi;
  M[i] = mi;
  let vi = V[i] * p.b2 + (p.c2 * gi) * gi;
  V[i] = vi;
  var vm = vi;
  if (p.amsgrad != 0u) {
    vm = max(VMAX[i], vi);
    VMAX[i] = vm;
  }
  let denom = sqrt(vm) / p.bc2Sqrt + p.eps;
  W[i] = wi + (p.negStepSize * mi) / denom;
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
