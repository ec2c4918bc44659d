// WGSL kernels of the sequence-model layers on the device (core/device-nn.ts lifts them into autograd):
// the scatter-add that is the backward of a gather with repeats (embedding lookups, im2col, nll's picks),
// the in-place max-norm of embedding rows, and layer normalization's forward and backward. Pure kernels:
// buffers and sizes in, dispatches recorded on the context, fresh output buffers returned.
//
// R = rows gathered from (or scattered to), C = columns per row, P = gathered positions, M = rows
// normalized, D = normalized size

import type { WebGPUContext } from "./context.js";

const WG = 256; // threads per workgroup
const MAX_GROUPS = 65535; // WebGPU's default maxComputeWorkgroupsPerDimension

/** Workgroups for n threads as (x, y): x·y·WG ≥ n, both within the per-dimension limit. */
function grid(n: number): [number, number] {
  const groups = Math.max(1, Math.ceil(n / WG));
  const y = Math.ceil(groups / MAX_GROUPS);
  return [Math.ceil(groups / y), y];
}

/** A uniform of u32 words, then f32 words (WGSL structs with both kinds of fields). */
function words(u32: readonly number[], f32: readonly number[] = []): ArrayBuffer {
  const buf = new ArrayBuffer((u32.length + f32.length) * 4);
  new Uint32Array(buf, 0, u32.length).set(u32);
  new Float32Array(buf, u32.length * 4, f32.length).set(f32);
  return buf;
}

/** A storage buffer of `data`, never empty (WebGPU bindings need at least one element). */
function uploadNonEmpty(ctx: WebGPUContext, data: Uint32Array | Float32Array): GPUBuffer {
  return ctx.upload(data.length > 0 ? data : new Uint32Array(1));
}

// ---------------------------------------------------------------------------------------------------------
// Scatter-add: the gradient of a gather whose rows may repeat. The positions that read row r are listed
// (CSR) on the CPU, so each output element is one thread summing its own list: no atomics, and the same
// order of additions on every run.

function scatterWgsl(scaled: boolean): string {
  return /* wgsl */ `
struct P { n: u32, stride: u32, cols: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> G: array<f32>;
@group(0) @binding(2) var<storage, read> off: array<u32>;
@group(0) @binding(3) var<storage, read> pos: array<u32>;
@group(0) @binding(4) var<storage, read_write> DX: array<f32>;
${scaled ? "@group(0) @binding(5) var<storage, read> S: array<f32>;" : ""}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let i = g.y * p.stride + g.x;
  if (i >= p.n) { return; }
  let r = i / p.cols;
  let c = i % p.cols;
  var s = 0.0;
  for (var k = off[r]; k < off[r + 1u]; k++) {
    s += G[pos[k] * p.cols + c]${scaled ? " * S[k]" : ""};
  }
  DX[i] = s;
}`;
}

/** The lists of a scatter: for each of R rows, the positions (and their scales) that add into it. */
export interface ScatterPlan {
  rows: number;
  /** (R + 1) start of each row's positions in `pos` */
  off: Uint32Array;
  /** (≤ P) the positions, by row */
  pos: Uint32Array;
  /** (≤ P) each listed position's factor, or null for 1 */
  scale: Float32Array | null;
}

/**
 * The plan of the scatter-add that inverts a gather: position i of the gather read row index[i] (−1: none,
 * and not listed), and adds back into it times scale[i] when given.
 */
export function scatterPlan(index: Int32Array, rows: number, scale: Float32Array | null = null): ScatterPlan {
  const off = new Uint32Array(rows + 1);
  for (const r of index) if (r >= 0) off[r + 1]++;
  for (let r = 0; r < rows; r++) off[r + 1] += off[r];
  const fill = off.slice(0, rows);
  const pos = new Uint32Array(off[rows]);
  const s = scale === null ? null : new Float32Array(off[rows]);
  for (let i = 0; i < index.length; i++) {
    const r = index[i];
    if (r < 0) continue;
    const k = fill[r]++;
    pos[k] = i;
    if (s !== null) s[k] = scale![i];
  }
  return { rows, off, pos, scale: s };
}

/** DX (R, C): row r = Σ over the plan's positions k of row r: G[pos[k], :]·scale[k]. In a new buffer. */
export function gpuScatterAdd(ctx: WebGPUContext, g: GPUBuffer, plan: ScatterPlan, cols: number): GPUBuffer {
  const n = plan.rows * cols;
  const dx = ctx.storage(n * 4);
  if (n === 0) return dx;
  const [gx, gy] = grid(n);
  const u = ctx.uniform([n, gx * WG, cols]);
  const off = ctx.upload(plan.off);
  const pos = uploadNonEmpty(ctx, plan.pos);
  const bindings = [u, g, off, pos, dx];
  const scale = plan.scale === null ? null : uploadNonEmpty(ctx, plan.scale);
  if (scale !== null) bindings.push(scale);
  ctx.dispatch(ctx.pipeline(scatterWgsl(scale !== null)), bindings, gx, gy);
  for (const b of [u, off, pos, scale]) if (b !== null) ctx.release(b);
  return dx;
}

