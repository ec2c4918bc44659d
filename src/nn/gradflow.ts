// Gradient flow through time: how much the end of a sequence "hears" of each step, as the study notes
// teach it. For a recurrent layer, ∂h_T/∂h_t = ∏_{k=t+1..T} ∂h_k/∂h_{k-1}, and for a plain RNN each
// factor is diag(f'(W_I x_k + W_R h_{k-1})) · W_R: the same W_R multiplied again and again, so the
// product shrinks (vanishes) or grows (explodes) geometrically with T - t. The LSTM adds a cell path
// c_k = f_k ⊙ c_{k-1} + i_k ⊙ g_k whose direct factor is diag(f_k), not a weight matrix.
//
// `gradientFlow` measures, for each layer and direction and each time step t:
//   - ‖∂L/∂h_t‖₂ for a loss on the last step's output, read with `retainGrad()` on every h_t of the
//     module run unrolled step by step (the module's own weights, the generic-op twin of the kernels);
//   - ‖∂h_end/∂h_t‖ (Frobenius and spectral), the product of the per-step state Jacobians written out
//     by hand below (diag(f')·W_R for the RNN, the full LSTM and GRU step Jacobians) and multiplied in
//     float64; for the LSTM also ‖∂c_end/∂c_t‖ and the forget-gate path ‖∏ diag(f_k)‖.
// `clipExperiment` trains a small sequence model with and without gradient-norm clipping and records
// the gradient norm before and after clipping at every step.
//
// Legend: T = time, I = layer input, H = hidden, R = size of h (the projection P, or H),
// S = state size (R + H for the LSTM, whose state is [h; c]; R otherwise), G = gates·H.

import * as F from "../core/ops.js";
import { defaultGenerator, manualSeed } from "../core/random.js";
import { noGrad, Tensor } from "../core/tensor.js";
import { clipGradNorm_ } from "./clip.js";
import { Linear } from "./linear.js";
import { mseLoss } from "./loss.js";
import type { Parameter } from "./module.js";
import { cellStep, GRU, type LayerRunner, LSTM, RNN, RNNBase, type RNNMode } from "./rnn.js";

export type RecurrentState = Tensor | [Tensor, Tensor];

/** A norm per time step, two ways: Frobenius, and spectral (the largest singular value). */
export interface NormSeries {
  frobenius: number[]; // (T)
  spectral: number[]; // (T)
}

/** What one layer in one direction sees; every array is indexed by position, entry t-1 for step t. */
export interface LayerFlow {
  layer: number;
  direction: "forward" | "reverse";
  /** The step this direction ends on (T forward, 1 reverse): the `end` in ∂h_end/∂h_t. */
  endStep: number;
  /** ‖∂L/∂h_t‖₂: the whole gradient reaching h_t (through later steps and layers above). */
  gradH: number[];
  /** LSTM: ‖∂L/∂c_t‖₂. */
  gradC: number[] | null;
  /** ‖∂h_end/∂h_t‖ within this layer's recurrence (its input held fixed); null if not computed. */
  jacobianH: NormSeries | null;
  /** LSTM: ‖∂c_end/∂c_t‖, the cell-to-cell block of the same product. */
  jacobianC: NormSeries | null;
  /** LSTM: ‖∏_{k after t} diag(f_k)‖, the direct cell path (the constant-error carousel). */
  forgetPath: NormSeries | null;
  /** ‖W_hh‖₂ of this layer-direction (for the RNN, the notes' ‖W_R‖). */
  weightHhSpectral: number;
}

export interface GradientFlowResult {
  mode: RNNMode;
  /** Sequence length. */
  T: number;
  hiddenSize: number;
  /** Size of h (projSize for a projected LSTM, else hiddenSize). */
  outputHiddenSize: number;
  numLayers: number;
  bidirectional: boolean;
  /** The value of the loss whose gradient `gradH` measures. */
  loss: number;
  /** Per layer, forward then reverse. */
  layers: LayerFlow[];
}

export { flowRatio } from "./flow-ratio.js";

export interface GradientFlowOptions {
  /**
   * The loss, from the last step's output (D·R) and the whole output (T, D·R); default: the sum of
   * the last step's output. Must return a one-element tensor.
   */
  loss?: (last: Tensor, output: Tensor) => Tensor;
  /** The initial state, shaped as the module's forward takes it (default zeros). */
  hx?: RecurrentState | null;
  /** Compute the Jacobian norms (default true); false keeps only the autograd gradients. */
  jacobians?: boolean;
  /**
   * How to get spectral norms: "exact" (Jacobi eigenvalues of JᵀJ), "power" (power iteration on JᵀJ,
   * warm-started from the previous step), or "auto" (default: exact up to 64 columns, else power).
   */
  spectral?: "auto" | "exact" | "power";
  /**
   * Called after each time step of the Jacobian products (the long part for long sequences), with the
   * steps done and to do over all layer-directions; lets a caller show progress or give up (by throwing).
   */
  onStep?: (done: number, total: number) => void;
}

