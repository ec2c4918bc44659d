// WGSL sources of the recurrent layers on WebGPU (recurrent.ts drives them): a tiled matrix product for
// everything that is a sum over all rows (the input projection, dX, the weight gradients), and per time step
// one fused kernel that multiplies the running state by the recurrent weights and applies the cell.
//
// T = time, B = batch, I = input, H = hidden, P = proj (0 = none), R = size of h (P if P > 0, else H),
// G = gates·H (RNN 1·H; LSTM 4·H in order i, f, g, o; GRU 3·H in order r, z, n), N = rows = Σ batchSizes
//
// Rows follow rnn.ts: the sequence is packed, the rows of one step contiguous, row b of every step belonging
// to sequence b. Instead of walking steps on the host, the kernels find a row's neighbours in `links`, an
// i32 buffer written once per call (-1 = none):
//   [0, N)        prev[row]: the row the forward processed just before for the same sequence (-1: start, h0)
//   [N, 2N)       next[row]: the row the forward processed just after it (-1: the sequence's last, hN)
//   [2N, 3N)      seq[row]: the sequence (batch index) of the row
//   [3N, 3N+B)    first[b]: the row of sequence b's first step (-1: it never runs)
//   [3N+B, 3N+2B) last[b]: the row of sequence b's last step (-1: it never runs)
// so a step is (off, bt): rows [off, off + bt), sequences 0 .. bt-1, in either direction.
//
// Every kernel declares exactly the bindings it reads or writes, in the order of its `bindings` list, and
// then one uniform (`u`); recurrent.ts binds buffers by those names.

import type { RnnMode } from "../rnn.js";
import { UNARY_OPS } from "./ops.js";

/** One compute entry point: its WGSL module, the storage bindings in order (the uniform comes last). */
export interface WgslKernel {
  readonly code: string;
  readonly entry: string;
  readonly bindings: readonly string[];
}

type Access = "read" | "read_write";
type Binding = readonly [name: string, access: Access, element?: "f32" | "i32"];

function declare(bindings: readonly Binding[], uniformStruct: string): string {
  const lines = bindings.map(
    ([name, access, el], i) =>
      `@group(0) @binding(${i}) var<storage, ${access}> ${name}: array<${el ?? "f32"}>;`,
  );
  lines.push(`@group(0) @binding(${bindings.length}) var<uniform> u: ${uniformStruct};`);
  return lines.join("\n");
}

function kernel(bindings: readonly Binding[], uniform: string, body: string, entry: string): WgslKernel {
  const structName = uniform.match(/struct (\w+)/)![1];
  return {
    code: `${uniform}\n${declare(bindings, structName)}\n${MATH}\n${body}`,
    entry,
    bindings: bindings.map((b) => b[0]),
  };
}

// tanh as the element-wise ops compute it (ops.ts: exact for tiny x, saturating without overflow)
const MATH = /* wgsl */ `
fn sigm(x: f32) -> f32 { return 1.0 / (1.0 + exp(-x)); }
fn th(x: f32) -> f32 { return ${UNARY_OPS.tanh}; }
`;

// ---------------------------------------------------------------------------------------------------------
// Matrix product: C[M, N] = op(A)[M, K] · op(B)[K, N] (+ C if beta) (+ bias[N]) (+ bias2[N]),
// op = transpose when transA / transB. Offsets and leading dimensions in elements, as in gemm.ts.
// A 64×64 tile of C per workgroup of 16×16 threads, 4×4 outputs per thread, K in slices of 16 through
// workgroup memory.

const MM_UNIFORM = /* wgsl */ `struct MM {
  M: u32, N: u32, K: u32, lda: u32,
  ldb: u32, ldc: u32, aOff: u32, bOff: u32,
  cOff: u32, beta: u32, nBias: u32, pad: u32,
}`;

