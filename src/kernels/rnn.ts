// Recurrent kernels: one layer-direction of an Elman RNN, an LSTM or a GRU over a whole sequence,
// forward and backward through time, on plain Float32Arrays, with PyTorch's formulas and gate order.
//
// T = time, B = batch, I = input, H = hidden, P = proj (0 = none), R = size of h (P if P > 0, else H),
// G = gates·H (RNN 1·H; LSTM 4·H in order i, f, g, o; GRU 3·H in order r, z, n),
// N = rows of the sequence = Σ batchSizes (T·B for a full batch)
//
// Layout. The sequence is packed: the rows of step t are contiguous, batchSizes[t] of them (a non-increasing
// count), starting at row off[t] = Σ_{s<t} batchSizes[s]; row b of every step belongs to sequence b. This is
// PyTorch's PackedSequence.data, and a padded [T, B, ·] buffer is its special case batchSizes[t] = B
// (`batchSizes: null`). At step t only the first batchSizes[t] sequences advance; the others keep their state,
// so hN (and cN) hold each sequence's state after its own last step. In reverse, steps run t = T-1 .. 0 and a
// sequence joins at its own last step, starting from h0.
//
// Training: rnnForward saves into `saved` what rnnBackward needs (the forward output y is needed too and must
// be passed back unchanged). `saved` must live from a forward to its backward, so one buffer can serve a
// layer-direction across training steps, but a layer called several times before one backward (e.g. an
// autoregressive decoder) needs one per call; `scratch` is temporary and can be shared by every call.
// rnnWorkspaceSize gives both sizes, so buffers are allocated once and reused.

import { gemm } from "./gemm.js";

export type RnnMode = "RNN_TANH" | "RNN_RELU" | "LSTM" | "GRU";

/** Gates per hidden unit in each mode (G = gates · H). */
const GATES: Readonly<Record<RnnMode, number>> = { RNN_TANH: 1, RNN_RELU: 1, LSTM: 4, GRU: 3 };

export function rnnGateCount(mode: RnnMode): number {
  const g = GATES[mode];
  if (g === undefined) {
    throw new Error(`rnn kernel: expected mode RNN_TANH, RNN_RELU, LSTM or GRU, got ${String(mode)}`);
  }
  return g;
}

/** The sizes and time layout of one layer-direction. */
export interface RnnDims {
  mode: RnnMode;
  T: number; // time steps
  B: number; // batch: rows of h0 / hN (batchSizes[0] for packed input)
  I: number; // input features
  H: number; // hidden size
  P: number; // projection size, LSTM only; 0 = no projection
  batchSizes: Int32Array | null; // (T) active rows per step, non-increasing, each ≤ B; null = B at every step
  reverse: boolean; // process t = T-1 .. 0
}

/** The parameters of one layer-direction (PyTorch's weight_ih_l{k}, weight_hh_l{k}, bias_*, weight_hr_l{k}). */
export interface RnnWeights {
  wIh: Float32Array; // (G, I)
  wHh: Float32Array; // (G, R)
  bIh: Float32Array | null; // (G), null when bias = false
  bHh: Float32Array | null; // (G), null when bias = false
  wHr: Float32Array | null; // (P, H), LSTM with P > 0 only
}

/** Parameter gradients, ACCUMULATED (+=) by rnnBackward; a null field is not computed. */
export interface RnnWeightGrads {
  dWih: Float32Array | null; // (G, I)
  dWhh: Float32Array | null; // (G, R)
  dBih: Float32Array | null; // (G)
  dBhh: Float32Array | null; // (G)
  dWhr: Float32Array | null; // (P, H)
}

/**
 * Float counts of the two buffers for sequences of at most T·B rows.
 * saved (written by rnnForward for rnnBackward; N = the call's row count):
 *   RNN:  nothing (backward reads y)
 *   LSTM: [0, 4NH) gate activations i, f, g, o per row (N, 4H) | [4NH, 5NH) c (N, H) | [5NH, 6NH) tanh(c) (N, H)
 *   GRU:  [0, 3NH) gate activations r, z, n per row (N, 3H) | [3NH, 4NH) W_hn h + b_hn (N, H)
 * scratch: temporaries of a single call (forward, inference or backward), any content in between.
 */