/** The per-step tensors of one layer-direction, captured while the module runs unrolled. */
interface Captured {
  reverse: boolean;
  x: Float32Array; // (T, I) the layer's input
  h0: Float32Array; // (R)
  c0: Float32Array | null; // (H)
  hs: Tensor[]; // T × (1, R), by position
  cs: Tensor[] | null; // T × (1, H), by position
  w: Weights;
}

interface Weights {
  wIh: Float32Array; // (G, I)
  wHh: Float32Array; // (G, R)
  bIh: Float32Array | null; // (G)
  bHh: Float32Array | null; // (G)
  wHr: Float32Array | null; // (P, H)
}

function fail(msg: string): never {
  throw new Error(`gradientFlow: ${msg}`);
}

/**
 * Runs `module` (RNN, LSTM or GRU; any layers; one or two directions) on one input sequence — (T, I),
 * or batched with a batch of 1 — and measures the gradient flow through time; see the file header.
 * The module runs unrolled and in evaluation mode (no dropout); its weights, training mode, runner and
 * `requiresGrad` flags are restored afterwards and its `.grad`s are left untouched.
 *
 * Cost: one forward and backward of the unrolled graph, O(T·G·(I + R)) per layer-direction; with
 * Jacobians, O(T·S³) more for the running product of the S×S step Jacobians, plus per step O(R³)
 * (exact spectral norm) or O(iterations·R²) (power iteration) for each reported block.
 */
