// Gradient flow through time (src/nn/gradflow.ts).
//
// 1. Against PyTorch 1.13 (test/fixtures/gen/gradflow.py): for RNN tanh, RNN relu, LSTM (also with a
//    projection and with a forget-gate bias) and GRU, in a default, a vanishing (W_hh × 0.25), an
//    exploding (W_hh × 3, relu × 2), a two-layer bidirectional (random initial state) and a custom-loss
//    setting: ‖∂L/∂h_t‖ (PyTorch: retain_grad on every h_t of the model run step by step), ‖∂L/∂c_t‖,
//    the Frobenius and spectral norms of ∂h_end/∂h_t and ∂c_end/∂c_t (PyTorch:
//    torch.autograd.functional.jacobian in float64, torch.linalg.matrix_norm) and the forget path, all
//    within 1e-4 relative.
// 2. Qualitative, on fixed seeds: a tanh RNN with small recurrent weights loses many orders of magnitude
//    between t = T and t = 1, an LSTM of the same size with a positive forget bias does not (and with
//    the default init it does: the bias is what keeps the cell path open); the clipping experiment.
// 3. The linear algebra (spectral norms) against hand-computed cases, and the error messages.

import { describe, expect, it } from "vitest";
import { randn } from "../src/core/creation.js";
import { manualSeed } from "../src/core/random.js";
import { Tensor } from "../src/core/tensor.js";
import {
  clipExperiment,
  frobenius,
  gradientFlow,
  type LayerFlow,
  makeFlowModel,
  type NormSeries,
  setForgetBias_,
  spectralNorm,
} from "../src/nn/gradflow.js";
import { fusedLayer } from "../src/nn/rnn_fused.js";
import { GRU, LSTM, RNN, type RNNBase, type RNNMode } from "../src/nn/rnn.js";
import { expectClose, fromJson, loadFixture, type TensorJson } from "./helpers.js";

interface FlowJson {
  layer: number;
  direction: "forward" | "reverse";
  gradH: number[];
  gradC: number[] | null;
  weightHhSpectral: number;
  jacobianH: NormSeries;
  jacobianC: NormSeries | null;
  forgetPath: NormSeries | null;
}

interface CaseJson {
  name: string;
  mode: RNNMode;
  input_size: number;
  hidden_size: number;
  proj_size: number;
  num_layers: number;
  bidirectional: boolean;
  T: number;
  loss_kind: "sum_last" | "mean_sq_all";
  state_dict: Record<string, TensorJson>;
  x: TensorJson;
  h0: TensorJson | null;
  c0: TensorJson | null;
  loss: number;
  layers: FlowJson[];
}

const RTOL = 1e-4;
// Exact zeros (a reverse direction the loss never reaches) must stay zeros; nothing else is below this.
const ATOL = 1e-30;

function buildModule(c: CaseJson): RNNBase {
  const opts = { numLayers: c.num_layers, bidirectional: c.bidirectional };
  const m =
    c.mode === "LSTM"
      ? new LSTM(c.input_size, c.hidden_size, { ...opts, projSize: c.proj_size })
      : c.mode === "GRU"
        ? new GRU(c.input_size, c.hidden_size, opts)
        : new RNN(c.input_size, c.hidden_size, {
            ...opts,
            nonlinearity: c.mode === "RNN_TANH" ? "tanh" : "relu",
          });
  const sd: Record<string, Tensor> = {};
  for (const [k, v] of Object.entries(c.state_dict)) sd[k] = fromJson(v);
  m.loadStateDict(sd);
  return m;
}