/** Uniform words of the product: M, N, K, lda, ldb, ldc, aOff, bOff, cOff, beta, nBias, 0. */
export const MM_WORDS = 12;

export function matmulKernel(transA: boolean, transB: boolean): WgslKernel {
  const a = transA ? "A[u.aOff + k * u.lda + m]" : "A[u.aOff + m * u.lda + k]";
  const b = transB ? "B[u.bOff + n * u.ldb + k]" : "B[u.bOff + k * u.ldb + n]";
  const body = /* wgsl */ `
const TS: u32 = 64u;
const KT: u32 = 16u;
var<workgroup> As: array<f32, 1024>; // [TS rows][KT]
var<workgroup> Bs: array<f32, 1024>; // [KT][TS cols]

fn loadA(m: u32, k: u32) -> f32 { if (m < u.M && k < u.K) { return ${a}; } return 0.0; }
fn loadB(k: u32, n: u32) -> f32 { if (k < u.K && n < u.N) { return ${b}; } return 0.0; }

@compute @workgroup_size(16, 16)
fn matmul(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let m0 = wg.y * TS;
  let n0 = wg.x * TS;
  let t = lid.y * 16u + lid.x;
  var acc: array<array<f32, 4>, 4>;
  for (var k0 = 0u; k0 < u.K; k0 += KT) {
    for (var i = 0u; i < 4u; i++) {
      let e = t * 4u + i;
      As[e] = loadA(m0 + e / KT, k0 + e % KT);
      Bs[e] = loadB(k0 + e / TS, n0 + e % TS);
    }
    workgroupBarrier();
    for (var k = 0u; k < KT; k++) {
      var av: array<f32, 4>;
      var bv: array<f32, 4>;
      for (var i = 0u; i < 4u; i++) {
        av[i] = As[(lid.y * 4u + i) * KT + k];
        bv[i] = Bs[k * TS + lid.x * 4u + i];
      }
      for (var i = 0u; i < 4u; i++) {
        for (var j = 0u; j < 4u; j++) { acc[i][j] = fma(av[i], bv[j], acc[i][j]); }
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let m = m0 + lid.y * 4u + i;
    if (m >= u.M) { break; }
    for (var j = 0u; j < 4u; j++) {
      let n = n0 + lid.x * 4u + j;
      if (n >= u.N) { break; }
      let q = u.cOff + m * u.ldc + n;
      var v = acc[i][j];
      if (u.beta != 0u) { v += C[q]; }
      if (u.nBias > 0u) { v += bias[n]; }
      if (u.nBias > 1u) { v += bias2[n]; }
      C[q] = v;
    }
  }
}`;
  return kernel(
    [
      ["A", "read"],
      ["B", "read"],
      ["bias", "read"],
      ["bias2", "read"],
      ["C", "read_write"],
    ],
    MM_UNIFORM,
    body,
    "matmul",
  );
}

// ---------------------------------------------------------------------------------------------------------
// Small helpers: column sums (bias gradients), a transpose, and a row gather.

const AUX_UNIFORM = /* wgsl */ `struct Aux { rows: u32, cols: u32, a: u32, b: u32, c: u32, d: u32, p0: u32, p1: u32 }`;

/** out[j] += Σ_n X[a + n·cols + j] for j < cols, n < rows. Uniform: rows, cols, a. */
export function colSumKernel(): WgslKernel {
  const body = /* wgsl */ `
@compute @workgroup_size(64)
fn colsum(@builtin(global_invocation_id) gid: vec3u) {
  let j = gid.x;
  if (j >= u.cols) { return; }
  var s = 0.0;
  for (var n = 0u; n < u.rows; n++) { s += X[u.a + n * u.cols + j]; }
  out[j] = out[j] + s;
}`;
  return kernel(
    [
      ["X", "read"],
      ["out", "read_write"],
    ],
    AUX_UNIFORM,
    body,
    "colsum",
  );
}