export function gradientFlow(
  module: RNNBase,
  input: Tensor,
  options: GradientFlowOptions = {},
): GradientFlowResult {
  if (!(module instanceof RNNBase)) fail(`expected an RNN, LSTM or GRU module, got ${String(module)}`);
  if (!(input instanceof Tensor)) fail(`expected the input as a Tensor, got ${typeof input}`);
  const L = module.numLayers;
  const D = module.numDirections;
  const H = module.hiddenSize;
  const R = module.outputHiddenSize;
  const isLstm = module.mode === "LSTM";
  let T: number;
  let batched: boolean;
  if (input.ndim === 2) {
    T = input.shape[0];
    batched = false;
  } else if (input.ndim === 3) {
    const B = module.batchFirst ? input.shape[0] : input.shape[1];
    if (B !== 1) {
      fail(
        `expected one sequence: (T, ${module.inputSize}) or a batch of 1, got shape [${input.shape.join(", ")}] (batch ${B})${module.batchFirst ? " with batchFirst" : ""}`,
      );
    }
    T = module.batchFirst ? input.shape[1] : input.shape[0];
    batched = true;
  } else {
    fail(`expected a 2-D (T, I) or 3-D input, got shape [${input.shape.join(", ")}]`);
  }
  if (T < 1) fail("the input sequence is empty (T = 0)");
  const lossFn = options.loss ?? ((last: Tensor) => F.sum(last));
  const spectralMode = options.spectral ?? "auto";
  if (!["auto", "exact", "power"].includes(spectralMode)) {
    fail(`spectral must be "auto", "exact" or "power", got ${String(spectralMode)}`);
  }

  // Initial state as leaves that require a gradient, so every h_t is in the graph even when the
  // parameters are frozen (they are, below: their gradients are not wanted here).
  const stateShape = batched ? [L * D, 1, R] : [L * D, R];
  const cellShape = batched ? [L * D, 1, H] : [L * D, H];
  const leaf = (t: Tensor | undefined, shape: number[], what: string): Tensor => {
    const n = shape.reduce((a, b) => a * b, 1);
    if (t === undefined) return new Tensor(new Float32Array(n), shape, true);
    if (!(t instanceof Tensor) || t.numel !== n) {
      fail(
        `expected ${what} of shape [${shape.join(", ")}], got ${t instanceof Tensor ? `[${t.shape.join(", ")}]` : typeof t}`,
      );
    }
    return new Tensor(Float32Array.from(t.data), shape, true);
  };
  const hx = options.hx ?? null;
  if (hx !== null && isLstm !== Array.isArray(hx)) {
    fail(isLstm ? "the LSTM's hx must be a pair [h0, c0]" : "hx must be a tensor, not a pair");
  }
  const h0 = leaf(hx === null ? undefined : Array.isArray(hx) ? hx[0] : hx, stateShape, "h0");
  const c0 = isLstm ? leaf(hx === null ? undefined : (hx as [Tensor, Tensor])[1], cellShape, "c0") : null;

  const captured: Captured[] = [];
  const runner: LayerRunner = (a) => {
    const steps = a.batchSizes.length;
    let h = a.h0;
    let c = a.c0;
    const hs: Tensor[] = new Array(steps);
    const cs: Tensor[] | null = c === null ? null : new Array(steps);
    for (let k = 0; k < steps; k++) {
      const t = a.reverse ? steps - 1 - k : k;
      const [hNew, cNew] = cellStep(a.mode, F.narrow(a.x, 0, t, 1), h, c, a.wIh, a.wHh, a.bIh, a.bHh, a.wHr);
      hs[t] = hNew.retainGrad();
      if (cs !== null && cNew !== null) cs[t] = cNew.retainGrad();
      h = hNew;
      c = cNew;
    }
    captured.push({
      reverse: a.reverse,
      x: Float32Array.from(a.x.data),
      h0: Float32Array.from(a.h0.data),
      c0: a.c0 === null ? null : Float32Array.from(a.c0.data),
      hs,
      cs,
      w: {
        wIh: a.wIh.data,
        wHh: a.wHh.data,
        bIh: a.bIh?.data ?? null,
        bHh: a.bHh?.data ?? null,
        wHr: a.wHr?.data ?? null,
      },
    });
    return { y: F.cat(hs, 0), hN: h, cN: c };
  };

  const params = module.parameters();
  const flags = params.map((p) => p.requiresGrad);
  const wasTraining = module.training;
  const prevRunner = module.runner;
  let lossValue: number;
  try {
    for (const p of params) p.requiresGrad = false;
    module.eval();
    module.runner = runner;
    const fwd = module as unknown as { forward(x: Tensor, hx: RecurrentState): [Tensor, unknown] };
    const [out] = fwd.forward(input, isLstm ? [h0, c0!] : h0);
    const output = F.reshape(out, [T, D * R]);
    const loss = lossFn(F.select(output, 0, T - 1), output);
    if (!(loss instanceof Tensor) || loss.numel !== 1) {
      fail(
        `the loss function must return a one-element Tensor, got ${loss instanceof Tensor ? `shape [${loss.shape.join(", ")}]` : typeof loss}`,
      );
    }
    lossValue = loss.data[0];
    if (loss.requiresGrad) loss.backward();
  } finally {
    params.forEach((p, i) => {
      p.requiresGrad = flags[i];
    });
    module.train(wasTraining);
    module.runner = prevRunner;
  }

  const norm2 = (t: Tensor | null) => (t?.grad ? vecNorm(t.grad.data) : 0);
  const total = captured.length * T;
  const onStep = options.onStep;
  const layers: LayerFlow[] = captured.map((cap, idx) => {
    const flow: LayerFlow = {
      layer: Math.floor(idx / D),
      direction: cap.reverse ? "reverse" : "forward",
      endStep: cap.reverse ? 1 : T,
      gradH: cap.hs.map(norm2),
      gradC: cap.cs ? cap.cs.map(norm2) : null,
      jacobianH: null,
      jacobianC: null,
      forgetPath: null,
      weightHhSpectral: spectralNorm(Float64Array.from(cap.w.wHh), cap.w.wHh.length / R, R, "auto"),
    };
    if (options.jacobians ?? true) {
      const before = idx * T;
      const step = onStep && ((done: number) => onStep(before + done, total));
      Object.assign(flow, jacobianNorms(module.mode, cap, H, R, T, spectralMode, step));
    }
    return flow;
  });
  return {
    mode: module.mode,
    T,
    hiddenSize: H,
    outputHiddenSize: R,
    numLayers: L,
    bidirectional: module.bidirectional,
    loss: lossValue,
    layers,
  };
}

// ---------------------------------------------------------------- step Jacobians

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/** y (n) = W (n, m) · v (m) + b (n), in float64, rows [r0, r0 + n) of W. */
function affine(
  W: Float32Array,
  m: number,
  r0: number,
  n: number,
  v: Float64Array,
  b: Float32Array | null,
  b2: Float32Array | null,
  y: Float64Array,
): void {
  for (let i = 0; i < n; i++) {
    let s = (b ? b[r0 + i] : 0) + (b2 ? b2[r0 + i] : 0);
    const off = (r0 + i) * m;
    for (let j = 0; j < m; j++) s += W[off + j] * v[j];
    y[i] = s;
  }
}

