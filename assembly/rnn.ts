// Recurrent kernels in WebAssembly: one layer-direction of an Elman RNN, an LSTM or a GRU over a whole
// sequence, forward and backward through time. A line-by-line port of src/kernels/rnn.ts (read its header
// for the packed layout and the saved / scratch contract: `saved` has the same layout here, so a forward on
// one backend and a backward on the other agree), with the gate math on four lanes at once and the per-step
// products on weights packed once per call.
//
// T = time, B = batch, I = input, H = hidden, P = proj (0 = none), R = size of h (P if P > 0, else H),
// G = gates·H (RNN 1·H; LSTM 4·H in order i, f, g, o; GRU 3·H in order r, z, n), N = rows = Σ batchSizes
//
// All pointers are byte addresses into this module's memory; 0 stands for null. The caller validated sizes.

import { gemm, gemmPacked, packPanelB } from "./gemm";
import { at, ld, st } from "./lanes";
import { NR } from "./layout";
import { sigmoid4, tanh4 } from "./math";

const RNN_TANH = 0;
const RNN_RELU = 1;
const LSTM = 2;
const GRU = 3;

// @ts-ignore: decorator
@inline
function gateCount(mode: i32): i32 {
  return mode == LSTM ? 4 : mode == GRU ? 3 : 1;
}

/** Floats a K × N operand takes once packed in strips of NR columns. */
// @ts-ignore: decorator
@inline
function packedSize(K: i32, N: i32): i32 {
  return K * ((N + NR - 1) / NR) * NR;
}

/** Floats of the `work` area rnnForward / rnnBackward need for their packed weights. */
export function rnnWorkSize(mode: i32, H: i32, P: i32): i32 {
  const G = gateCount(mode) * H;
  const R = P > 0 ? P : H;
  const forward = packedSize(R, G) + (P > 0 ? packedSize(H, P) : 0);
  const backward = packedSize(G, R) + (P > 0 ? packedSize(P, H) : 0);
  return max(forward, backward);
}

// ---------------------------------------------------------------------------------------------------------
// Lane constants (the lane helpers at / ld / st are in lanes.ts).

const ONE = f32x4.splat(1);
const ZERO = f32x4.splat(0);

/** dst[0, n) = src[0, n); short rows in registers (a bulk-memory call costs more than it moves). */
function copy(src: usize, dst: usize, n: i32): void {
  if (n > 64) {
    memory.copy(dst, src, <usize>n << 2);
    return;
  }
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(at(dst, i), v128.load(at(src, i)));
  for (; i < n; i++) store<f32>(at(dst, i), load<f32>(at(src, i)));
}

function zero(dst: usize, n: i32): void {
  if (n > 64) {
    memory.fill(dst, 0, <usize>n << 2);
    return;
  }
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(at(dst, i), ZERO);
  for (; i < n; i++) store<f32>(at(dst, i), 0);
}

/** a[n, :] += bias for every row n < rows. */
function addBias(a: usize, rows: i32, cols: i32, bias: usize): void {
  for (let n = 0; n < rows; n++) {
    const r = at(a, n * cols);
    let j = 0;
    for (; j + 4 <= cols; j += 4) v128.store(at(r, j), f32x4.add(v128.load(at(r, j)), v128.load(at(bias, j))));
    for (; j < cols; j++) store<f32>(at(r, j), load<f32>(at(r, j)) + load<f32>(at(bias, j)));
  }
}

/** out[j] += Σ_n a[n, j], row by row (a is read in order; out stays in cache). */
function addColumnSums(a: usize, rows: i32, cols: i32, out: usize): void {
  for (let n = 0; n < rows; n++) {
    const r = at(a, n * cols);
    let j = 0;
    for (; j + 4 <= cols; j += 4) v128.store(at(out, j), f32x4.add(v128.load(at(out, j)), v128.load(at(r, j))));
    for (; j < cols; j++) store<f32>(at(out, j), load<f32>(at(out, j)) + load<f32>(at(r, j)));
  }
}

/** dst[i] = a[i] + (b ? b[i] : 0) for n floats. */
function addInto(a: usize, b: usize, dst: usize, n: i32): void {
  if (b == 0) {
    copy(a, dst, n);
    return;
  }
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(at(dst, i), f32x4.add(v128.load(at(a, i)), v128.load(at(b, i))));
  for (; i < n; i++) store<f32>(at(dst, i), load<f32>(at(a, i)) + load<f32>(at(b, i)));
}