/** out[c·rows + r] = X[r·cols + c]: a (rows, cols) matrix transposed. Uniform: rows, cols. */
export function transposeKernel(): WgslKernel {
  const body = /* wgsl */ `
@compute @workgroup_size(8, 8)
fn transpose(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  let r = gid.y;
  if (r < u.rows && c < u.cols) { out[c * u.rows + r] = X[r * u.cols + c]; }
}`;
  return kernel(
    [
      ["X", "read"],
      ["out", "read_write"],
    ],
    AUX_UNIFORM,
    body,
    "transpose",
  );
}

/**
 * out[i, :] = src[idx[i], :] where idx[i] ≥ 0, else fallback[fb(i), :] (rows of `cols` floats, src from
 * float c, fallback from float d), with idx = links[a + i] and fb(i) = i, or links[b + i] when
 * b ≠ 0xffffffff. Uniform: rows, cols, a, b, c, d.
 */
export function gatherKernel(): WgslKernel {
  const body = /* wgsl */ `
@compute @workgroup_size(64)
fn gather(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u,
          @builtin(num_workgroups) nwg: vec3u) {
  let c = wg.x * 64u + lid.x;
  if (c >= u.cols) { return; }
  for (var i = wg.y; i < u.rows; i += nwg.y) {
    let s = links[u.a + i];
    var v: f32;
    if (s >= 0) {
      v = src[u.c + u32(s) * u.cols + c];
    } else {
      var f = i;
      if (u.b != 0xffffffffu) { f = u32(links[u.b + i]); }
      v = fallback[u.d + f * u.cols + c];
    }
    out[i * u.cols + c] = v;
  }
}`;
  return kernel(
    [
      ["links", "read", "i32"],
      ["src", "read"],
      ["fallback", "read"],
      ["out", "read_write"],
    ],
    AUX_UNIFORM,
    body,
    "gather",
  );
}

/** Uniform words of the helpers above. */
export const AUX_WORDS = 8;

// The recurrence. Each step kernel is a product of BT batch rows by a weight matrix, reduced over K in
// slices of KT through workgroup memory, followed by the cell's element-wise work: a workgroup covers 64
// hidden units (threads) × BT sequences; each thread keeps BT × NQ sums (NQ gates of its unit).
//
// WebGPU guarantees only 8 storage buffers per shader stage, so the per-row state travels packed:
//   sv (saved by the forward for the backward): gates (N, G) | LSTM: c (N, H) | tanh c (N, H) | o·tanh c
//       (N, H), with a projection only  —  GRU: gates (N, G) | W_hn h + b_hn (N, H)
//   st (the call's initial and final states): h0 (B, R) | c0 (B, H) | dHn (B, R) | dCn (B, H)
//   gg (GRU backward): dG (N, G) | dGh (N, G) | d·z (N, H)

/** Float offsets inside sv, st and gg (see above). */
export function packedOffsets(N: number, B: number, H: number, R: number, G: number) {
  return {
    svC: N * G,
    svTc: N * G + N * H,
    svHn: N * G,
    svHu: N * G + 2 * N * H,
    stC0: B * R,
    stDHn: B * R + B * H,
    stDCn: 2 * B * R + B * H,
    stSize: 2 * B * (R + H),
    ggDGh: N * G,
    ggDz: 2 * N * G,
  };
}

const STEP_UNIFORM = /* wgsl */ `struct Step {
  off: u32, bt: u32, N: u32, B: u32,
  H: u32, R: u32, G: u32, P: u32,
  flags: u32, p1: u32, p2: u32, p3: u32,
}`;

/** Uniform words of a step: off, bt, N, B, H, R, G, P, flags, 0, 0, 0. */
export const STEP_WORDS = 12;
/** flags: dY is present (backward). */
export const FLAG_DY = 1;
/** flags: bwd_dh computes dH0 from each sequence's first row instead of dh at the step's rows. */
export const FLAG_FIRST = 2;
/** Sequences per workgroup in the step kernels. */
export const STEP_BT = 4;