/**
 * One step's state Jacobian J = ∂s_k/∂s_{k-1} (S, S), rows [h_k; c_k], columns [h_{k-1}; c_{k-1}],
 * recomputed in float64 from the step's input x (I) and previous state h (R), c (H). Also returns the
 * step's forget gate f (H) for the LSTM.
 *
 *   RNN:  ∂h'/∂h = diag(f'(a)) W_hh,  a = W_ih x + b_ih + W_hh h + b_hh,  f' = 1 - h'² | [a > 0]
 *   LSTM: c' = f⊙c + i⊙g, m = o⊙tanh(c'), h' = W_hr m (or m):
 *         ∂c'/∂h = diag(c⊙f(1-f)) W_hf + diag(g⊙i(1-i)) W_hi + diag(i⊙(1-g²)) W_hg,  ∂c'/∂c = diag(f)
 *         ∂m/∂h = diag(tanh(c')⊙o(1-o)) W_ho + diag(o⊙(1-tanh²c')) ∂c'/∂h
 *         ∂m/∂c = diag(o⊙(1-tanh²c')⊙f)
 *   GRU:  h' = (1-z)⊙n + z⊙h, n = tanh(a_n + r⊙(W_hn h + b_hn)):
 *         ∂h'/∂h = diag(z) + diag((h-n)⊙z(1-z)) W_hz
 *                  + diag((1-z)⊙(1-n²)) (diag(r) W_hn + diag((W_hn h + b_hn)⊙r(1-r)) W_hr)
 */
function stepJacobian(
  mode: RNNMode,
  w: Weights,
  I: number,
  H: number,
  R: number,
  x: Float64Array, // (I)
  h: Float64Array, // (R)
  c: Float64Array | null, // (H)
  J: Float64Array, // (S, S) out
  fGate: Float64Array | null, // (H) out, LSTM
): void {
  const S = mode === "LSTM" ? R + H : R;
  J.fill(0);
  const { wIh, wHh, bIh, bHh, wHr } = w;
  if (mode === "RNN_TANH" || mode === "RNN_RELU") {
    const a = new Float64Array(H); // (H) pre-activation
    const gi = new Float64Array(H);
    affine(wIh, I, 0, H, x, bIh, null, gi);
    affine(wHh, R, 0, H, h, bHh, null, a);
    for (let i = 0; i < H; i++) {
      const pre = gi[i] + a[i];
      const d = mode === "RNN_TANH" ? 1 - Math.tanh(pre) ** 2 : pre > 0 ? 1 : 0; // f'(a)
      for (let j = 0; j < R; j++) J[i * S + j] = d * wHh[i * R + j];
    }
    return;
  }
  if (mode === "LSTM") {
    const gi = new Float64Array(4 * H); // (G)
    const gh = new Float64Array(4 * H); // (G)
    affine(wIh, I, 0, 4 * H, x, bIh, null, gi);
    affine(wHh, R, 0, 4 * H, h, bHh, null, gh);
    const dm = new Float64Array(H * S); // (H, S): ∂m/∂[h; c]
    for (let j = 0; j < H; j++) {
      const ig = sigmoid(gi[j] + gh[j]);
      const fg = sigmoid(gi[H + j] + gh[H + j]);
      const gg = Math.tanh(gi[2 * H + j] + gh[2 * H + j]);
      const og = sigmoid(gi[3 * H + j] + gh[3 * H + j]);
      const cPrev = c![j];
      const cNew = fg * cPrev + ig * gg;
      const tc = Math.tanh(cNew);
      if (fGate) fGate[j] = fg;
      const kf = cPrev * fg * (1 - fg);
      const ki = gg * ig * (1 - ig);
      const kg = ig * (1 - gg * gg);
      const kc = og * (1 - tc * tc); // ∂m/∂c'
      const ko = tc * og * (1 - og);
      const rowC = (R + j) * S; // row of c'_j in J
      for (let k = 0; k < R; k++) {
        const dc = kf * wHh[(H + j) * R + k] + ki * wHh[j * R + k] + kg * wHh[(2 * H + j) * R + k]; // ∂c'_j/∂h_k
        J[rowC + k] = dc;
        dm[j * S + k] = ko * wHh[(3 * H + j) * R + k] + kc * dc;
      }
      J[rowC + R + j] = fg; // ∂c'_j/∂c_j
      dm[j * S + R + j] = kc * fg;
    }
    if (wHr === null) {
      for (let j = 0; j < H; j++) for (let k = 0; k < S; k++) J[j * S + k] = dm[j * S + k];
    } else {
      // ∂h'/∂s = W_hr (P, H) · ∂m/∂s (H, S)
      for (let p = 0; p < R; p++) {
        for (let j = 0; j < H; j++) {
          const wv = wHr[p * H + j];
          if (wv === 0) continue;
          for (let k = 0; k < S; k++) J[p * S + k] += wv * dm[j * S + k];
        }
      }
    }
    return;
  }
  // GRU: gates r, z, n
  const gi = new Float64Array(3 * H); // (G)
  const gh = new Float64Array(3 * H); // (G)
  affine(wIh, I, 0, 3 * H, x, bIh, null, gi);
  affine(wHh, R, 0, 3 * H, h, bHh, null, gh);
  for (let j = 0; j < H; j++) {
    const r = sigmoid(gi[j] + gh[j]);
    const z = sigmoid(gi[H + j] + gh[H + j]);
    const hn = gh[2 * H + j]; // W_hn h + b_hn
    const n = Math.tanh(gi[2 * H + j] + r * hn);
    const kz = (h[j] - n) * z * (1 - z);
    const kn = (1 - z) * (1 - n * n);
    const kr = kn * hn * r * (1 - r);
    for (let k = 0; k < R; k++) {
      J[j * S + k] = kz * wHh[(H + j) * R + k] + kn * r * wHh[(2 * H + j) * R + k] + kr * wHh[j * R + k];
    }
    J[j * S + j] += z;
  }
}

