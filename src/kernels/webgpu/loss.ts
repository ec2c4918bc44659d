// WGSL kernels of the losses (the device twins of nn/loss.ts's CPU kernels, with the same formulas): each
// forward writes the per-item losses, each backward the input (and target) gradients from the per-item
// gradient `dl` (the reduction's gradient expanded by core/device.ts). Pure kernels: buffers and sizes in,
// fresh output buffers out (the caller releases them).
//
// E = elements; cross entropy: the input viewed as (N, C, S), N = batch, C = classes, S = the rest

import type { WebGPUContext } from "./context.js";

const WG = 256;
const MAX_GROUPS = 65535;

function grid(n: number): [number, number] {
  const groups = Math.max(1, Math.ceil(n / WG));
  const y = Math.ceil(groups / MAX_GROUPS);
  return [Math.ceil(groups / y), y];
}

/** The pointwise losses of d = input − target: value and derivative in d, as nn/loss.ts. */
export const POINTWISE = {
  mse: { value: "d * d", grad: "2.0 * d" },
  l1: { value: "abs(d)", grad: "sign(d)" },
  // β = p.param; at β = 0 the branches d ≤ −β, d ≥ β decide, as in PyTorch
  smoothL1: {
    value: "select(abs(d) - 0.5 * p.param, 0.5 * d * d / p.param, abs(d) < p.param)",
    grad: "select(select(d / p.param, 1.0, d >= p.param), -1.0, d <= -p.param)",
  },
  // δ = p.param
  huber: {
    value: "select(p.param * (abs(d) - 0.5 * p.param), 0.5 * d * d, abs(d) < p.param)",
    grad: "clamp(d, -p.param, p.param)",
  },
} as const;
export type PointwiseLoss = keyof typeof POINTWISE;

function pointwiseWgsl(kind: PointwiseLoss, backward: boolean): string {
  const f = POINTWISE[kind];
  return /* wgsl */ `
struct P { n: u32, stride: u32, param: f32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> X: array<f32>;  // (E) input
@group(0) @binding(2) var<storage, read> Y: array<f32>;  // (E) target
${
  backward
    ? `@group(0) @binding(3) var<storage, read> dl: array<f32>; // (E)
@group(0) @binding(4) var<storage, read_write> dX: array<f32>; // (E)
@group(0) @binding(5) var<storage, read_write> dY: array<f32>; // (E)
fn grad(d: f32) -> f32 { return ${f.grad}; }`
    : `@group(0) @binding(3) var<storage, read_write> L: array<f32>; // (E)`
}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let i = g.y * p.stride + g.x;
  if (i >= p.n) { return; }
  let d = X[i] - Y[i];
  ${backward ? "dX[i] = grad(d) * dl[i];\n  dY[i] = grad(-d) * dl[i];" : `L[i] = ${f.value};`}
}`;
}

function words(ctx: WebGPUContext, n: number, gx: number, ...rest: [number, "u" | "f"][]): GPUBuffer {
  const b = new ArrayBuffer(8 + 4 * rest.length);
  const v = new DataView(b);
  v.setUint32(0, n, true);
  v.setUint32(4, gx * WG, true);
  rest.forEach(([x, t], k) => {
    if (t === "u") v.setUint32(8 + 4 * k, x, true);
    else v.setFloat32(8 + 4 * k, x, true);
  });
  return ctx.uniform(b);
}

/** L (E) = f(X − Y) elementwise, f the pointwise loss `kind` of parameter β or δ. */
export function gpuPointwiseLoss(
  ctx: WebGPUContext,
  kind: PointwiseLoss,
  param: number,
  x: GPUBuffer,
  y: GPUBuffer,
  E: number,
): GPUBuffer {
  const l = ctx.storage(E * 4);
  if (E === 0) return l;
  const [gx, gy] = grid(E);
  const u = words(ctx, E, gx, [param, "f"]);
  ctx.dispatch(ctx.pipeline(pointwiseWgsl(kind, false)), [u, x, y, l], gx, gy);
  ctx.release(u);
  return l;
}

/** dX (E) = f′(X − Y)·dl, dY (E) = f′(Y − X)·dl. */
export function gpuPointwiseLossBackward(
  ctx: WebGPUContext,
  kind: PointwiseLoss,
  param: number,
  x: GPUBuffer,
  y: GPUBuffer,
  dl: GPUBuffer,
  E: number,
): [GPUBuffer, GPUBuffer] {
  const dx = ctx.storage(E * 4);
  const dy = ctx.storage(E * 4);
  if (E === 0) return [dx, dy];
  const [gx, gy] = grid(E);
  const u = words(ctx, E, gx, [param, "f"]);
  ctx.dispatch(ctx.pipeline(pointwiseWgsl(kind, true)), [u, x, y, dl, dx, dy], gx, gy);
  ctx.release(u);
  return [dx, dy];
}

// Binary cross entropy on logits, as nn/loss.ts: with e = exp(−|x|) and sp = softplus(−x) = max(−x, 0) +
// log1p(e), loss = w·((1 − y)·x + (1 + (pw − 1)·y)·sp); dx = w·dl·((1 + (pw − 1)·y)·σ(x) − pw·y),
// dy = w·dl·((pw − 1)·sp − x). W and PW are expanded to (E) (flags say whether they are given).
function bceWgsl(backward: boolean): string {
  return /* wgsl */ `