// ---------------------------------------------------------------------------------------------------------
// The layer-direction kernels

/**
 * Packs W_hhᵀ (and W_hrᵀ when P > 0) into work as rnnForward uses them, and W_ihᵀ after them when wIh ≠ 0:
 * a stepper's resident copy (rnnStepperWorkSize floats), which rnnForward takes with prepacked = true.
 */
export function rnnPackWeights(mode: i32, I: i32, H: i32, P: i32, wIh: usize, wHh: usize, wHr: usize, work: usize): void {
  const G = gateCount(mode) * H;
  const R = P > 0 ? P : H;
  packPanelB(true, R, G, wHh, R, work);
  if (P > 0) packPanelB(true, H, P, wHr, H, at(work, packedSize(R, G)));
  if (wIh != 0) packPanelB(true, I, G, wIh, I, at(work, packedSize(R, G) + packedSize(H, P)));
}

/** Floats of a stepper's resident work area: W_hhᵀ, W_hrᵀ and W_ihᵀ packed. */
export function rnnStepperWorkSize(mode: i32, I: i32, H: i32, P: i32): i32 {
  const G = gateCount(mode) * H;
  const R = P > 0 ? P : H;
  return packedSize(R, G) + (P > 0 ? packedSize(H, P) : 0) + packedSize(I, G);
}

/**
 * y, hN (and cN) from x, h0 (and c0); with saved ≠ 0 also what rnnBackward needs. bs = batch sizes (T int32)
 * or 0 for B at every step. work = rnnWorkSize floats for the packed weights.
 */
export function rnnForward(
  mode: i32,
  T: i32,
  B: i32,
  I: i32,
  H: i32,
  P: i32,
  bs: usize,
  reverse: bool,
  x: usize, // (N, I)
  h0: usize, // (B, R)
  c0: usize, // (B, H)
  wIh: usize, // (G, I)
  wHh: usize, // (G, R)
  bIh: usize, // (G)
  bHh: usize, // (G)
  wHr: usize, // (P, H)
  y: usize, // (N, R) out
  hN: usize, // (B, R) out
  cN: usize, // (B, H) out, LSTM
  saved: usize, // out, 0 = inference
  scratch: usize,
  work: usize,
  prepacked: bool, // work holds W_hhᵀ, W_hrᵀ and W_ihᵀ packed by rnnPackWeights (a stepper's resident copy)
): void {
  const G = gateCount(mode) * H;
  const R = P > 0 ? P : H;
  let N = T * B;
  if (bs != 0) {
    N = 0;
    for (let t = 0; t < T; t++) N += load<i32>(bs + (<usize>t << 2));
  }
  if (h0 != 0) copy(h0, hN, B * R);
  else zero(hN, B * R);
  if (cN != 0) {
    if (c0 != 0) copy(c0, cN, B * H);
    else zero(cN, B * H);
  }

  // input projection of all steps: pre[N, G] = X · W_ihᵀ + b_ih (+ b_hh except for the GRU)
  const isRnn = mode == RNN_TANH || mode == RNN_RELU;
  const pre = isRnn ? y : saved != 0 ? saved : scratch;
  if (prepacked) gemmPacked(N, G, I, x, <usize>I << 2, 4, at(work, packedSize(R, G) + (P > 0 ? packedSize(H, P) : 0)), pre, G, false);
  else gemm(false, true, N, G, I, x, I, wIh, I, 0, pre, G);
  if (bIh != 0) addBias(pre, N, G, bIh);
  if (bHh != 0 && mode != GRU) addBias(pre, N, G, bHh);

  // the recurrent weights as the right operand of h · W_hhᵀ, packed once; likewise W_hrᵀ
  const pWhh = work;
  const pWhr = at(work, packedSize(R, G));
  if (!prepacked) rnnPackWeights(mode, I, H, P, 0, wHh, wHr, work);

  const NH = N * H;
  const cAll = saved != 0 && mode == LSTM ? at(saved, 4 * NH) : 0;
  const tcAll = saved != 0 && mode == LSTM ? at(saved, 5 * NH) : 0;
  const hnAll = saved != 0 && mode == GRU ? at(saved, 3 * NH) : 0;
  const tmp = saved != 0 || isRnn ? scratch : at(scratch, N * G);

  let off = reverse ? N : 0;
  for (let k = 0; k < T; k++) {
    const t = reverse ? T - 1 - k : k;
    const bt = bs == 0 ? B : load<i32>(bs + (<usize>t << 2));
    if (reverse) off -= bt;
    if (mode == LSTM) lstmStepForward(H, R, P, G, pWhh, pWhr, y, hN, cN, pre, cAll, tcAll, tmp, off, bt);
    else if (mode == GRU) gruStepForward(H, G, pWhh, bHh, y, hN, pre, hnAll, tmp, off, bt);
    else rnnStepForward(H, mode == RNN_RELU, pWhh, y, hN, off, bt);
    if (!reverse) off += bt;
  }
}