/** The Jacobian-product norms of one captured layer-direction, walking from its end backwards. */
function jacobianNorms(
  mode: RNNMode,
  cap: Captured,
  H: number,
  R: number,
  T: number,
  spectral: "auto" | "exact" | "power",
  onStep?: (done: number) => void,
): Pick<LayerFlow, "jacobianH" | "jacobianC" | "forgetPath"> {
  const isLstm = mode === "LSTM";
  const S = isLstm ? R + H : R;
  const I = cap.x.length / T;
  const P = identity(S); // (S, S) ∂s_end/∂s_t, starting at t = end
  const J = new Float64Array(S * S); // (S, S) one step
  const tmp = new Float64Array(S * S); // (S, S)
  const hBlock = new Float64Array(R * R); // (R, R)
  const cBlock = isLstm ? new Float64Array(H * H) : null; // (H, H)
  const fGate = isLstm ? new Float64Array(H) : null; // (H)
  const fProd = isLstm ? new Float64Array(H).fill(1) : null; // (H) ∏ f_k after t
  const jh: NormSeries = { frobenius: new Array(T), spectral: new Array(T) };
  const jc: NormSeries | null = isLstm ? { frobenius: new Array(T), spectral: new Array(T) } : null;
  const fp: NormSeries | null = isLstm ? { frobenius: new Array(T), spectral: new Array(T) } : null;
  const warmH = new Float64Array(R); // power-iteration vectors, warm-started step to step
  const warmC = new Float64Array(H);
  const pos = (k: number) => (cap.reverse ? T - 1 - k : k); // processing order -> position
  const xk = new Float64Array(I);
  const hPrev = new Float64Array(R);
  const cPrev = isLstm ? new Float64Array(H) : null;
  for (let k = T - 1; k >= 0; k--) {
    const t = pos(k);
    // record the norms of ∂s_end/∂s_t
    for (let i = 0; i < R; i++) for (let j = 0; j < R; j++) hBlock[i * R + j] = P[i * S + j];
    jh.frobenius[t] = frobenius(hBlock);
    jh.spectral[t] = spectralNorm(hBlock, R, R, spectral, warmH);
    if (isLstm) {
      for (let i = 0; i < H; i++) for (let j = 0; j < H; j++) cBlock![i * H + j] = P[(R + i) * S + R + j];
      jc!.frobenius[t] = frobenius(cBlock!);
      jc!.spectral[t] = spectralNorm(cBlock!, H, H, spectral, warmC);
      fp!.frobenius[t] = frobenius(fProd!);
      let mx = 0;
      for (const v of fProd!) mx = Math.max(mx, Math.abs(v));
      fp!.spectral[t] = mx;
    }
    onStep?.(T - k);
    if (k === 0) break;
    // P ← P · ∂s_k/∂s_{k-1}: the step that produced s_k from s_{k-1} = s at pos(k-1)
    for (let i = 0; i < I; i++) xk[i] = cap.x[t * I + i];
    const prev = cap.hs[pos(k - 1)].data;
    for (let i = 0; i < R; i++) hPrev[i] = prev[i];
    if (isLstm) {
      const cp = cap.cs![pos(k - 1)].data;
      for (let i = 0; i < H; i++) cPrev![i] = cp[i];
    }
    stepJacobian(mode, cap.w, I, H, R, xk, hPrev, cPrev, J, fGate);
    matmul(P, J, tmp, S);
    P.set(tmp);
    if (isLstm) for (let i = 0; i < H; i++) fProd![i] *= fGate![i];
  }
  return { jacobianH: jh, jacobianC: jc, forgetPath: fp };
}

// ---------------------------------------------------------------- small dense linear algebra (float64)