export function rnnWorkspaceSize(
  mode: RnnMode,
  T: number,
  B: number,
  H: number,
  P: number,
): { saved: number; scratch: number } {
  const N = T * B;
  return { saved: savedSize(mode, N, H), scratch: scratchSize(mode, N, B, H, P) };
}

/** @internal shared with the WebAssembly wrappers (kernels/wasm.ts) */
export function savedSize(mode: RnnMode, N: number, H: number): number {
  return mode === "LSTM" ? 6 * N * H : mode === "GRU" ? 4 * N * H : 0;
}

/** @internal shared with the WebAssembly wrappers (kernels/wasm.ts) */
export function scratchSize(mode: RnnMode, N: number, B: number, H: number, P: number): number {
  const G = rnnGateCount(mode) * H;
  const R = P > 0 ? P : H;
  if (mode === "RNN_TANH" || mode === "RNN_RELU") return N * G + N * R + B * R;
  const step = mode === "GRU" ? B * G : P > 0 ? B * H : 0; // per-step temporary of the forward
  const inference = N * G + step;
  const backward =
    N * G + N * R + B * R + (mode === "GRU" ? N * G : B * H + (P > 0 ? N * P + B * H + N * H : 0));
  return Math.max(inference, backward);
}

// ---------------------------------------------------------------------------------------------------------
// The layer-direction kernels

/**
 * Runs one layer-direction over the sequence: y, hN (and cN) from x, h0 (and c0). With `saved` it also
 * records what rnnBackward needs; with `saved = null` it is inference only.
 */
export function rnnForward(
  dims: RnnDims,
  w: RnnWeights,
  x: Float32Array, // (N, I)
  h0: Float32Array | null, // (B, R), null = zeros
  c0: Float32Array | null, // (B, H), LSTM only, null = zeros
  y: Float32Array, // (N, R) out: h at every step (must not alias x)
  hN: Float32Array, // (B, R) out: h after each sequence's last step (may alias h0)
  cN: Float32Array | null, // (B, H) out, LSTM only (required there; may alias c0)
  saved: Float32Array | null, // (rnnWorkspaceSize.saved) out, null = inference only
  scratch: Float32Array, // (rnnWorkspaceSize.scratch)
): void {
  const fn = "rnnForward";
  const s = checkCommon(fn, dims, w, x, h0, c0);
  const { mode, T, B, I, H, P, reverse } = dims;
  const { G, R, N } = s;
  expectLength(fn, "y", y, N * R, "N·R");
  expectLength(fn, "hN", hN, B * R, "B·R");
  if (mode === "LSTM") {
    if (cN === null) throw new Error(`${fn}: mode LSTM needs a cN buffer (B·H = ${B * H}), got null`);
    expectLength(fn, "cN", cN, B * H, "B·H");
  }
  if (saved !== null) expectAtLeast(fn, "saved", saved, savedSize(mode, N, H));
  expectAtLeast(fn, "scratch", scratch, scratchSize(mode, N, B, H, P));

  // running state: h (and c) of every sequence, advanced in place; it ends as hN (cN)
  if (h0 !== null) hN.set(h0);
  else hN.fill(0);
  if (cN !== null) {
    if (c0 !== null) cN.set(c0);
    else cN.fill(0);
  }

  // input projection of all steps at once: pre[N, G] = X · W_ihᵀ + b_ih (+ b_hh, except for the GRU,
  // whose b_hn must stay inside the reset product); RNN works in y, LSTM and GRU in the gate buffer
  const isRnn = mode === "RNN_TANH" || mode === "RNN_RELU";
  const pre = isRnn ? y : saved !== null ? saved : scratch;
  gemm(false, true, N, G, I, x, 0, I, w.wIh, 0, I, 0, pre, 0, G);
  if (w.bIh !== null) addBias(pre, N, G, w.bIh);
  if (w.bHh !== null && mode !== "GRU") addBias(pre, N, G, w.bHh);

  const st: StepState = {
    H,
    R,
    P,
    G,
    w,
    y,
    h: hN,
    c: cN,
    gates: pre,
    cAll: saved !== null && mode === "LSTM" ? saved.subarray(4 * N * H, 5 * N * H) : null,
    tcAll: saved !== null && mode === "LSTM" ? saved.subarray(5 * N * H, 6 * N * H) : null,
    hnAll: saved !== null && mode === "GRU" ? saved.subarray(3 * N * H, 4 * N * H) : null,
    tmp: saved !== null || isRnn ? scratch : scratch.subarray(N * G),
  };
  const bs = dims.batchSizes;
  let off = reverse ? N : 0;
  for (let k = 0; k < T; k++) {
    const t = reverse ? T - 1 - k : k;
    const bt = bs === null ? B : bs[t];
    if (reverse) off -= bt;
    if (mode === "LSTM") lstmStepForward(st, off, bt);
    else if (mode === "GRU") gruStepForward(st, off, bt);
    else rnnStepForward(st, mode === "RNN_RELU", off, bt);
    if (!reverse) off += bt;
  }
}