function expectFlowMatches(got: LayerFlow, want: FlowJson, what: string): void {
  expect(got.layer, `${what}: layer`).toBe(want.layer);
  expect(got.direction, `${what}: direction`).toBe(want.direction);
  const opts = (s: string) => ({ rtol: RTOL, atol: ATOL, what: `${what} ${s}` });
  expectClose(got.gradH, want.gradH, opts("‖∂L/∂h_t‖"));
  expectClose([got.weightHhSpectral], [want.weightHhSpectral], opts("‖W_hh‖₂"));
  expectClose(got.jacobianH!.frobenius, want.jacobianH.frobenius, opts("‖∂h_end/∂h_t‖_F"));
  expectClose(got.jacobianH!.spectral, want.jacobianH.spectral, opts("‖∂h_end/∂h_t‖₂"));
  if (want.gradC === null) {
    expect(got.gradC).toBeNull();
    expect(got.jacobianC).toBeNull();
    expect(got.forgetPath).toBeNull();
    return;
  }
  expectClose(got.gradC!, want.gradC, opts("‖∂L/∂c_t‖"));
  expectClose(got.jacobianC!.frobenius, want.jacobianC!.frobenius, opts("‖∂c_end/∂c_t‖_F"));
  expectClose(got.jacobianC!.spectral, want.jacobianC!.spectral, opts("‖∂c_end/∂c_t‖₂"));
  expectClose(got.forgetPath!.frobenius, want.forgetPath!.frobenius, opts("‖∏ diag(f)‖_F"));
  expectClose(got.forgetPath!.spectral, want.forgetPath!.spectral, opts("‖∏ diag(f)‖₂"));
}

describe("gradientFlow matches PyTorch (retain_grad per step, autograd.functional.jacobian)", () => {
  for (const file of ["rnn_tanh", "rnn_relu", "lstm", "gru"]) {
    const { cases } = loadFixture<{ cases: CaseJson[] }>("gradflow", file);
    for (const c of cases) {
      it(`${c.name}: ${c.mode}, H=${c.hidden_size}${c.proj_size ? ` proj=${c.proj_size}` : ""}, ${c.num_layers} layer(s)${c.bidirectional ? ", bidirectional" : ""}, T=${c.T}`, () => {
        const m = buildModule(c);
        const x = fromJson(c.x);
        const hx =
          c.h0 === null
            ? null
            : c.mode === "LSTM"
              ? ([fromJson(c.h0), fromJson(c.c0!)] as [Tensor, Tensor])
              : fromJson(c.h0);
        const loss =
          c.loss_kind === "mean_sq_all" ? (_last: Tensor, out: Tensor) => out.square().mean() : undefined;
        const r = gradientFlow(m, x, { hx, loss, spectral: "exact" });
        expect(r.T).toBe(c.T);
        expect(r.layers.length).toBe(c.layers.length);
        expectClose(r.loss, c.loss, { rtol: 1e-5, atol: 1e-6, what: "loss" });
        r.layers.forEach((l, i) => {
          expectFlowMatches(l, c.layers[i], `${c.name} layer ${l.layer} ${l.direction}`);
        });
        // the identity at the direction's own end: ‖I‖_F = √R, ‖I‖₂ = 1
        for (const l of r.layers) {
          const end = l.endStep - 1;
          expect(l.jacobianH!.spectral[end]).toBeCloseTo(1, 12);
          expect(l.jacobianH!.frobenius[end]).toBeCloseTo(Math.sqrt(r.outputHiddenSize), 12);
        }
      });
    }
  }

  it("power iteration gives the same spectral norms as the exact method", () => {
    const { cases } = loadFixture<{ cases: CaseJson[] }>("gradflow", "lstm");
    for (const c of cases.slice(0, 3)) {
      const m = buildModule(c);
      const r = gradientFlow(m, fromJson(c.x), { spectral: "power" });
      r.layers.forEach((l, i) => {
        expectClose(l.jacobianH!.spectral, c.layers[i].jacobianH.spectral, {
          rtol: RTOL,
          atol: ATOL,
          what: `${c.name} power ‖∂h/∂h‖₂`,
        });
        expectClose(l.jacobianC!.spectral, c.layers[i].jacobianC!.spectral, {
          rtol: RTOL,
          atol: ATOL,
          what: `${c.name} power ‖∂c/∂c‖₂`,
        });
      });
    }
  });

  it("leaves the module as it found it: runner, training mode, requiresGrad flags, .grad", () => {
    const { cases } = loadFixture<{ cases: CaseJson[] }>("gradflow", "gru");
    const m = buildModule(cases[0]);
    m.train();
    const ps = m.parameters();
    ps[1].requiresGrad = false;
    ps[0].grad = new Tensor(new Float32Array(ps[0].numel).fill(7), ps[0].shape);
    const before = ps.map((p) => Float32Array.from(p.data));
    gradientFlow(m, fromJson(cases[0].x));
    expect(m.runner).toBe(fusedLayer);
    expect(m.training).toBe(true);
    expect(ps.map((p) => p.requiresGrad)).toEqual(ps.map((_, i) => i !== 1));
    expect(Array.from(ps[0].grad!.data).every((v) => v === 7)).toBe(true);
    expect(ps[2].grad).toBeNull();
    ps.forEach((p, i) => {
      expect(Array.from(p.data)).toEqual(Array.from(before[i]));
    });
  });

  it("takes a batch of one, batch-first or not, and gives the same numbers", () => {
    const { cases } = loadFixture<{ cases: CaseJson[] }>("gradflow", "rnn_tanh");
    const c = cases[0];
    const m = buildModule(c);
    const x = fromJson(c.x);
    const a = gradientFlow(m, x.unsqueeze(1));
    expectFlowMatches(a.layers[0], c.layers[0], "(T, 1, I)");
    const bf = new RNN(c.input_size, c.hidden_size, { batchFirst: true });
    bf.loadStateDict(m.stateDict());
    const b = gradientFlow(bf, x.unsqueeze(0));
    expectFlowMatches(b.layers[0], c.layers[0], "(1, T, I) batch first");
  });
});