function identity(n: number): Float64Array {
  const m = new Float64Array(n * n);
  for (let i = 0; i < n; i++) m[i * n + i] = 1;
  return m;
}

/** C (n, n) = A (n, n) · B (n, n). */
function matmul(A: Float64Array, B: Float64Array, C: Float64Array, n: number): void {
  C.fill(0);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      const a = A[i * n + k];
      if (a === 0) continue;
      const bo = k * n;
      const co = i * n;
      for (let j = 0; j < n; j++) C[co + j] += a * B[bo + j];
    }
  }
}

function vecNorm(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

/** The Frobenius norm, scaled so that very large or small entries neither overflow nor underflow. */
export function frobenius(A: ArrayLike<number>): number {
  let mx = 0;
  for (let i = 0; i < A.length; i++) mx = Math.max(mx, Math.abs(A[i]));
  if (mx === 0 || !Number.isFinite(mx)) return mx;
  let s = 0;
  for (let i = 0; i < A.length; i++) s += (A[i] / mx) ** 2;
  return mx * Math.sqrt(s);
}

/**
 * The spectral norm ‖A‖₂ (largest singular value) of A (rows, cols). "exact": the largest eigenvalue
 * of AᵀA by cyclic Jacobi rotations, O(cols³) per sweep; "power": power iteration on AᵀA, O(rows·cols)
 * per iteration, from `warm` (updated in place) when given; "auto": exact up to 64 columns.
 */
export function spectralNorm(
  A: ArrayLike<number>,
  rows: number,
  cols: number,
  method: "auto" | "exact" | "power" = "auto",
  warm?: Float64Array,
): number {
  let mx = 0;
  for (let i = 0; i < rows * cols; i++) mx = Math.max(mx, Math.abs(A[i]));
  if (mx === 0 || !Number.isFinite(mx)) return mx;
  const B = new Float64Array(rows * cols); // (rows, cols) A / max|A|
  for (let i = 0; i < rows * cols; i++) B[i] = A[i] / mx;
  const exact = method === "exact" || (method === "auto" && cols <= 64);
  return mx * (exact ? largestSingularJacobi(B, rows, cols) : largestSingularPower(B, rows, cols, warm));
}

function gram(B: Float64Array, rows: number, cols: number): Float64Array {
  const G = new Float64Array(cols * cols); // (cols, cols) BᵀB
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let i = 0; i < cols; i++) {
      const bi = B[o + i];
      if (bi === 0) continue;
      for (let j = i; j < cols; j++) G[i * cols + j] += bi * B[o + j];
    }
  }
  for (let i = 0; i < cols; i++) for (let j = 0; j < i; j++) G[i * cols + j] = G[j * cols + i];
  return G;
}

function largestSingularJacobi(B: Float64Array, rows: number, cols: number): number {
  const n = cols;
  const a = gram(B, rows, cols);
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    let diag = 0;
    for (let p = 0; p < n; p++) {
      diag += a[p * n + p] ** 2;
      for (let q = p + 1; q < n; q++) off += a[p * n + q] ** 2;
    }
    if (off <= 1e-30 * diag) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (apq === 0) continue;
        const theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p];
          const akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k];
          const aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
      }
    }
  }
  let lam = 0;
  for (let i = 0; i < n; i++) lam = Math.max(lam, a[i * n + i]);
  return Math.sqrt(Math.max(lam, 0));
}

function largestSingularPower(B: Float64Array, rows: number, cols: number, warm?: Float64Array): number {
  let v = new Float64Array(cols);
  if (warm && warm.length === cols && vecNorm(warm) > 0) v.set(warm);
  else for (let i = 0; i < cols; i++) v[i] = 1 + i / cols; // not orthogonal to a typical top vector
  const u = new Float64Array(rows);
  let w = new Float64Array(cols);
  let nv = vecNorm(v);
  for (let i = 0; i < cols; i++) v[i] /= nv;
  let lam = 0;
  for (let it = 0; it < 5000; it++) {
    for (let r = 0; r < rows; r++) {
      let s = 0;
      for (let j = 0; j < cols; j++) s += B[r * cols + j] * v[j];
      u[r] = s;
    }
    w.fill(0);
    for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) w[j] += B[r * cols + j] * u[r];
    nv = vecNorm(w);
    if (nv === 0) return 0;
    for (let j = 0; j < cols; j++) w[j] /= nv;
    [v, w] = [w, v];
    const done = Math.abs(nv - lam) <= 1e-13 * nv;
    lam = nv;
    if (done && it > 2) break;
  }
  if (warm && warm.length === cols) warm.set(v);
  return Math.sqrt(lam);
}

// ---------------------------------------------------------------- building the models we study