/**
 * Backpropagation through time for one layer-direction, after rnnForward with the same dims, weights, inputs
 * and `saved`. Given dY (gradient w.r.t. every step's h) and dHn, dCn (w.r.t. the final states) it writes dX,
 * dH0, dC0 (each skipped when null) and ACCUMULATES the parameter gradients into dW.
 */
export function rnnBackward(
  dims: RnnDims,
  w: RnnWeights,
  dW: RnnWeightGrads, // accumulated (+=)
  x: Float32Array, // (N, I)
  dX: Float32Array | null, // (N, I) out, null = not needed
  h0: Float32Array | null, // (B, R), null = zeros
  dH0: Float32Array | null, // (B, R) out, null = not needed
  c0: Float32Array | null, // (B, H), LSTM only, null = zeros
  dC0: Float32Array | null, // (B, H) out, LSTM only, null = not needed
  y: Float32Array, // (N, R) the forward's output, unchanged
  dY: Float32Array | null, // (N, R), null = zeros
  dHn: Float32Array | null, // (B, R), null = zeros
  dCn: Float32Array | null, // (B, H), LSTM only, null = zeros
  saved: Float32Array | null, // (rnnWorkspaceSize.saved) as the forward left it (unused for RNN)
  scratch: Float32Array, // (rnnWorkspaceSize.scratch)
): void {
  const fn = "rnnBackward";
  const s = checkCommon(fn, dims, w, x, h0, c0);
  const { mode, T, B, I, H, P, reverse } = dims;
  const { G, R, N } = s;
  const isRnn = mode === "RNN_TANH" || mode === "RNN_RELU";
  expectLength(fn, "y", y, N * R, "N·R");
  if (dX !== null) expectLength(fn, "dX", dX, N * I, "N·I");
  if (dH0 !== null) expectLength(fn, "dH0", dH0, B * R, "B·R");
  if (dY !== null) expectLength(fn, "dY", dY, N * R, "N·R");
  if (dHn !== null) expectLength(fn, "dHn", dHn, B * R, "B·R");
  if (mode !== "LSTM" && (dC0 !== null || dCn !== null)) {
    throw new Error(`${fn}: dC0 and dCn are for mode LSTM only, got them in mode ${mode}`);
  }
  if (dC0 !== null) expectLength(fn, "dC0", dC0, B * H, "B·H");
  if (dCn !== null) expectLength(fn, "dCn", dCn, B * H, "B·H");
  expectGrad(fn, "dWih", dW.dWih, w.wIh);
  expectGrad(fn, "dWhh", dW.dWhh, w.wHh);
  expectGrad(fn, "dBih", dW.dBih, w.bIh);
  expectGrad(fn, "dBhh", dW.dBhh, w.bHh);
  expectGrad(fn, "dWhr", dW.dWhr, w.wHr);
  if (!isRnn) {
    if (saved === null)
      throw new Error(`${fn}: mode ${mode} needs the saved buffer of the forward, got null`);
    expectAtLeast(fn, "saved", saved, savedSize(mode, N, H));
  }
  expectAtLeast(fn, "scratch", scratch, scratchSize(mode, N, B, H, P));

  // scratch: dG (N, G) | dGh (N, G), GRU only | hPrev (N, R) | dh (B, R) | dc (B, H) | dhAll (N, P) | dhU (B, H)
  // | hU (N, H)
  let o = 0;
  const take = (n: number): Float32Array => scratch.subarray(o, (o += n));
  const dG = take(N * G); // gradient w.r.t. the gate pre-activations, input side
  const dGh = mode === "GRU" ? take(N * G) : dG; // ... hidden side (differs for the GRU's n gate)
  const hPrev = take(N * R); // h entering each row's step
  const dh = take(B * R); // running dL/dh of every sequence
  const dc = mode === "LSTM" ? take(B * H) : dh; // running dL/dc
  const dhAll = P > 0 ? take(N * P) : dh; // dL/dh of every row (projection)
  const dhU = P > 0 ? take(B * H) : dh; // dL/d(o·tanh c) of one step (projection)
  const hU = P > 0 ? take(N * H) : dh; // o·tanh c of every row (projection)

  if (dHn !== null) dh.set(dHn);
  else dh.fill(0);
  if (mode === "LSTM") {
    if (dCn !== null) dc.set(dCn);
    else dc.fill(0);
  }
  const st: BackState = {
    H,
    R,
    P,
    G,
    w,
    y,
    dY,
    gates: isRnn ? y : saved!,
    cAll: mode === "LSTM" ? saved!.subarray(4 * N * H, 5 * N * H) : null,
    tcAll: mode === "LSTM" ? saved!.subarray(5 * N * H, 6 * N * H) : null,
    hnAll: mode === "GRU" ? saved!.subarray(3 * N * H, 4 * N * H) : null,
    c0,
    hPrev,
    dG,
    dGh,
    dh,
    dc,
    dhAll,
    dhU,
  };

  // steps in the opposite order of the forward; "prev" is the step the forward ran just before t
  const bs = dims.batchSizes;
  let off = reverse ? 0 : N;
  for (let k = T - 1; k >= 0; k--) {
    const t = reverse ? T - 1 - k : k;
    const bt = bs === null ? B : bs[t];
    if (!reverse) off -= bt;
    let prevOff = 0;
    let prevCount = 0; // rows [0, prevCount) continue from step prev; the others start from h0
    if (!reverse && t > 0) {
      prevOff = off - (bs === null ? B : bs[t - 1]);
      prevCount = bt;
    } else if (reverse && t < T - 1) {
      prevOff = off + bt;
      prevCount = bs === null ? B : bs[t + 1];
    }
    for (let b = 0; b < bt; b++) {
      const dst = (off + b) * R;
      if (b < prevCount) copy(y, (prevOff + b) * R, hPrev, dst, R);
      else if (h0 !== null) copy(h0, b * R, hPrev, dst, R);
      else hPrev.fill(0, dst, dst + R);
    }
    if (mode === "LSTM") lstmStepBackward(st, off, bt, prevOff, prevCount);
    else if (mode === "GRU") gruStepBackward(st, off, bt);
    else rnnStepBackward(st, mode === "RNN_RELU", off, bt);
    if (reverse) off += bt;
  }

  if (dH0 !== null) dH0.set(dh);
  if (dC0 !== null) dC0.set(dc);
  // everything that is a sum over steps, as one product over all N rows
  if (dX !== null) gemm(false, false, N, I, G, dG, 0, G, w.wIh, 0, I, 0, dX, 0, I); // dX = dG · W_ih
  if (dW.dWih !== null) gemm(true, false, G, I, N, dG, 0, G, x, 0, I, 1, dW.dWih, 0, I); // += dGᵀ · X
  if (dW.dWhh !== null) gemm(true, false, G, R, N, dGh, 0, G, hPrev, 0, R, 1, dW.dWhh, 0, R); // += dGhᵀ · hPrev
  if (dW.dBih !== null) addColumnSums(dG, N, G, dW.dBih);
  if (dW.dBhh !== null) addColumnSums(dGh, N, G, dW.dBhh);
  if (dW.dWhr !== null) {
    const gates = st.gates;
    const tcAll = st.tcAll!;
    for (let n = 0; n < N; n++) {
      for (let j = 0; j < H; j++) hU[n * H + j] = gates[n * G + 3 * H + j] * tcAll[n * H + j];
    }
    gemm(true, false, P, H, N, dhAll, 0, P, hU, 0, H, 1, dW.dWhr, 0, H); // += dhᵀ · (o·tanh c)
  }
}