describe("vanishing and exploding, qualitatively (fixed seeds)", () => {
  // H = 16, I = 4, T = 30, x ~ N(0, 1). W_hh is scaled by 0.5 for both cells ("small recurrent
  // weights"). The LSTM's forget gate gets a bias of 3 (σ(3) ≈ 0.95): with PyTorch's default init its
  // gates sit near σ(0) = 0.5, so ∏ diag(f) ≈ 0.5^29 and the LSTM vanishes like the RNN (asserted below).
  const T = 30;
  const setup = (cell: "rnn" | "lstm", seed: number, forgetBias: number | null) => {
    manualSeed(seed);
    const m = makeFlowModel({ cell, inputSize: 4, hidden: 16, initScale: 0.5, forgetBias });
    const x = randn(T, 4);
    return gradientFlow(m, x).layers[0];
  };
  for (const seed of [0, 1, 2, 3, 4]) {
    it(`seed ${seed}: tanh RNN loses > 10 orders of magnitude from t = T to t = 1; the LSTM with forget bias 3 < 2.5`, () => {
      const rnn = setup("rnn", seed, null);
      const lstm = setup("lstm", seed, 3);
      const lstm0 = setup("lstm", seed, null);
      const ratio = (l: LayerFlow) => l.gradH[0] / l.gradH[T - 1];
      expect(ratio(rnn)).toBeLessThan(1e-10);
      expect(rnn.jacobianH!.spectral[0]).toBeLessThan(1e-10);
      expect(ratio(lstm)).toBeGreaterThan(10 ** -2.5);
      // the cell path stays open: ∂c_T/∂c_1 and ∏ f_k are of order one
      expect(lstm.jacobianC!.spectral[0]).toBeGreaterThan(0.3);
      expect(lstm.forgetPath!.spectral[0]).toBeGreaterThan(0.1);
      // the RNN decays all the way: each earlier step hears less than the one after it, past the last few
      for (let t = 0; t < T - 3; t++)
        expect(rnn.jacobianH!.spectral[t]).toBeLessThan(rnn.jacobianH!.spectral[t + 1]);
      // the LSTM as initialised by default (forget gate ≈ 0.5) vanishes too
      expect(ratio(lstm0)).toBeLessThan(1e-5);
      expect(lstm0.forgetPath!.spectral[0]).toBeLessThan(1e-5);
    });
  }

  it("scaled-up recurrent weights (W_hh × 3, tanh): the unclipped run explodes, the clipped one never exceeds the bound", () => {
    const r = clipExperiment({
      cell: "rnn",
      hidden: 16,
      initScale: 3,
      clip: 1,
      steps: 120,
      lr: 0.3,
      seed: 0,
    });
    const u = r.unclipped;
    const c = r.clipped;
    // same initial weights, same first window: the same gradient before clipping
    expect(c.gradNorm[0]).toBe(u.gradNorm[0]);
    expect(u.gradNorm[0]).toBeGreaterThan(1);
    // clipping scales the first gradient down to the bound (maxNorm / (norm + 1e-6), in float32)
    expect(c.appliedNorm[0]).toBeLessThan(u.appliedNorm[0]);
    // the clipped run: every applied norm at most the bound, up to float32 rounding of the scaled
    // gradients (one unit in the last place of 1.0 is 1.19e-7)
    expect(c.appliedNorm.length).toBe(120);
    for (const n of c.appliedNorm) expect(n).toBeLessThanOrEqual(1 * (1 + 2.4e-7));
    // and where the gradient was above the bound, it was brought to it
    c.gradNorm.forEach((g, i) => {
      if (g > 1) expect(c.appliedNorm[i]).toBeGreaterThan(0.999);
      else if (g < 0.999) expect(c.appliedNorm[i]).toBe(g);
    });
    // the unclipped run: the gradient norm explodes and training diverges (a non-finite loss)
    expect(Math.max(...u.gradNorm.filter(Number.isFinite))).toBeGreaterThan(1e6);
    expect(u.divergedAt).not.toBeNull();
    expect(u.loss.length).toBe(u.divergedAt! + 1);
    // the clipped run does not, and learns: its last losses are far below the first (a run that does
    // not learn stays near 0.5-0.7). The factor depends on the random windows and on float rounding
    // (lr 0.3 amplifies both): 8.5 on the ts kernels and 45 on wasm with randint's PyTorch draws.
    expect(c.divergedAt).toBeNull();
    const tail = c.loss.slice(-20).reduce((a, b) => a + b, 0) / 20;
    expect(tail).toBeLessThan(c.loss[0] / 5);
    // each run's applied norm equals its pre-clip norm without clipping
    expect(u.appliedNorm).toEqual(u.gradNorm);
  });

  it("clipExperiment is reproducible by seed, and rejects bad options", () => {
    const a = clipExperiment({
      cell: "gru",
      hidden: 4,
      initScale: 2,
      clip: 0.5,
      steps: 5,
      seqLen: 10,
      seed: 7,
    });
    const b = clipExperiment({
      cell: "gru",
      hidden: 4,
      initScale: 2,
      clip: 0.5,
      steps: 5,
      seqLen: 10,
      seed: 7,
    });
    expect(a.clipped.loss).toEqual(b.clipped.loss);
    expect(a.unclipped.gradNorm).toEqual(b.unclipped.gradNorm);
    expect(() => clipExperiment({ cell: "rnn", hidden: 4, initScale: 2, clip: 0, steps: 5 })).toThrow(
      /clip must be a positive number, got 0/,
    );
    expect(() => clipExperiment({ cell: "tcn" as "rnn", hidden: 4, initScale: 2, clip: 1 })).toThrow(
      /cell must be rnn, rnn-relu, lstm or gru, got tcn/,
    );
  });
});