export type CellName = "rnn" | "rnn-relu" | "lstm" | "gru";

export interface FlowModelOptions {
  cell: CellName;
  inputSize: number;
  hidden: number;
  layers?: number;
  bidirectional?: boolean;
  /** Multiplies every W_hh after PyTorch's default init U(-1/√H, 1/√H) (default 1). */
  initScale?: number;
  /** LSTM only: sets the forget gate's total bias (b_ih's f chunk = value, b_hh's = 0). */
  forgetBias?: number | null;
}

/** An RNN / LSTM / GRU with default init (from the default generator), then the options applied. */
export function makeFlowModel(o: FlowModelOptions): RNN | LSTM | GRU {
  const opts = { numLayers: o.layers ?? 1, bidirectional: o.bidirectional ?? false };
  const m =
    o.cell === "lstm"
      ? new LSTM(o.inputSize, o.hidden, opts)
      : o.cell === "gru"
        ? new GRU(o.inputSize, o.hidden, opts)
        : o.cell === "rnn" || o.cell === "rnn-relu"
          ? new RNN(o.inputSize, o.hidden, { ...opts, nonlinearity: o.cell === "rnn" ? "tanh" : "relu" })
          : fail(`cell must be rnn, rnn-relu, lstm or gru, got ${String(o.cell)}`);
  if (o.initScale !== undefined && o.initScale !== 1) scaleRecurrent_(m, o.initScale);
  if (o.forgetBias !== undefined && o.forgetBias !== null) setForgetBias_(m, o.forgetBias);
  return m;
}

/** Multiplies every recurrent weight W_hh (the notes' W_R) of `module` by `scale`, in place. */
export function scaleRecurrent_(module: RNNBase, scale: number): RNNBase {
  if (!Number.isFinite(scale))
    throw new Error(`scaleRecurrent_: scale must be a finite number, got ${scale}`);
  for (const [name, p] of module.namedParameters()) {
    if (name.startsWith("weight_hh")) for (let i = 0; i < p.data.length; i++) p.data[i] *= scale;
  }
  return module;
}

/** LSTM: sets the forget gate's bias to `value` (b_ih's f chunk; b_hh's f chunk to 0), in place. */
export function setForgetBias_(module: RNNBase, value: number): RNNBase {
  if (module.mode !== "LSTM")
    throw new Error(`setForgetBias_: only an LSTM has a forget gate, got ${module.mode}`);
  if (!module.bias) throw new Error("setForgetBias_: the LSTM has no biases (bias=false)");
  if (!Number.isFinite(value)) throw new Error(`setForgetBias_: value must be a finite number, got ${value}`);
  const H = module.hiddenSize;
  for (const [name, p] of module.namedParameters()) {
    if (name.startsWith("bias_ih")) p.data.fill(value, H, 2 * H);
    if (name.startsWith("bias_hh")) p.data.fill(0, H, 2 * H);
  }
  return module;
}

// ---------------------------------------------------------------- the exploding case: clipping

export interface ClipExperimentOptions {
  cell: CellName;
  hidden: number;
  /** Multiplies W_hh after default init (the exploding case wants it above 1). */
  initScale: number;
  /** The clip bound (max total gradient norm) of the clipped run. */
  clip: number;
  /** Training steps per run (default 300). */
  steps?: number;
  /** Window length: each step predicts sin one step ahead over `seqLen` points (default 50). */
  seqLen?: number;
  /** Plain SGD learning rate (default 0.05). */
  lr?: number;
  seed?: number;
  forgetBias?: number | null;
  onStep?: (run: "unclipped" | "clipped", step: number, loss: number) => void;
}

export interface ClipRun {
  clip: number | null;
  /** Per step: the total gradient norm of all parameters before clipping. */
  gradNorm: number[];
  /** Per step: the total norm actually applied (after clipping; equals gradNorm without a clip). */
  appliedNorm: number[];
  loss: number[];
  /** The first step whose loss or gradient was not finite (the run stops there), or null. */
  divergedAt: number | null;
}

export interface ClipExperimentResult {
  options: Required<Omit<ClipExperimentOptions, "onStep" | "forgetBias">> & { forgetBias: number | null };
  unclipped: ClipRun;
  clipped: ClipRun;
}

/** A recurrent layer (batch first) and a Linear head on every step: the notes' sine network. */
class SeqNet {
  readonly rnn: RNN | LSTM | GRU;
  readonly head: Linear;

  constructor(o: FlowModelOptions) {
    this.rnn = makeFlowModel(o);
    this.head = new Linear(o.hidden, 1);
  }

  parameters(): Parameter[] {
    return [...this.rnn.parameters(), ...this.head.parameters()];
  }