/**
 * The reduction shared by the step kernels: acc[r][q] = Σ_{k<K} src(b0 + r, k) · W[k·ldw + q·qs + j] for the
 * BT sequences b0 + r < bt. `src` is a WGSL function (b, k) -> f32, called only for b < bt, k < K.
 */
/** The reduction's inner step with constant indices (registers, not a local array, on every compiler). */
function unrolled(nq: number, w: string, qs: string): string {
  const lines: string[] = [];
  for (let q = 0; q < nq; q++) lines.push(`let w${q} = ${w}[wr${q === 0 ? "" : ` + ${q}u * ${qs}`}];`);
  for (let r = 0; r < STEP_BT; r++) lines.push(`let t${r} = tile[${r}u * KT + kk];`);
  for (let r = 0; r < STEP_BT; r++) {
    for (let q = 0; q < nq; q++) lines.push(`acc[${r}][${q}] = fma(t${r}, w${q}, acc[${r}][${q}]);`);
  }
  return lines.map((l) => `\n        ${l}`).join("");
}

function reduction(nq: number, K: string, src: string, w: string, ldw: string, qs: string): string {
  return /* wgsl */ `
  let j = wg.x * 64u + lid.x;
  let b0 = wg.y * BT;
  var acc: array<array<f32, ${nq}>, BT>;
  for (var k0 = 0u; k0 < ${K}; k0 += KT) {
    for (var r = 0u; r < BT; r++) {
      let b = b0 + r;
      let k = k0 + lid.x;
      var v = 0.0;
      if (b < u.bt && k < ${K}) { v = ${src}(b, k); }
      tile[r * KT + lid.x] = v;
    }
    workgroupBarrier();
    if (j < ${qs}) {
      let kn = min(KT, ${K} - k0);
      for (var kk = 0u; kk < kn; kk++) {
        let wr = (k0 + kk) * ${ldw} + j;${unrolled(nq, w, qs)}
      }
    }
    workgroupBarrier();
  }
  if (j >= ${qs}) { return; }`;
}

// the packed offsets as WGSL expressions of the uniform
const STEP_HEAD = /* wgsl */ `
const BT: u32 = ${STEP_BT}u;
const KT: u32 = 64u;
var<workgroup> tile: array<f32, ${STEP_BT * 64}>; // [BT][KT]
fn prevRow(row: u32) -> i32 { return links[row]; }
fn nextRow(row: u32) -> i32 { return links[u.N + row]; }
fn firstRow(b: u32) -> i32 { return links[3u * u.N + b]; }
fn svC() -> u32 { return u.N * u.G; }
fn svTc() -> u32 { return u.N * u.G + u.N * u.H; }
fn svHn() -> u32 { return u.N * u.G; }
fn svHu() -> u32 { return u.N * u.G + 2u * u.N * u.H; }
fn stC0() -> u32 { return u.B * u.R; }
fn stDHn() -> u32 { return u.B * u.R + u.B * u.H; }
fn stDCn() -> u32 { return 2u * u.B * u.R + u.B * u.H; }
fn ggDGh() -> u32 { return u.N * u.G; }
fn ggDz() -> u32 { return 2u * u.N * u.G; }`;

const ENTRY_ARGS = "@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u";

/**
 * Forward step: rows [off, off + bt) from the state their sequences had after the previous step (y at the
 * prev row, or h0). The gates of sv hold the input projection (+ b_ih, + b_hh except for the GRU) and leave
 * with the gate activations. LSTM also writes c and tanh(c) of the row, and with a projection o·tanh(c)
 * (the step's projection is then a product); GRU writes W_hn h + b_hn.
 */