// ---------------------------------------------------------------------------------------------------------
// Embedding max-norm: rows named in the lookup whose p-norm exceeds maxNorm are rescaled in place to
// maxNorm/(norm + 1e-7), as embedding_renorm_ (p = +inf: the largest magnitude).

const RENORM_WGSL = /* wgsl */ `
struct P { n: u32, stride: u32, cols: u32, inf: u32, maxNorm: f32, p: f32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> rows: array<u32>;
@group(0) @binding(2) var<storage, read_write> W: array<f32>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let i = g.y * p.stride + g.x;
  if (i >= p.n) { return; }
  let o = rows[i] * p.cols;
  var s = 0.0;
  for (var j = 0u; j < p.cols; j++) {
    let a = abs(W[o + j]);
    if (p.inf == 1u) { s = max(s, a); } else if (p.p == 1.0) { s += a; } else if (p.p == 2.0) { s += a * a; }
    else if (a > 0.0) { s += pow(a, p.p); }
  }
  var norm = s;
  if (p.inf == 0u) {
    if (p.p == 2.0) { norm = sqrt(s); } else if (p.p != 1.0 && s > 0.0) { norm = pow(s, 1.0 / p.p); }
  }
  if (norm > p.maxNorm) {
    let k = p.maxNorm / (norm + 1e-7);
    for (var j = 0u; j < p.cols; j++) { W[o + j] = W[o + j] * k; }
  }
}`;

/** Rescales in place the rows `rows` (distinct) of W (R, C) whose p-norm passes maxNorm. */
export function gpuEmbeddingRenorm(
  ctx: WebGPUContext,
  w: GPUBuffer, // (R, C), written in place
  rows: Uint32Array, // distinct row numbers
  cols: number,
  maxNorm: number,
  p: number,
): void {
  if (rows.length === 0 || cols === 0) return;
  const [gx, gy] = grid(rows.length);
  const inf = p === Number.POSITIVE_INFINITY ? 1 : 0;
  const u = ctx.uniform(words([rows.length, gx * WG, cols, inf], [maxNorm, inf ? 0 : p]));
  const r = ctx.upload(rows);
  ctx.dispatch(ctx.pipeline(RENORM_WGSL), [u, r, w], gx, gy);
  ctx.release(u);
  ctx.release(r);
}

// ---------------------------------------------------------------------------------------------------------
// Layer normalization over the last D elements of each of M rows: one thread per row (the forward and dx),
// one per column (dw and db, summed over the rows). mean and rstd = 1/sqrt(var + eps) are kept for the
// backward, as the CPU kernels (kernels/seq.ts) keep them.

function layerNormWgsl(affine: boolean): string {
  return /* wgsl */ `
struct P { n: u32, stride: u32, d: u32, eps: f32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;
@group(0) @binding(3) var<storage, read_write> MEAN: array<f32>;
@group(0) @binding(4) var<storage, read_write> RSTD: array<f32>;
${affine ? "@group(0) @binding(5) var<storage, read> W: array<f32>;\n@group(0) @binding(6) var<storage, read> B: array<f32>;" : ""}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let m = g.y * p.stride + g.x;
  if (m >= p.n) { return; }
  let o = m * p.d;
  var s = 0.0;
  for (var j = 0u; j < p.d; j++) { s += X[o + j]; }
  let mu = s / f32(p.d);
  var v = 0.0;
  for (var j = 0u; j < p.d; j++) { let c = X[o + j] - mu; v += c * c; }
  let r = 1.0 / sqrt(v / f32(p.d) + p.eps);
  MEAN[m] = mu;
  RSTD[m] = r;
  for (var j = 0u; j < p.d; j++) {
    let xh = (X[o + j] - mu) * r;
    Y[o + j] = ${affine ? "xh * W[j] + B[j]" : "xh"};
  }
}`;
}