// ---------------------------------------------------------------------------------------------------------
// One step of each cell, forward and backward side by side. A step updates rows [off, off + bt) of the
// sequence, i.e. sequences 0 .. bt-1.

interface StepState {
  H: number;
  R: number;
  P: number;
  G: number;
  w: RnnWeights;
  y: Float32Array; // (N, R)
  h: Float32Array; // (B, R) running h
  c: Float32Array | null; // (B, H) running c, LSTM
  gates: Float32Array; // (N, G) input pre-activations in, activations out (RNN: this is y)
  cAll: Float32Array | null; // (N, H) c of every row, LSTM training
  tcAll: Float32Array | null; // (N, H) tanh(c) of every row, LSTM training
  hnAll: Float32Array | null; // (N, H) W_hn h + b_hn of every row, GRU training
  tmp: Float32Array; // (B, G) GRU's W_hh h + b_hh, or (B, H) LSTM's o·tanh(c) before the projection
}

interface BackState {
  H: number;
  R: number;
  P: number;
  G: number;
  w: RnnWeights;
  y: Float32Array; // (N, R)
  dY: Float32Array | null; // (N, R)
  gates: Float32Array; // (N, G) saved activations (RNN: y)
  cAll: Float32Array | null; // (N, H)
  tcAll: Float32Array | null; // (N, H)
  hnAll: Float32Array | null; // (N, H)
  c0: Float32Array | null; // (B, H)
  hPrev: Float32Array; // (N, R) h entering each row's step
  dG: Float32Array; // (N, G) out
  dGh: Float32Array; // (N, G) out, GRU
  dh: Float32Array; // (B, R) running dL/dh: in, the gradient after the step; out, before it
  dc: Float32Array; // (B, H) running dL/dc, LSTM
  dhAll: Float32Array; // (N, P) dL/dh of every row, projection
  dhU: Float32Array; // (B, H) dL/d(o·tanh c), projection
}