/**
 * Backpropagation through time, after rnnForward with the same dims, weights, inputs and saved. Writes dX,
 * dH0, dC0 (each skipped when 0) and ACCUMULATES the parameter gradients (each skipped when 0).
 */
export function rnnBackward(
  mode: i32,
  T: i32,
  B: i32,
  I: i32,
  H: i32,
  P: i32,
  bs: usize,
  reverse: bool,
  wIh: usize, // (G, I)
  wHh: usize, // (G, R)
  wHr: usize, // (P, H)
  dWih: usize, // (G, I) accumulated
  dWhh: usize, // (G, R) accumulated
  dBih: usize, // (G) accumulated
  dBhh: usize, // (G) accumulated
  dWhr: usize, // (P, H) accumulated
  x: usize, // (N, I)
  dX: usize, // (N, I) out
  h0: usize, // (B, R)
  dH0: usize, // (B, R) out
  c0: usize, // (B, H)
  dC0: usize, // (B, H) out
  y: usize, // (N, R)
  dY: usize, // (N, R), 0 = zeros
  dHn: usize, // (B, R), 0 = zeros
  dCn: usize, // (B, H), 0 = zeros
  saved: usize,
  scratch: usize,
  work: usize,
): void {
  const G = gateCount(mode) * H;
  const R = P > 0 ? P : H;
  let N = T * B;
  if (bs != 0) {
    N = 0;
    for (let t = 0; t < T; t++) N += load<i32>(bs + (<usize>t << 2));
  }
  const isRnn = mode == RNN_TANH || mode == RNN_RELU;

  // scratch: dG (N, G) | dGh (N, G), GRU only | hPrev (N, R) | dh (B, R) | dc (B, H) | dhAll (N, P)
  // | dhU (B, H) | hU (N, H)
  let o = scratch;
  const dG = o;
  o = at(o, N * G);
  let dGh = dG;
  if (mode == GRU) {
    dGh = o;
    o = at(o, N * G);
  }
  const hPrev = o;
  o = at(o, N * R);
  const dh = o;
  o = at(o, B * R);
  let dc = dh;
  if (mode == LSTM) {
    dc = o;
    o = at(o, B * H);
  }
  let dhAll = dh;
  let dhU = dh;
  let hU = dh;
  if (P > 0) {
    dhAll = o;
    o = at(o, N * P);
    dhU = o;
    o = at(o, B * H);
    hU = o;
    o = at(o, N * H);
  }

  if (dHn != 0) copy(dHn, dh, B * R);
  else zero(dh, B * R);
  if (mode == LSTM) {
    if (dCn != 0) copy(dCn, dc, B * H);
    else zero(dc, B * H);
  }
  const NH = N * H;
  const gates = isRnn ? y : saved;
  const cAll = mode == LSTM ? at(saved, 4 * NH) : 0;
  const tcAll = mode == LSTM ? at(saved, 5 * NH) : 0;
  const hnAll = mode == GRU ? at(saved, 3 * NH) : 0;

  // W_hh (G, R) and W_hr (P, H) as right operands, packed once
  const pWhh = work;
  packPanelB(false, G, R, wHh, R, pWhh);
  const pWhr = at(work, packedSize(G, R));
  if (P > 0) packPanelB(false, P, H, wHr, H, pWhr);

  let off = reverse ? 0 : N;
  for (let k = T - 1; k >= 0; k--) {
    const t = reverse ? T - 1 - k : k;
    const bt = bs == 0 ? B : load<i32>(bs + (<usize>t << 2));
    if (!reverse) off -= bt;
    let prevOff = 0;
    let prevCount = 0; // rows [0, prevCount) continue from step prev; the others start from h0
    if (!reverse && t > 0) {
      prevOff = off - (bs == 0 ? B : load<i32>(bs + (<usize>(t - 1) << 2)));
      prevCount = bt;
    } else if (reverse && t < T - 1) {
      prevOff = off + bt;
      prevCount = bs == 0 ? B : load<i32>(bs + (<usize>(t + 1) << 2));
    }
    for (let b = 0; b < bt; b++) {
      const dst = at(hPrev, (off + b) * R);
      if (b < prevCount) copy(at(y, (prevOff + b) * R), dst, R);
      else if (h0 != 0) copy(at(h0, b * R), dst, R);
      else zero(dst, R);
    }
    if (mode == LSTM) {
      lstmStepBackward(H, R, P, G, pWhh, pWhr, dY, gates, cAll, tcAll, c0, dG, dh, dc, dhAll, dhU, off, bt, prevOff, prevCount);
    } else if (mode == GRU) {
      gruStepBackward(H, G, pWhh, dY, gates, hnAll, hPrev, dG, dGh, dh, off, bt);
    } else {
      rnnStepBackward(H, mode == RNN_RELU, pWhh, y, dY, dG, dh, off, bt);
    }
    if (reverse) off += bt;
  }

  if (dH0 != 0) copy(dh, dH0, B * R);
  if (dC0 != 0) copy(dc, dC0, B * H);
  // the sums over steps, as products over all N rows
  if (dX != 0) gemm(false, false, N, I, G, dG, G, wIh, I, 0, dX, I); // dX = dG · W_ih
  if (dWih != 0) gemm(true, false, G, I, N, dG, G, x, I, 1, dWih, I); // += dGᵀ · X
  if (dWhh != 0) gemm(true, false, G, R, N, dGh, G, hPrev, R, 1, dWhh, R); // += dGhᵀ · hPrev
  if (dBih != 0) addColumnSums(dG, N, G, dBih);
  if (dBhh != 0) addColumnSums(dGh, N, G, dBhh);
  if (dWhr != 0) {
    for (let n = 0; n < N; n++) {
      const g = at(gates, n * G + 3 * H);
      const tc = at(tcAll, n * H);
      const u = at(hU, n * H);
      let j = 0;
      for (; j + 4 <= H; j += 4) v128.store(at(u, j), f32x4.mul(v128.load(at(g, j)), v128.load(at(tc, j))));
      for (; j < H; j++) store<f32>(at(u, j), load<f32>(at(g, j)) * load<f32>(at(tc, j)));
    }
    gemm(true, false, P, H, N, dhAll, P, hU, H, 1, dWhr, H); // += dhᵀ · (o·tanh c)
  }
}