describe("linear algebra and errors", () => {
  it("spectral norm: diagonal, rank one, rotation, a 2×2 with a known answer, zero, rectangular", () => {
    for (const method of ["exact", "power"] as const) {
      expect(spectralNorm([3, 0, 0, -5], 2, 2, method)).toBeCloseTo(5, 12);
      // u vᵀ with ‖u‖ = 5, ‖v‖ = √2: σ = 5√2
      expect(spectralNorm([3, 3, 4, 4], 2, 2, method)).toBeCloseTo(5 * Math.SQRT2, 12);
      const a = 0.7;
      expect(spectralNorm([Math.cos(a), -Math.sin(a), Math.sin(a), Math.cos(a)], 2, 2, method)).toBeCloseTo(
        1,
        12,
      );
      // [[1, 2], [3, 4]]: AᵀA = [[10, 14], [14, 20]], σ_max² = (30 + √(30² − 4·4)) / 2
      expect(spectralNorm([1, 2, 3, 4], 2, 2, method)).toBeCloseTo(Math.sqrt((30 + Math.sqrt(884)) / 2), 12);
      expect(spectralNorm([0, 0, 0, 0], 2, 2, method)).toBe(0);
      // (1, 3) row vector: its Euclidean length
      expect(spectralNorm([1, 2, 2], 1, 3, method)).toBeCloseTo(3, 12);
      // tiny and huge entries neither underflow nor overflow
      expect(spectralNorm([1e-200, 0, 0, 2e-200], 2, 2, method) / 2e-200).toBeCloseTo(1, 12);
      expect(spectralNorm([1e200, 0, 0, 2e200], 2, 2, method) / 2e200).toBeCloseTo(1, 12);
    }
    expect(frobenius([3, 4])).toBe(5);
    expect(frobenius([3e-200, 4e-200]) / 5e-200).toBeCloseTo(1, 12);
  });

  it("a symmetric 8×8 with known eigenvalues (exact and power agree)", () => {
    // Q diag(λ) Qᵀ with Q a product of Givens rotations; ‖·‖₂ = max |λ|
    const n = 8;
    const lam = [0.3, -2.5, 1.1, 2.49, 0, 0.7, -0.1, 1.9];
    const A = new Float64Array(n * n);
    for (let i = 0; i < n; i++) A[i * n + i] = lam[i];
    const rot = (p: number, q: number, th: number) => {
      const c = Math.cos(th);
      const s = Math.sin(th);
      for (let k = 0; k < n; k++) {
        const ap = A[k * n + p];
        const aq = A[k * n + q];
        A[k * n + p] = c * ap - s * aq;
        A[k * n + q] = s * ap + c * aq;
      }
      for (let k = 0; k < n; k++) {
        const ap = A[p * n + k];
        const aq = A[q * n + k];
        A[p * n + k] = c * ap - s * aq;
        A[q * n + k] = s * ap + c * aq;
      }
    };
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) rot(p, q, 0.3 + p * 0.17 - q * 0.05);
    expect(spectralNorm(A, n, n, "exact")).toBeCloseTo(2.5, 12);
    expect(spectralNorm(A, n, n, "power")).toBeCloseTo(2.5, 8);
  });

  it("says what it expected for bad input", () => {
    const m = new RNN(2, 3);
    expect(() => gradientFlow(m, randn(4, 2, 2))).toThrow(
      /gradientFlow: expected one sequence: \(T, 2\) or a batch of 1, got shape \[4, 2, 2\] \(batch 2\)/,
    );
    expect(() => gradientFlow(m, randn(2))).toThrow(/expected a 2-D \(T, I\) or 3-D input, got shape \[2\]/);
    expect(() => gradientFlow(m, randn(0, 2))).toThrow(/the input sequence is empty/);
    expect(() => gradientFlow(m, randn(4, 3))).toThrow(/input_size\. Expected 2, got 3/);
    expect(() => gradientFlow(m, randn(4, 2), { loss: (last) => last })).toThrow(
      /the loss function must return a one-element Tensor, got shape \[3\]/,
    );
    expect(() => gradientFlow({} as RNN, randn(4, 2))).toThrow(/expected an RNN, LSTM or GRU module/);
    expect(() => gradientFlow(new LSTM(2, 3), randn(4, 2), { hx: randn(1, 3) })).toThrow(/pair \[h0, c0\]/);
    expect(() => gradientFlow(m, randn(4, 2), { hx: randn(2, 3) })).toThrow(
      /expected h0 of shape \[1, 3\], got \[2, 3\]/,
    );
    expect(() => setForgetBias_(m, 1)).toThrow(/only an LSTM has a forget gate, got RNN_TANH/);
    // the module still works normally after a failed call
    expect(m.runner).toBe(fusedLayer);
  });

  it("jacobians: false skips the products", () => {
    const r = gradientFlow(new GRU(2, 3), randn(5, 2), { jacobians: false });
    expect(r.layers[0].jacobianH).toBeNull();
    expect(r.layers[0].gradH.length).toBe(5);
  });
});