// RNN: h' = act(pre), pre = W_ih x + b_ih + W_hh h + b_hh. act' is read from the output: tanh' = 1 - h'²,
// relu' = [h' > 0].
function rnnStepForward(s: StepState, relu: boolean, off: number, bt: number): void {
  const { H, y, h, w } = s;
  gemm(false, true, bt, H, H, h, 0, H, w.wHh, 0, H, 1, y, off * H, H); // pre += h · W_hhᵀ
  const end = (off + bt) * H;
  for (let q = off * H; q < end; q++) {
    const v = y[q];
    y[q] = relu ? Math.max(0, v) : Math.tanh(v);
  }
  copy(y, off * H, h, 0, bt * H);
}

function rnnStepBackward(s: BackState, relu: boolean, off: number, bt: number): void {
  const { H, y, dY, dG, dh, w } = s;
  for (let b = 0; b < bt; b++) {
    for (let j = 0; j < H; j++) {
      const q = (off + b) * H + j;
      const d = dh[b * H + j] + (dY !== null ? dY[q] : 0);
      const v = y[q];
      dG[q] = relu ? (v > 0 ? d : 0) : d * (1 - v * v);
    }
  }
  gemm(false, false, bt, H, H, dG, off * H, H, w.wHh, 0, H, 0, dh, 0, H); // dh = dG · W_hh
}