struct P { n: u32, stride: u32, hasW: u32, hasPW: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> X: array<f32>;  // (E) logits
@group(0) @binding(2) var<storage, read> Y: array<f32>;  // (E) targets
@group(0) @binding(3) var<storage, read> W: array<f32>;  // (E) weight, or any buffer when hasW = 0
@group(0) @binding(4) var<storage, read> PW: array<f32>; // (E) posWeight, or any buffer when hasPW = 0
${
  backward
    ? `@group(0) @binding(5) var<storage, read> dl: array<f32>; // (E)
@group(0) @binding(6) var<storage, read_write> dX: array<f32>; // (E)
@group(0) @binding(7) var<storage, read_write> dY: array<f32>; // (E)`
    : "@group(0) @binding(5) var<storage, read_write> L: array<f32>; // (E)"
}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let i = g.y * p.stride + g.x;
  if (i >= p.n) { return; }
  let x = X[i];
  let y = Y[i];
  let w = select(1.0, W[i], p.hasW == 1u);
  let pw = select(1.0, PW[i], p.hasPW == 1u);
  let e = exp(-abs(x));
  // log1p(e): log(1 + e) loses e's digits where e is tiny; there its series
  let sp = max(-x, 0.0) + select(log(1.0 + e), e * (1.0 - 0.5 * e), e < 1e-4);
  ${
    backward
      ? `let sig = select(e / (1.0 + e), 1.0 / (1.0 + e), x >= 0.0);
  let gw = w * dl[i];
  dX[i] = gw * ((1.0 + (pw - 1.0) * y) * sig - pw * y);
  dY[i] = gw * ((pw - 1.0) * sp - x);`
      : "L[i] = w * ((1.0 - y) * x + (1.0 + (pw - 1.0) * y) * sp);"
  }
}`;
}

/** The per-element losses (E) of binary cross entropy on logits X against Y, weights expanded to (E). */
export function gpuBceWithLogits(
  ctx: WebGPUContext,
  x: GPUBuffer,
  y: GPUBuffer,
  w: GPUBuffer | null,
  pw: GPUBuffer | null,
  E: number,
): GPUBuffer {
  const l = ctx.storage(E * 4);
  if (E === 0) return l;
  const [gx, gy] = grid(E);
  const u = words(ctx, E, gx, [w ? 1 : 0, "u"], [pw ? 1 : 0, "u"]);
  ctx.dispatch(ctx.pipeline(bceWgsl(false)), [u, x, y, w ?? x, pw ?? x, l], gx, gy);
  ctx.release(u);
  return l;
}

/** [dX, dY] (E each) of binary cross entropy on logits, from the per-element gradient dl (E). */
export function gpuBceWithLogitsBackward(
  ctx: WebGPUContext,
  x: GPUBuffer,
  y: GPUBuffer,
  w: GPUBuffer | null,
  pw: GPUBuffer | null,
  dl: GPUBuffer,
  E: number,
): [GPUBuffer, GPUBuffer] {
  const dx = ctx.storage(E * 4);
  const dy = ctx.storage(E * 4);
  if (E === 0) return [dx, dy];
  const [gx, gy] = grid(E);
  const u = words(ctx, E, gx, [w ? 1 : 0, "u"], [pw ? 1 : 0, "u"]);
  ctx.dispatch(ctx.pipeline(bceWgsl(true)), [u, x, y, w ?? x, pw ?? x, dl, dx, dy], gx, gy);
  ctx.release(u);
  return [dx, dy];
}

// Cross entropy over the class dimension, one thread per column (n, s), as nn/loss.ts: lse = log Σ_c exp x_c
// (max-shifted), and loss = Σ_c a_c·(lse − x_c), dx_c = dl·(A·p_c − a_c), A = Σ_c a_c, where
//   class indices t (−1: ignored, loss 0):  a_c = (1 − ε)·w_t·[c = t] + (ε/C)·w_c
//   class probabilities y:                  a_c = w_c·((1 − ε)·y_c + ε/C), and dy_c = dl·(1 − ε)·w_c·(lse − x_c)
// The index forward also writes each column's w_t (0 where ignored): the "mean" denominator's terms.
function crossEntropyWgsl(prob: boolean, backward: boolean): string {
  const a = prob
    ? "wc(c) * ((1.0 - p.eps) * T[base + c * p.S] + p.eps / f32(p.C))"
    : "select(0.0, (1.0 - p.eps) * wc(t), c == t) + p.eps / f32(p.C) * wc(c)";
  return /* wgsl */ `