export function forwardStepKernel(mode: RnnMode, projected: boolean): WgslKernel {
  const nq = mode === "LSTM" ? 4 : mode === "GRU" ? 3 : 1;
  const bindings: Binding[] = [
    ["links", "read", "i32"],
    ["WT", "read"], // (R, G) W_hh transposed
    ["st", "read"],
    ["sv", "read_write"],
    ["y", "read_write"], // (N, R)
  ];
  let cell: string;
  if (mode === "LSTM") {
    cell = /* wgsl */ `
    let gi = sigm(sv[gr + j] + a[0]);
    let gf = sigm(sv[gr + u.H + j] + a[1]);
    let gg = th(sv[gr + 2u * u.H + j] + a[2]);
    let go = sigm(sv[gr + 3u * u.H + j] + a[3]);
    sv[gr + j] = gi;
    sv[gr + u.H + j] = gf;
    sv[gr + 2u * u.H + j] = gg;
    sv[gr + 3u * u.H + j] = go;
    let p = prevRow(row);
    var cp: f32;
    if (p >= 0) { cp = sv[svC() + u32(p) * u.H + j]; } else { cp = st[stC0() + b * u.H + j]; }
    let c = gf * cp + gi * gg;
    let tc = th(c);
    sv[svC() + row * u.H + j] = c;
    sv[svTc() + row * u.H + j] = tc;
    ${projected ? "sv[svHu() + row * u.H + j] = go * tc;" : "y[row * u.R + j] = go * tc;"}`;
  } else if (mode === "GRU") {
    bindings.push(["bHh", "read"]);
    cell = /* wgsl */ `
    let hr = a[0] + bHh[j];
    let hz = a[1] + bHh[u.H + j];
    let hh = a[2] + bHh[2u * u.H + j];
    let gr_ = sigm(sv[gr + j] + hr);
    let gz = sigm(sv[gr + u.H + j] + hz);
    let gn = th(sv[gr + 2u * u.H + j] + gr_ * hh);
    sv[gr + j] = gr_;
    sv[gr + u.H + j] = gz;
    sv[gr + 2u * u.H + j] = gn;
    sv[svHn() + row * u.H + j] = hh;
    y[row * u.R + j] = (1.0 - gz) * gn + gz * hprev(b, j);`;
  } else {
    const act = mode === "RNN_RELU" ? "max(v, 0.0)" : "th(v)";
    cell = /* wgsl */ `
    let v = sv[gr + j] + a[0];
    y[row * u.R + j] = ${act};`;
  }
  const body = /* wgsl */ `${STEP_HEAD}
fn hprev(b: u32, k: u32) -> f32 {
  let p = prevRow(u.off + b);
  if (p >= 0) { return y[u32(p) * u.R + k]; }
  return st[b * u.R + k];
}
@compute @workgroup_size(64)
fn fwd_step(${ENTRY_ARGS}) {${reduction(nq, "u.R", "hprev", "WT", "u.G", "u.H")}
  for (var r = 0u; r < BT; r++) {
    let b = b0 + r;
    if (b >= u.bt) { break; }
    let row = u.off + b;
    let gr = row * u.G;
    let a = acc[r];${cell}
  }
}`;
  return kernel(bindings, STEP_UNIFORM, body, "fwd_step");
}

/**
 * The gradient flowing into h (R wide), as WGSL functions over the bindings Whh, st, dY and dGs (dG, or gg
 * for the GRU). Step form (flags without FLAG_FIRST): for rows [off, off + bt), dh[row] = dY[row] + (next
 * row n of the sequence ? dGh[n] · W_hh (+ GRU: d·z at n) : dHn[b]). First form (FLAG_FIRST, bt = B): the
 * same for each sequence's first row, without dY: this is dH0.
 */