// LSTM: (i, f, g, o) = (σ, σ, tanh, σ)(W_ih x + b_ih + W_hh h + b_hh), c' = f·c + i·g, h' = o·tanh(c'),
// projected h' = W_hr (o·tanh(c')) when P > 0.
function lstmStepForward(s: StepState, off: number, bt: number): void {
  const { H, R, P, G, w, y, h, gates, cAll, tcAll, tmp } = s;
  const c = s.c!;
  gemm(false, true, bt, G, R, h, 0, R, w.wHh, 0, R, 1, gates, off * G, G); // pre += h · W_hhᵀ
  for (let b = 0; b < bt; b++) {
    const gr = (off + b) * G;
    const row = (off + b) * H;
    for (let j = 0; j < H; j++) {
      const ig = sigmoid(gates[gr + j]);
      const fg = sigmoid(gates[gr + H + j]);
      const gg = Math.tanh(gates[gr + 2 * H + j]);
      const og = sigmoid(gates[gr + 3 * H + j]);
      gates[gr + j] = ig;
      gates[gr + H + j] = fg;
      gates[gr + 2 * H + j] = gg;
      gates[gr + 3 * H + j] = og;
      c[b * H + j] = fg * c[b * H + j] + ig * gg;
      const tc = Math.tanh(c[b * H + j]);
      if (cAll !== null && tcAll !== null) {
        cAll[row + j] = c[b * H + j];
        tcAll[row + j] = tc;
      }
      if (P === 0) y[row + j] = h[b * H + j] = og * tc;
      else tmp[b * H + j] = og * tc;
    }
  }
  if (P > 0) {
    gemm(false, true, bt, P, H, tmp, 0, H, w.wHr!, 0, H, 0, y, off * P, P); // h' = (o·tanh c) · W_hrᵀ
    copy(y, off * P, h, 0, bt * P);
  }
}

function lstmStepBackward(s: BackState, off: number, bt: number, prevOff: number, prevCount: number): void {
  const { H, R, P, G, w, dY, gates, c0, dG, dh, dc, dhAll, dhU } = s;
  const cAll = s.cAll!;
  const tcAll = s.tcAll!;
  if (P > 0) {
    for (let b = 0; b < bt; b++) {
      for (let p = 0; p < P; p++) {
        const q = (off + b) * P + p;
        dhAll[q] = dh[b * P + p] + (dY !== null ? dY[q] : 0);
      }
    }
    gemm(false, false, bt, H, P, dhAll, off * P, P, w.wHr!, 0, H, 0, dhU, 0, H); // dhU = dh · W_hr
  }
  for (let b = 0; b < bt; b++) {
    const gr = (off + b) * G;
    const row = (off + b) * H;
    for (let j = 0; j < H; j++) {
      const du = P > 0 ? dhU[b * H + j] : dh[b * H + j] + (dY !== null ? dY[row + j] : 0);
      const ig = gates[gr + j];
      const fg = gates[gr + H + j];
      const gg = gates[gr + 2 * H + j];
      const og = gates[gr + 3 * H + j];
      const tc = tcAll[row + j];
      const cPrev = b < prevCount ? cAll[(prevOff + b) * H + j] : c0 !== null ? c0[b * H + j] : 0;
      const dcv = dc[b * H + j] + du * og * (1 - tc * tc);
      dG[gr + j] = dcv * gg * ig * (1 - ig);
      dG[gr + H + j] = dcv * cPrev * fg * (1 - fg);
      dG[gr + 2 * H + j] = dcv * ig * (1 - gg * gg);
      dG[gr + 3 * H + j] = du * tc * og * (1 - og);
      dc[b * H + j] = dcv * fg;
    }
  }
  gemm(false, false, bt, R, G, dG, off * G, G, w.wHh, 0, R, 0, dh, 0, R); // dh = dG · W_hh
}