// ---------------------------------------------------------------------------------------------------------
// One step of each cell, forward and backward side by side. A step updates rows [off, off + bt).

// RNN: h' = act(pre + h · W_hhᵀ). act' is read from the output: tanh' = 1 - h'², relu' = [h' > 0].
function rnnStepForward(H: i32, relu: bool, pWhh: usize, y: usize, h: usize, off: i32, bt: i32): void {
  const rows = at(y, off * H);
  gemmPacked(bt, H, H, h, <usize>H << 2, 4, pWhh, rows, H, true); // pre += h · W_hhᵀ
  const n = bt * H;
  let q = 0;
  if (relu) {
    for (; q + 4 <= n; q += 4) v128.store(at(rows, q), f32x4.max(v128.load(at(rows, q)), ZERO));
    for (; q < n; q++) st(at(rows, q), f32x4.max(ld(at(rows, q), true), ZERO), true);
  } else {
    for (; q + 4 <= n; q += 4) v128.store(at(rows, q), tanh4(v128.load(at(rows, q))));
    for (; q < n; q++) st(at(rows, q), tanh4(ld(at(rows, q), true)), true);
  }
  copy(rows, h, n);
}

function rnnStepBackward(
  H: i32,
  relu: bool,
  pWhh: usize,
  y: usize,
  dY: usize,
  dG: usize,
  dh: usize,
  off: i32,
  bt: i32,
): void {
  const n = bt * H;
  const base = off * H;
  let q = 0;
  for (; q + 4 <= n; q += 4) {
    rnnBackLanes(relu, at(dh, q), dY != 0 ? at(dY, base + q) : 0, at(y, base + q), at(dG, base + q), false);
  }
  for (; q < n; q++) {
    rnnBackLanes(relu, at(dh, q), dY != 0 ? at(dY, base + q) : 0, at(y, base + q), at(dG, base + q), true);
  }
  gemmPacked(bt, H, H, at(dG, base), <usize>H << 2, 4, pWhh, dh, H, false); // dh = dG · W_hh
}