struct P { n: u32, stride: u32, C: u32, S: u32, eps: f32, hasW: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> X: array<f32>; // (N, C, S) logits
@group(0) @binding(2) var<storage, read> T: array<${prob ? "f32" : "i32"}>; // ${prob ? "(N, C, S) probabilities" : "(N, S) class indices, −1 ignored"}
@group(0) @binding(3) var<storage, read> W: array<f32>; // (C) class weights, or any buffer when hasW = 0
${
  backward
    ? `@group(0) @binding(4) var<storage, read> dl: array<f32>; // (N, S)
@group(0) @binding(5) var<storage, read_write> dX: array<f32>; // (N, C, S)
${prob ? "@group(0) @binding(6) var<storage, read_write> dY: array<f32>; // (N, C, S)" : ""}`
    : `@group(0) @binding(4) var<storage, read_write> L: array<f32>; // (N, S)
@group(0) @binding(5) var<storage, read_write> WT: array<f32>; // (N, S)`
}
fn wc(c: u32) -> f32 { return select(1.0, W[c], p.hasW == 1u); }
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let col = g.y * p.stride + g.x;
  if (col >= p.n) { return; }
  let base = (col / p.S) * p.C * p.S + col % p.S;
  ${
    prob
      ? ""
      : `let ti = T[col];
  if (ti < 0) {
    ${backward ? "for (var c = 0u; c < p.C; c++) { dX[base + c * p.S] = 0.0; }" : "L[col] = 0.0;\n    WT[col] = 0.0;"}
    return;
  }
  let t = u32(ti);`
  }
  var m = -3.4028234663852886e38;
  for (var c = 0u; c < p.C; c++) { m = max(m, X[base + c * p.S]); }
  var s = 0.0;
  for (var c = 0u; c < p.C; c++) { s += exp(X[base + c * p.S] - m); }
  let lse = m + log(s);
  ${
    backward
      ? `var A = 0.0;
  for (var c = 0u; c < p.C; c++) { A += ${a}; }
  let gl = dl[col];
  for (var c = 0u; c < p.C; c++) {
    let i = base + c * p.S;
    dX[i] = gl * (A * exp(X[i] - lse) - (${a}));
    ${prob ? "dY[i] = gl * (1.0 - p.eps) * wc(c) * (lse - X[i]);" : ""}
  }`
      : `var l = 0.0;
  for (var c = 0u; c < p.C; c++) { l += (${a}) * (lse - X[base + c * p.S]); }
  L[col] = l;
  WT[col] = ${prob ? "1.0" : "wc(t)"};`
  }
}`;
}

/**
 * The per-column losses L (N·S) of cross entropy of logits X (N, C, S) against class indices T (i32, −1
 * ignored) or probabilities T (f32, (N, C, S)), with class weights W (C) and label smoothing eps; and WT
 * (N·S), each column's weight of its target (0 where ignored; 1 for probabilities).
 */
export function gpuCrossEntropy(
  ctx: WebGPUContext,
  prob: boolean,
  x: GPUBuffer,
  t: GPUBuffer,
  w: GPUBuffer | null,
  eps: number,
  N: number,
  C: number,
  S: number,
): [GPUBuffer, GPUBuffer] {
  const cols = N * S;
  const l = ctx.storage(cols * 4);
  const wt = ctx.storage(cols * 4);
  if (cols === 0) return [l, wt];
  const [gx, gy] = grid(cols);
  const u = words(ctx, cols, gx, [C, "u"], [S, "u"], [eps, "f"], [w ? 1 : 0, "u"]);
  ctx.dispatch(ctx.pipeline(crossEntropyWgsl(prob, false)), [u, x, t, w ?? x, l, wt], gx, gy);
  ctx.release(u);
  return [l, wt];
}

/** [dX, dY] (N, C, S) of cross entropy from the per-column gradient dl (N·S); dY (probabilities) or null. */
export function gpuCrossEntropyBackward(
  ctx: WebGPUContext,
  prob: boolean,
  x: GPUBuffer,
  t: GPUBuffer,
  w: GPUBuffer | null,
  eps: number,
  dl: GPUBuffer,
  N: number,
  C: number,
  S: number,
): [GPUBuffer, GPUBuffer | null] {
  const cols = N * S;
  const dx = ctx.storage(cols * C * 4);
  const dy = prob ? ctx.storage(cols * C * 4) : null;
  if (cols === 0) return [dx, dy];
  const [gx, gy] = grid(cols);
  const u = words(ctx, cols, gx, [C, "u"], [S, "u"], [eps, "f"], [w ? 1 : 0, "u"]);
  const bindings = [u, x, t, w ?? x, dl, dx];
  if (dy !== null) bindings.push(dy);
  ctx.dispatch(ctx.pipeline(crossEntropyWgsl(prob, true)), bindings, gx, gy);
  ctx.release(u);
  return [dx, dy];
}