// GRU: r = σ(W_ir x + b_ir + W_hr h + b_hr), z likewise, n = tanh(W_in x + b_in + r·(W_hn h + b_hn)),
// h' = (1 - z)·n + z·h. The hidden-side gradient of n is r times its input-side one.
function gruStepForward(s: StepState, off: number, bt: number): void {
  const { H, G, w, y, h, gates, hnAll, tmp } = s;
  gemm(false, true, bt, G, H, h, 0, H, w.wHh, 0, H, 0, tmp, 0, G); // hh = h · W_hhᵀ
  if (w.bHh !== null) addBias(tmp, bt, G, w.bHh);
  for (let b = 0; b < bt; b++) {
    const gr = (off + b) * G;
    const tr = b * G;
    const row = (off + b) * H;
    for (let j = 0; j < H; j++) {
      const rg = sigmoid(gates[gr + j] + tmp[tr + j]);
      const zg = sigmoid(gates[gr + H + j] + tmp[tr + H + j]);
      const hn = tmp[tr + 2 * H + j];
      const ng = Math.tanh(gates[gr + 2 * H + j] + rg * hn);
      gates[gr + j] = rg;
      gates[gr + H + j] = zg;
      gates[gr + 2 * H + j] = ng;
      if (hnAll !== null) hnAll[row + j] = hn;
      y[row + j] = h[b * H + j] = (1 - zg) * ng + zg * h[b * H + j];
    }
  }
}

function gruStepBackward(s: BackState, off: number, bt: number): void {
  const { H, G, w, dY, gates, hPrev, dG, dGh, dh } = s;
  const hnAll = s.hnAll!;
  for (let b = 0; b < bt; b++) {
    const gr = (off + b) * G;
    const row = (off + b) * H;
    for (let j = 0; j < H; j++) {
      const d = dh[b * H + j] + (dY !== null ? dY[row + j] : 0);
      const rg = gates[gr + j];
      const zg = gates[gr + H + j];
      const ng = gates[gr + 2 * H + j];
      const dn = d * (1 - zg) * (1 - ng * ng);
      const dr = dn * hnAll[row + j] * rg * (1 - rg);
      const dz = d * (hPrev[row + j] - ng) * zg * (1 - zg);
      dG[gr + j] = dGh[gr + j] = dr;
      dG[gr + H + j] = dGh[gr + H + j] = dz;
      dG[gr + 2 * H + j] = dn;
      dGh[gr + 2 * H + j] = dn * rg;
      dh[b * H + j] = d * zg;
    }
  }
  gemm(false, false, bt, H, G, dGh, off * G, G, w.wHh, 0, H, 1, dh, 0, H); // dh += dGh · W_hh
}

// ---------------------------------------------------------------------------------------------------------
// Helpers

function sigmoid(v: number): number {
  return 1 / (1 + Math.exp(-v));
}

function copy(src: Float32Array, srcOff: number, dst: Float32Array, dstOff: number, n: number): void {
  for (let i = 0; i < n; i++) dst[dstOff + i] = src[srcOff + i];
}

/** a[n, :] += bias for every row n < rows. */
function addBias(a: Float32Array, rows: number, cols: number, bias: Float32Array): void {
  for (let n = 0; n < rows; n++) {
    const r = n * cols;
    for (let j = 0; j < cols; j++) a[r + j] += bias[j];
  }
}

/** out[j] += Σ_n a[n, j]. */
function addColumnSums(a: Float32Array, rows: number, cols: number, out: Float32Array): void {
  for (let n = 0; n < rows; n++) {
    const r = n * cols;
    for (let j = 0; j < cols; j++) out[j] += a[r + j];
  }
}