// @ts-ignore: decorator
@inline
function rnnBackLanes(relu: bool, pdh: usize, pdY: usize, py: usize, pdG: usize, one: bool): void {
  let d = ld(pdh, one);
  if (pdY != 0) d = f32x4.add(d, ld(pdY, one));
  const v = ld(py, one);
  const g = relu ? v128.and(d, f32x4.gt(v, ZERO)) : f32x4.mul(d, f32x4.sub(ONE, f32x4.mul(v, v)));
  st(pdG, g, one);
}

// LSTM: (i, f, g, o) = (σ, σ, tanh, σ)(pre + h · W_hhᵀ), c' = f·c + i·g, h' = o·tanh(c'), projected
// h' = (o·tanh(c')) · W_hrᵀ when P > 0.
function lstmStepForward(
  H: i32,
  R: i32,
  P: i32,
  G: i32,
  pWhh: usize,
  pWhr: usize,
  y: usize,
  h: usize,
  c: usize,
  gates: usize,
  cAll: usize,
  tcAll: usize,
  tmp: usize,
  off: i32,
  bt: i32,
): void {
  gemmPacked(bt, G, R, h, <usize>R << 2, 4, pWhh, at(gates, off * G), G, true); // pre += h · W_hhᵀ
  for (let b = 0; b < bt; b++) {
    const gr = at(gates, (off + b) * G);
    const row = (off + b) * H;
    const cb = at(c, b * H);
    const out = P == 0 ? at(y, row) : at(tmp, b * H);
    const hb = P == 0 ? at(h, b * H) : 0;
    const ca = cAll != 0 ? at(cAll, row) : 0;
    const ta = tcAll != 0 ? at(tcAll, row) : 0;
    const Hb = <usize>H << 2;
    let j = 0;
    for (; j + 4 <= H; j += 4) lstmFwdLanes(at(gr, j), Hb, at(cb, j), ca != 0 ? at(ca, j) : 0, ta != 0 ? at(ta, j) : 0, at(out, j), hb != 0 ? at(hb, j) : 0, false);
    for (; j < H; j++) lstmFwdLanes(at(gr, j), Hb, at(cb, j), ca != 0 ? at(ca, j) : 0, ta != 0 ? at(ta, j) : 0, at(out, j), hb != 0 ? at(hb, j) : 0, true);
  }
  if (P > 0) {
    gemmPacked(bt, P, H, tmp, <usize>H << 2, 4, pWhr, at(y, off * P), P, false); // h' = (o·tanh c) · W_hrᵀ
    copy(at(y, off * P), h, bt * P);
  }
}

// @ts-ignore: decorator
@inline
function lstmFwdLanes(g: usize, Hb: usize, pc: usize, pca: usize, pta: usize, pout: usize, ph: usize, one: bool): void {
  const ig = sigmoid4(ld(g, one));
  const fg = sigmoid4(ld(g + Hb, one));
  const gg = tanh4(ld(g + 2 * Hb, one));
  const og = sigmoid4(ld(g + 3 * Hb, one));
  st(g, ig, one);
  st(g + Hb, fg, one);
  st(g + 2 * Hb, gg, one);
  st(g + 3 * Hb, og, one);
  const cv = f32x4.add(f32x4.mul(fg, ld(pc, one)), f32x4.mul(ig, gg));
  st(pc, cv, one);
  const tc = tanh4(cv);
  if (pca != 0) {
    st(pca, cv, one);
    st(pta, tc, one);
  }
  const hv = f32x4.mul(og, tc);
  st(pout, hv, one);
  if (ph != 0) st(ph, hv, one);
}