/** y (M, D) = (x − mean)·rstd (·w + b when affine), with mean and rstd (M). Three new buffers. */
export function gpuLayerNorm(
  ctx: WebGPUContext,
  x: GPUBuffer, // (M, D)
  w: GPUBuffer | null, // (D)
  b: GPUBuffer | null, // (D), given with w
  M: number,
  D: number,
  eps: number,
): { y: GPUBuffer; mean: GPUBuffer; rstd: GPUBuffer } {
  const y = ctx.storage(M * D * 4);
  const mean = ctx.storage(Math.max(M, 1) * 4);
  const rstd = ctx.storage(Math.max(M, 1) * 4);
  if (M * D === 0) return { y, mean, rstd };
  const [gx, gy] = grid(M);
  const u = ctx.uniform(words([M, gx * WG, D], [eps]));
  const bindings = [u, x, y, mean, rstd];
  if (w !== null) bindings.push(w, b!);
  ctx.dispatch(ctx.pipeline(layerNormWgsl(w !== null)), bindings, gx, gy);
  ctx.release(u);
  return { y, mean, rstd };
}

function layerNormDxWgsl(affine: boolean): string {
  return /* wgsl */ `
struct P { n: u32, stride: u32, d: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> MEAN: array<f32>;
@group(0) @binding(3) var<storage, read> RSTD: array<f32>;
@group(0) @binding(4) var<storage, read> DY: array<f32>;
@group(0) @binding(5) var<storage, read_write> DX: array<f32>;
${affine ? "@group(0) @binding(6) var<storage, read> W: array<f32>;" : ""}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let m = g.y * p.stride + g.x;
  if (m >= p.n) { return; }
  let o = m * p.d;
  let mu = MEAN[m];
  let r = RSTD[m];
  var sg = 0.0;
  var sgx = 0.0;
  for (var j = 0u; j < p.d; j++) {
    let gj = DY[o + j]${affine ? " * W[j]" : ""};
    sg += gj;
    sgx += gj * (X[o + j] - mu) * r;
  }
  let mg = sg / f32(p.d);
  let mgx = sgx / f32(p.d);
  for (var j = 0u; j < p.d; j++) {
    let gj = DY[o + j]${affine ? " * W[j]" : ""};
    DX[o + j] = r * (gj - mg - (X[o + j] - mu) * r * mgx);
  }
}`;
}

const LAYER_NORM_DWB_WGSL = /* wgsl */ `
struct P { n: u32, stride: u32, m: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> MEAN: array<f32>;
@group(0) @binding(3) var<storage, read> RSTD: array<f32>;
@group(0) @binding(4) var<storage, read> DY: array<f32>;
@group(0) @binding(5) var<storage, read_write> DW: array<f32>;
@group(0) @binding(6) var<storage, read_write> DB: array<f32>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let j = g.y * p.stride + g.x;
  if (j >= p.n) { return; }
  var sw = 0.0;
  var sb = 0.0;
  for (var m = 0u; m < p.m; m++) {
    let i = m * p.n + j;
    sw += DY[i] * (X[i] - MEAN[m]) * RSTD[m];
    sb += DY[i];
  }
  DW[j] = sw;
  DB[j] = sb;
}`;

/**
 * The backward of gpuLayerNorm: dx (M, D) = rstd·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)) with ĝ = dy·w, and when
 * `dwb`, dw = Σ_rows dy·x̂ and db = Σ_rows dy (D each). New buffers (null where not asked).
 */
export function gpuLayerNormBackward(
  ctx: WebGPUContext,
  x: GPUBuffer, // (M, D)
  w: GPUBuffer | null, // (D)
  mean: GPUBuffer, // (M)
  rstd: GPUBuffer, // (M)
  dy: GPUBuffer, // (M, D)
  M: number,
  D: number,
  dx: boolean,
  dwb: boolean,
): { dx: GPUBuffer | null; dw: GPUBuffer | null; db: GPUBuffer | null } {
  const out: { dx: GPUBuffer | null; dw: GPUBuffer | null; db: GPUBuffer | null } = {
    dx: null,
    dw: null,
    db: null,
  };
  if (dx) {
    out.dx = ctx.storage(M * D * 4);
    if (M * D > 0) {
      const [gx, gy] = grid(M);
      const u = ctx.uniform([M, gx * WG, D]);
      const bindings = [u, x, mean, rstd, dy, out.dx];
      if (w !== null) bindings.push(w);
      ctx.dispatch(ctx.pipeline(layerNormDxWgsl(w !== null)), bindings, gx, gy);
      ctx.release(u);
    }
  }
  if (dwb) {
    out.dw = ctx.storage(D * 4);
    out.db = ctx.storage(D * 4);
    if (D > 0) {
      if (M === 0) {
        ctx.write(out.dw, new Float32Array(D));
        ctx.write(out.db, new Float32Array(D));
      } else {
        const [gx, gy] = grid(D);
        const u = ctx.uniform([D, gx * WG, M]);
        ctx.dispatch(ctx.pipeline(LAYER_NORM_DWB_WGSL), [u, x, mean, rstd, dy, out.dw, out.db], gx, gy);
        ctx.release(u);
      }
    }
  }
  return out;
}