/** @internal shared with the WebAssembly wrappers (kernels/wasm.ts) */
export function expectLength(fn: string, name: string, a: Float32Array, n: number, formula: string): void {
  if (a.length !== n) {
    throw new Error(`${fn}: ${name} should have ${formula} = ${n} elements, got ${a.length}`);
  }
}

/** @internal shared with the WebAssembly wrappers (kernels/wasm.ts) */
export function expectAtLeast(fn: string, name: string, a: Float32Array, n: number): void {
  if (a.length < n) {
    throw new Error(
      `${fn}: ${name} should have at least ${n} elements (see rnnWorkspaceSize), got ${a.length}`,
    );
  }
}

/** @internal shared with the WebAssembly wrappers (kernels/wasm.ts) */
export function expectGrad(
  fn: string,
  name: string,
  g: Float32Array | null,
  param: Float32Array | null,
): void {
  if (g === null) return;
  if (param === null) throw new Error(`${fn}: got ${name} for a parameter that does not exist (null)`);
  if (g.length !== param.length) {
    throw new Error(
      `${fn}: ${name} should have ${param.length} elements like its parameter, got ${g.length}`,
    );
  }
}

/** Validates what forward and backward share; returns G, R and the row count N. */
/** @internal shared with the WebAssembly wrappers (kernels/wasm.ts) */
export function checkCommon(
  fn: string,
  dims: RnnDims,
  w: RnnWeights,
  x: Float32Array,
  h0: Float32Array | null,
  c0: Float32Array | null,
): { G: number; R: number; N: number } {
  const { mode, T, B, I, H, P, batchSizes } = dims;
  const G = rnnGateCount(mode) * H;
  for (const [name, v] of [
    ["T", T],
    ["B", B],
    ["I", I],
    ["P", P],
  ] as const) {
    if (!Number.isInteger(v) || v < 0) throw new Error(`${fn}: ${name} should be an integer ≥ 0, got ${v}`);
  }
  if (!Number.isInteger(H) || H < 1) throw new Error(`${fn}: H should be an integer ≥ 1, got ${H}`);
  if (P > 0 && mode !== "LSTM")
    throw new Error(`${fn}: a projection (P = ${P}) needs mode LSTM, got ${mode}`);
  const R = P > 0 ? P : H;
  let N = T * B;
  if (batchSizes !== null) {
    if (batchSizes.length !== T) {
      throw new Error(`${fn}: batchSizes should have T = ${T} entries, got ${batchSizes.length}`);
    }
    N = 0;
    for (let t = 0; t < T; t++) {
      const bt = batchSizes[t];
      if (bt < 0 || bt > B || (t > 0 && bt > batchSizes[t - 1])) {
        throw new Error(
          `${fn}: batchSizes should be non-increasing and within [0, B = ${B}], got [${batchSizes.join(", ")}]`,
        );
      }
      N += bt;
    }
  }
  expectLength(fn, "x", x, N * I, "N·I");
  if (h0 !== null) expectLength(fn, "h0", h0, B * R, "B·R");
  if (c0 !== null) {
    if (mode !== "LSTM") throw new Error(`${fn}: c0 is for mode LSTM only, got it in mode ${mode}`);
    expectLength(fn, "c0", c0, B * H, "B·H");
  }
  expectLength(fn, "wIh", w.wIh, G * I, "G·I");
  expectLength(fn, "wHh", w.wHh, G * R, "G·R");
  if (w.bIh !== null) expectLength(fn, "bIh", w.bIh, G, "G");
  if (w.bHh !== null) expectLength(fn, "bHh", w.bHh, G, "G");
  if (P > 0) {
    if (w.wHr === null) throw new Error(`${fn}: P = ${P} needs wHr (P·H = ${P * H}), got null`);
    expectLength(fn, "wHr", w.wHr, P * H, "P·H");
  } else if (w.wHr !== null) {
    throw new Error(`${fn}: wHr is only for P > 0, got it with P = 0`);
  }
  return { G, R, N };
}