function lstmStepBackward(
  H: i32,
  R: i32,
  P: i32,
  G: i32,
  pWhh: usize,
  pWhr: usize,
  dY: usize,
  gates: usize,
  cAll: usize,
  tcAll: usize,
  c0: usize,
  dG: usize,
  dh: usize,
  dc: usize,
  dhAll: usize,
  dhU: usize,
  off: i32,
  bt: i32,
  prevOff: i32,
  prevCount: i32,
): void {
  if (P > 0) {
    addInto(dh, dY != 0 ? at(dY, off * P) : 0, at(dhAll, off * P), bt * P);
    gemmPacked(bt, H, P, at(dhAll, off * P), <usize>P << 2, 4, pWhr, dhU, H, false); // dhU = dh · W_hr
  }
  const Hb = <usize>H << 2;
  for (let b = 0; b < bt; b++) {
    const row = (off + b) * H;
    const gr = at(gates, (off + b) * G);
    const dgr = at(dG, (off + b) * G);
    const pdu = P > 0 ? at(dhU, b * H) : at(dh, b * H);
    const pdY = P == 0 && dY != 0 ? at(dY, row) : 0;
    const pcPrev = b < prevCount ? at(cAll, (prevOff + b) * H) : c0 != 0 ? at(c0, b * H) : 0;
    const ptc = at(tcAll, row);
    const pdc = at(dc, b * H);
    let j = 0;
    for (; j + 4 <= H; j += 4) {
      const o = <usize>j << 2;
      lstmBackLanes(gr + o, dgr + o, Hb, pdu + o, pdY != 0 ? pdY + o : 0, pcPrev != 0 ? pcPrev + o : 0, ptc + o, pdc + o, false);
    }
    for (; j < H; j++) {
      const o = <usize>j << 2;
      lstmBackLanes(gr + o, dgr + o, Hb, pdu + o, pdY != 0 ? pdY + o : 0, pcPrev != 0 ? pcPrev + o : 0, ptc + o, pdc + o, true);
    }
  }
  gemmPacked(bt, R, G, at(dG, off * G), <usize>G << 2, 4, pWhh, dh, R, false); // dh = dG · W_hh
}

// @ts-ignore: decorator
@inline
function lstmBackLanes(
  g: usize,
  dg: usize,
  Hb: usize,
  pdu: usize,
  pdY: usize,
  pcPrev: usize,
  ptc: usize,
  pdc: usize,
  one: bool,
): void {
  let du = ld(pdu, one);
  if (pdY != 0) du = f32x4.add(du, ld(pdY, one));
  const ig = ld(g, one);
  const fg = ld(g + Hb, one);
  const gg = ld(g + 2 * Hb, one);
  const og = ld(g + 3 * Hb, one);
  const tc = ld(ptc, one);
  const cPrev = pcPrev != 0 ? ld(pcPrev, one) : ZERO;
  const dcv = f32x4.add(ld(pdc, one), f32x4.mul(f32x4.mul(du, og), f32x4.sub(ONE, f32x4.mul(tc, tc))));
  st(dg, f32x4.mul(f32x4.mul(f32x4.mul(dcv, gg), ig), f32x4.sub(ONE, ig)), one);
  st(dg + Hb, f32x4.mul(f32x4.mul(f32x4.mul(dcv, cPrev), fg), f32x4.sub(ONE, fg)), one);
  st(dg + 2 * Hb, f32x4.mul(f32x4.mul(dcv, ig), f32x4.sub(ONE, f32x4.mul(gg, gg))), one);
  st(dg + 3 * Hb, f32x4.mul(f32x4.mul(f32x4.mul(du, tc), og), f32x4.sub(ONE, og)), one);
  st(pdc, f32x4.mul(dcv, fg), one);
}

// GRU: r = σ(W_ir x + b_ir + W_hr h + b_hr), z likewise, n = tanh(W_in x + b_in + r·(W_hn h + b_hn)),
// h' = (1 - z)·n + z·h. The hidden-side gradient of n is r times its input-side one.
function gruStepForward(
  H: i32,
  G: i32,
  pWhh: usize,
  bHh: usize,
  y: usize,
  h: usize,
  gates: usize,
  hnAll: usize,
  tmp: usize,
  off: i32,
  bt: i32,
): void {
  gemmPacked(bt, G, H, h, <usize>H << 2, 4, pWhh, tmp, G, false); // hh = h · W_hhᵀ
  if (bHh != 0) addBias(tmp, bt, G, bHh);
  const Hb = <usize>H << 2;
  for (let b = 0; b < bt; b++) {
    const gr = at(gates, (off + b) * G);
    const tr = at(tmp, b * G);
    const row = (off + b) * H;
    const pha = hnAll != 0 ? at(hnAll, row) : 0;
    const py = at(y, row);
    const ph = at(h, b * H);
    let j = 0;
    for (; j + 4 <= H; j += 4) {
      const o = <usize>j << 2;
      gruFwdLanes(gr + o, tr + o, Hb, pha != 0 ? pha + o : 0, py + o, ph + o, false);
    }
    for (; j < H; j++) {
      const o = <usize>j << 2;
      gruFwdLanes(gr + o, tr + o, Hb, pha != 0 ? pha + o : 0, py + o, ph + o, true);
    }
  }
}