function dhSource(mode: RnnMode): string {
  const dGh = mode === "GRU" ? "dGs[ggDGh() + u32(n) * u.G + g]" : "dGs[u32(n) * u.G + g]";
  const gruTerm = mode === "GRU" ? " + dGs[ggDz() + u32(n) * u.H + k]" : "";
  return /* wgsl */ `
fn srcRow(b: u32) -> i32 {
  if ((u.flags & ${FLAG_FIRST}u) != 0u) { return firstRow(b); }
  return nextRow(u.off + b);
}
fn dgh(b: u32, g: u32) -> f32 {
  let n = srcRow(b);
  if (n < 0) { return 0.0; }
  return ${dGh};
}
fn dhTotal(b: u32, k: u32, s: f32) -> f32 {
  let n = srcRow(b);
  var d: f32;
  if (n >= 0) { d = s${gruTerm}; } else { d = st[stDHn() + b * u.R + k]; }
  if ((u.flags & ${FLAG_DY}u) != 0u && (u.flags & ${FLAG_FIRST}u) == 0u) { d += dY[(u.off + b) * u.R + k]; }
  return d;
}`;
}

/** bwd_dh: dh (R wide) of the step's rows into out[row] (step form) or of h0 into out[b] (first form). */
export function backwardDhKernel(mode: RnnMode): WgslKernel {
  const bindings: Binding[] = [
    ["links", "read", "i32"],
    ["Whh", "read"], // (G, R)
    ["dGs", "read"], // dG (N, G), or gg for the GRU
    ["st", "read"],
    ["dY", "read"], // (N, R)
    ["out", "read_write"], // (N, R) dhAll, or (B, R) dH0
  ];
  const body = /* wgsl */ `${STEP_HEAD}
${dhSource(mode)}
@compute @workgroup_size(64)
fn bwd_dh(${ENTRY_ARGS}) {${reduction(1, "u.G", "dgh", "Whh", "u.R", "u.R")}
  for (var r = 0u; r < BT; r++) {
    let b = b0 + r;
    if (b >= u.bt) { break; }
    let k = j;
    var o = b * u.R + k;
    if ((u.flags & ${FLAG_FIRST}u) == 0u) { o = (u.off + b) * u.R + k; }
    out[o] = dhTotal(b, k, acc[r][0]);
  }
}`;
  return kernel(bindings, STEP_UNIFORM, body, "bwd_dh");
}

/**
 * Backward step: the gradients w.r.t. the gate pre-activations of rows [off, off + bt), dG (input side) and,
 * for the GRU, dGh (hidden side; it differs from dG only in the n gate). Without a projection it computes
 * dh itself (bwd_dh's step form, fused); with one, it reads dh from dhAll (bwd_dh ran first) and multiplies
 * it by W_hr. LSTM keeps dc of every row in dcAll; GRU keeps d·z (the direct path to h_prev) in gg.
 */