  forward(x: Tensor): Tensor {
    const out = (this.rnn as unknown as { forward(x: Tensor): [Tensor, unknown] }).forward(x)[0]; // (T, H)
    return this.head.forward(out); // (T, 1)
  }
}

/**
 * Trains the same model twice from the same initial weights on the same windows — once as is, once
 * with `clipGradNorm_(params, clip)` before every update — with plain SGD (p ← p − lr·g, as
 * torch.optim.SGD without momentum; an adaptive optimizer such as Adam would rescale the step and hide
 * what the clipping does). The task is the notes' sine one-step-ahead prediction: a window
 * sin(linspace(s, s + 10, seqLen + 1)), s ∈ {0, 1, 2}, inputs its first seqLen points, targets the
 * last seqLen, MSE loss, a fresh zero state each step. Each run starts with `manualSeed(seed)` (the
 * default generator is reseeded, as `runSineExperiment` does), so both draw the same weights and windows.
 */
export function clipExperiment(opts: ClipExperimentOptions): ClipExperimentResult {
  const o = {
    cell: opts.cell,
    hidden: opts.hidden,
    initScale: opts.initScale,
    clip: opts.clip,
    steps: opts.steps ?? 300,
    seqLen: opts.seqLen ?? 50,
    lr: opts.lr ?? 0.05,
    seed: opts.seed ?? 0,
    forgetBias: opts.forgetBias ?? null,
  };
  const bad = (k: string, v: unknown, what: string) => {
    throw new Error(`clipExperiment: ${k} must be ${what}, got ${String(v)}`);
  };
  if (!["rnn", "rnn-relu", "lstm", "gru"].includes(o.cell)) bad("cell", o.cell, "rnn, rnn-relu, lstm or gru");
  for (const [k, v] of [
    ["hidden", o.hidden],
    ["steps", o.steps],
    ["seqLen", o.seqLen],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) bad(k, v, "a positive integer");
  }
  for (const [k, v] of [
    ["clip", o.clip],
    ["lr", o.lr],
    ["initScale", o.initScale],
  ] as const) {
    if (!(typeof v === "number" && v > 0 && Number.isFinite(v))) bad(k, v, "a positive number");
  }
  if (!Number.isInteger(o.seed)) bad("seed", o.seed, "an integer");
  const run = (clip: number | null): ClipRun => {
    // Same seed, same initial weights and the same windows for both runs.
    manualSeed(o.seed);
    const model = new SeqNet({
      cell: o.cell,
      inputSize: 1,
      hidden: o.hidden,
      initScale: o.initScale,
      forgetBias: o.forgetBias,
    });
    const params = model.parameters();
    const r: ClipRun = { clip, gradNorm: [], appliedNorm: [], loss: [], divergedAt: null };
    const n = o.seqLen + 1;
    const xs = new Float32Array(o.seqLen);
    const ys = new Float32Array(o.seqLen);
    for (let step = 0; step < o.steps; step++) {
      const s = defaultGenerator.randint(0, 3);
      for (let i = 0; i < n; i++) {
        const v = Math.fround(Math.sin(Math.fround(s + (10 * i) / (n - 1))));
        if (i < o.seqLen) xs[i] = v;
        if (i > 0) ys[i - 1] = v;
      }
      const x = new Tensor(Float32Array.from(xs), [o.seqLen, 1]);
      const y = new Tensor(Float32Array.from(ys), [o.seqLen, 1]);
      for (const p of params) p.grad = null;
      const loss = mseLoss(model.forward(x), y);
      loss.backward();
      const total = clip === null ? totalNorm(params) : clipGradNorm_(params, clip);
      const applied = clip === null ? total : totalNorm(params);
      r.loss.push(loss.item());
      r.gradNorm.push(total);
      r.appliedNorm.push(applied);
      opts.onStep?.(clip === null ? "unclipped" : "clipped", step, loss.item());
      if (!Number.isFinite(loss.item()) || !Number.isFinite(applied)) {
        r.divergedAt = step;
        break;
      }
      noGrad(() => {
        for (const p of params) {
          const g = p.grad!.data;
          const d = p.data;
          const lr = Math.fround(o.lr);
          for (let i = 0; i < d.length; i++) d[i] = d[i] - lr * g[i];
        }
      });
    }
    return r;
  };
  return { options: o, unclipped: run(null), clipped: run(o.clip) };
}

/** The total 2-norm of the parameters' gradients, as clipGradNorm_ computes it (float32 per tensor). */
function totalNorm(params: Parameter[]): number {
  let s = 0;
  for (const p of params) {
    if (p.grad === null) continue;
    const n = Math.fround(vecNorm(p.grad.data));
    s += n * n;
  }
  return Math.fround(Math.sqrt(s));
}