// @ts-ignore: decorator
@inline
function gruFwdLanes(g: usize, tr: usize, Hb: usize, pha: usize, py: usize, ph: usize, one: bool): void {
  const rg = sigmoid4(f32x4.add(ld(g, one), ld(tr, one)));
  const zg = sigmoid4(f32x4.add(ld(g + Hb, one), ld(tr + Hb, one)));
  const hn = ld(tr + 2 * Hb, one);
  const ng = tanh4(f32x4.add(ld(g + 2 * Hb, one), f32x4.mul(rg, hn)));
  st(g, rg, one);
  st(g + Hb, zg, one);
  st(g + 2 * Hb, ng, one);
  if (pha != 0) st(pha, hn, one);
  const hv = f32x4.add(f32x4.mul(f32x4.sub(ONE, zg), ng), f32x4.mul(zg, ld(ph, one)));
  st(py, hv, one);
  st(ph, hv, one);
}

function gruStepBackward(
  H: i32,
  G: i32,
  pWhh: usize,
  dY: usize,
  gates: usize,
  hnAll: usize,
  hPrev: usize,
  dG: usize,
  dGh: usize,
  dh: usize,
  off: i32,
  bt: i32,
): void {
  const Hb = <usize>H << 2;
  for (let b = 0; b < bt; b++) {
    const row = (off + b) * H;
    const gr = at(gates, (off + b) * G);
    const dgr = at(dG, (off + b) * G);
    const dghr = at(dGh, (off + b) * G);
    const pdh = at(dh, b * H);
    const pdY = dY != 0 ? at(dY, row) : 0;
    const pha = at(hnAll, row);
    const php = at(hPrev, row);
    let j = 0;
    for (; j + 4 <= H; j += 4) {
      const o = <usize>j << 2;
      gruBackLanes(gr + o, dgr + o, dghr + o, Hb, pdh + o, pdY != 0 ? pdY + o : 0, pha + o, php + o, false);
    }
    for (; j < H; j++) {
      const o = <usize>j << 2;
      gruBackLanes(gr + o, dgr + o, dghr + o, Hb, pdh + o, pdY != 0 ? pdY + o : 0, pha + o, php + o, true);
    }
  }
  gemmPacked(bt, H, G, at(dGh, off * G), <usize>G << 2, 4, pWhh, dh, H, true); // dh += dGh · W_hh
}

// @ts-ignore: decorator
@inline
function gruBackLanes(
  g: usize,
  dg: usize,
  dgh: usize,
  Hb: usize,
  pdh: usize,
  pdY: usize,
  pha: usize,
  php: usize,
  one: bool,
): void {
  let d = ld(pdh, one);
  if (pdY != 0) d = f32x4.add(d, ld(pdY, one));
  const rg = ld(g, one);
  const zg = ld(g + Hb, one);
  const ng = ld(g + 2 * Hb, one);
  const dn = f32x4.mul(f32x4.mul(d, f32x4.sub(ONE, zg)), f32x4.sub(ONE, f32x4.mul(ng, ng)));
  const dr = f32x4.mul(f32x4.mul(f32x4.mul(dn, ld(pha, one)), rg), f32x4.sub(ONE, rg));
  const dz = f32x4.mul(f32x4.mul(f32x4.mul(d, f32x4.sub(ld(php, one), ng)), zg), f32x4.sub(ONE, zg));
  st(dg, dr, one);
  st(dgh, dr, one);
  st(dg + Hb, dz, one);
  st(dgh + Hb, dz, one);
  st(dg + 2 * Hb, dn, one);
  st(dgh + 2 * Hb, f32x4.mul(dn, rg), one);
  st(pdh, f32x4.mul(d, zg), one);
}