export function backwardStepKernel(mode: RnnMode, projected: boolean): WgslKernel {
  const gru = mode === "GRU";
  const bindings: Binding[] = [["links", "read", "i32"]];
  let reduce: string;
  let head: string;
  if (projected) {
    bindings.push(["Whr", "read"], ["dhAll", "read"]); // (P, H), (N, P)
    head = /* wgsl */ `
fn dhp(b: u32, p: u32) -> f32 { return dhAll[(u.off + b) * u.P + p]; }`;
    reduce = reduction(1, "u.P", "dhp", "Whr", "u.H", "u.H");
  } else {
    bindings.push(["Whh", "read"], ["dY", "read"]); // (G, H), (N, H)
    head = dhSource(mode);
    reduce = reduction(1, "u.G", "dgh", "Whh", "u.R", "u.R");
  }
  bindings.push(["st", "read"], ["dGs", "read_write"]); // dG (N, G), or gg for the GRU
  if (mode === "LSTM" || gru) bindings.push(["sv", "read"]);
  const du = projected ? "acc[r][0]" : "dhTotal(b, j, acc[r][0])";
  let cell: string;
  if (mode === "LSTM") {
    bindings.push(["dcAll", "read_write"]);
    cell = /* wgsl */ `
    let gi = sv[gr + j];
    let gf = sv[gr + u.H + j];
    let gg = sv[gr + 2u * u.H + j];
    let go = sv[gr + 3u * u.H + j];
    let tc = sv[svTc() + row * u.H + j];
    let n = nextRow(row);
    var dcIn: f32;
    if (n >= 0) { dcIn = dcAll[u32(n) * u.H + j] * sv[u32(n) * u.G + u.H + j]; } else { dcIn = st[stDCn() + b * u.H + j]; }
    let p = prevRow(row);
    var cp: f32;
    if (p >= 0) { cp = sv[svC() + u32(p) * u.H + j]; } else { cp = st[stC0() + b * u.H + j]; }
    let dc = dcIn + d * go * (1.0 - tc * tc);
    dcAll[row * u.H + j] = dc;
    dGs[gr + j] = dc * gg * gi * (1.0 - gi);
    dGs[gr + u.H + j] = dc * cp * gf * (1.0 - gf);
    dGs[gr + 2u * u.H + j] = dc * gi * (1.0 - gg * gg);
    dGs[gr + 3u * u.H + j] = d * tc * go * (1.0 - go);`;
  } else if (gru) {
    bindings.push(["y", "read"]);
    cell = /* wgsl */ `
    let gr_ = sv[gr + j];
    let gz = sv[gr + u.H + j];
    let gn = sv[gr + 2u * u.H + j];
    let p = prevRow(row);
    var hp: f32;
    if (p >= 0) { hp = y[u32(p) * u.H + j]; } else { hp = st[b * u.H + j]; }
    let dn = d * (1.0 - gz) * (1.0 - gn * gn);
    let dr = dn * sv[svHn() + row * u.H + j] * gr_ * (1.0 - gr_);
    let dzz = d * (hp - gn) * gz * (1.0 - gz);
    dGs[gr + j] = dr;
    dGs[gr + u.H + j] = dzz;
    dGs[gr + 2u * u.H + j] = dn;
    let gh = ggDGh() + gr;
    dGs[gh + j] = dr;
    dGs[gh + u.H + j] = dzz;
    dGs[gh + 2u * u.H + j] = dn * gr_;
    dGs[ggDz() + row * u.H + j] = d * gz;`;
  } else {
    const dact = mode === "RNN_RELU" ? "select(0.0, d, v > 0.0)" : "d * (1.0 - v * v)";
    bindings.push(["y", "read"]);
    cell = /* wgsl */ `
    let v = y[row * u.H + j];
    dGs[gr + j] = ${dact};`;
  }
  const body = /* wgsl */ `${STEP_HEAD}
${head}
@compute @workgroup_size(64)
fn bwd_step(${ENTRY_ARGS}) {${reduce}
  for (var r = 0u; r < BT; r++) {
    let b = b0 + r;
    if (b >= u.bt) { break; }
    let row = u.off + b;
    let gr = row * u.G;
    let d = ${du};${cell}
  }
}`;
  return kernel(bindings, STEP_UNIFORM, body, "bwd_step");
}

/** dC0[b] = dc flowing out of sequence b's first row (dcAll · f there), or dCn[b] if it never ran. */
export function backwardC0Kernel(): WgslKernel {
  const body = /* wgsl */ `${STEP_HEAD}
@compute @workgroup_size(64)
fn bwd_c0(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x;
  if (i >= u.B * u.H) { return; }
  let b = i / u.H;
  let j = i % u.H;
  let n = firstRow(b);
  if (n >= 0) { out[i] = dcAll[u32(n) * u.H + j] * sv[u32(n) * u.G + u.H + j]; } else { out[i] = st[stDCn() + i]; }
}`;
  return kernel(
    [
      ["links", "read", "i32"],
      ["dcAll", "read"],
      ["sv", "read"],
      ["st", "read"],
      ["out", "read_write"],
    ],
    STEP_UNIFORM,
    body,
    "bwd_c0",
  );
}
