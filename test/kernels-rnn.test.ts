// The recurrent kernels against an independent float64 reference written here from the formulas (per sequence,
// per step, per element), and their gradients against central differences of that reference.
//
// T = time, B = batch, I = input, H = hidden, P = proj, R = size of h, G = gates·H, N = rows

import { describe, expect, it } from "vitest";
import { Generator } from "../src/core/random.js";
import {
  type RnnDims,
  type RnnMode,
  type RnnWeightGrads,
  type RnnWeights,
  rnnBackward,
  rnnForward,
  rnnGateCount,
  rnnWorkspaceSize,
} from "../src/kernels/backend.js";
import { expectClose } from "./helpers.js";

const T = 4;
const B = 3;
const I = 3;
const H = 4;

interface Config {
  name: string;
  mode: RnnMode;
  P: number;
}

const CONFIGS: Config[] = [
  { name: "rnn tanh", mode: "RNN_TANH", P: 0 },
  { name: "rnn relu", mode: "RNN_RELU", P: 0 },
  { name: "lstm", mode: "LSTM", P: 0 },
  { name: "lstm proj", mode: "LSTM", P: 2 },
  { name: "gru", mode: "GRU", P: 0 },
];

/** lengths null = full batch (batchSizes null); otherwise sorted lengths, packed like PyTorch. */
const LAYOUTS: { name: string; lengths: number[] | null }[] = [
  { name: "full", lengths: null },
  { name: "packed", lengths: [4, 2, 1] },
];

function batchSizesOf(lengths: number[], steps: number): Int32Array {
  const bs = new Int32Array(steps);
  for (let t = 0; t < steps; t++) bs[t] = lengths.filter((l) => l > t).length;
  return bs;
}

/** Everything one case needs, in float64 (the kernel gets float32 copies of the same values). */
interface Problem {
  mode: RnnMode;
  P: number;
  R: number;
  G: number;
  N: number;
  reverse: boolean;
  lengths: number[]; // per sequence
  batchSizes: Int32Array | null;
  p: Record<ParamName, Float64Array | null>;
  wY: Float64Array; // (N, R) loss weights
  wH: Float64Array; // (B, R)
  wC: Float64Array | null; // (B, H)
}

type ParamName = "wIh" | "wHh" | "bIh" | "bHh" | "wHr" | "x" | "h0" | "c0";
const PARAMS: ParamName[] = ["wIh", "wHh", "bIh", "bHh", "wHr", "x", "h0", "c0"];
const GRAD_OF: Record<ParamName, string> = {
  wIh: "dWih",
  wHh: "dWhh",
  bIh: "dBih",
  bHh: "dBhh",
  wHr: "dWhr",
  x: "dX",
  h0: "dH0",
  c0: "dC0",
};

function makeProblem(
  cfg: Config,
  bias: boolean,
  reverse: boolean,
  lengths: number[] | null,
  seed: number,
): Problem {
  const gen = new Generator(seed);
  // values exactly representable in float32, so both sides compute from identical numbers
  const u = (n: number, a: number): Float64Array =>
    Float64Array.from({ length: n }, () => Math.fround((2 * gen.nextFloat() - 1) * a));
  const G = rnnGateCount(cfg.mode) * H;
  const R = cfg.P > 0 ? cfg.P : H;
  const lens = lengths ?? [T, T, T];
  const batchSizes = lengths === null ? null : batchSizesOf(lengths, T);
  const N = lens.reduce((a, b) => a + b, 0);
  const lstm = cfg.mode === "LSTM";
  return {
    mode: cfg.mode,
    P: cfg.P,
    R,
    G,
    N,
    reverse,
    lengths: lens,
    batchSizes,
    p: {
      wIh: u(G * I, 0.7),
      wHh: u(G * R, 0.7),
      bIh: bias ? u(G, 0.5) : null,
      bHh: bias ? u(G, 0.5) : null,
      wHr: cfg.P > 0 ? u(cfg.P * H, 0.7) : null,
      x: u(N * I, 1),
      h0: u(B * R, 0.8),
      c0: lstm ? u(B * H, 0.8) : null,
    },
    wY: u(N * R, 1),
    wH: u(B * R, 1),
    wC: lstm ? u(B * H, 1) : null,
  };
}

// ---------------------------------------------------------------------------------------------------------
// The float64 reference: each sequence alone, one step at a time, every element written out.

const sig = (v: number): number => 1 / (1 + Math.exp(-v));

interface RefOut {
  y: Float64Array; // (N, R)
  hN: Float64Array; // (B, R)
  cN: Float64Array | null; // (B, H)
  cAll: Float64Array; // (N, H) c of every row, LSTM
}

function refForward(pr: Problem): RefOut {
  const { mode, P, R, G, N, lengths, reverse } = pr;
  const { wIh, wHh, bIh, bHh, wHr, x, h0, c0 } = pr.p as Record<ParamName, Float64Array>;
  const bs = pr.batchSizes ?? new Int32Array(T).fill(B);
  const rowOf = (t: number, b: number): number => {
    let off = 0;
    for (let s = 0; s < t; s++) off += bs[s];
    return off + b;
  };
  const y = new Float64Array(N * R);
  const hN = new Float64Array(B * R);
  const cN = mode === "LSTM" ? new Float64Array(B * H) : null;
  const cAll = new Float64Array(N * H);
  for (let b = 0; b < B; b++) {
    let h = Array.from({ length: R }, (_, k) => h0[b * R + k]);
    let c = Array.from({ length: H }, (_, j) => (c0 ? c0[b * H + j] : 0));
    const L = lengths[b];
    for (let s = 0; s < L; s++) {
      const t = reverse ? L - 1 - s : s;
      const row = rowOf(t, b);
      const xi = (k: number): number => x[row * I + k];
      // gi = W_ih x + b_ih, gh = W_hh h + b_hh, gate by gate
      const gi: number[] = [];
      const gh: number[] = [];
      for (let q = 0; q < G; q++) {
        let a = bIh ? bIh[q] : 0;
        for (let k = 0; k < I; k++) a += wIh[q * I + k] * xi(k);
        let e = bHh ? bHh[q] : 0;
        for (let k = 0; k < R; k++) e += wHh[q * R + k] * h[k];
        gi.push(a);
        gh.push(e);
      }
      const hNew: number[] = [];
      if (mode === "RNN_TANH" || mode === "RNN_RELU") {
        for (let j = 0; j < H; j++) {
          const v = gi[j] + gh[j];
          hNew.push(mode === "RNN_TANH" ? Math.tanh(v) : Math.max(0, v));
        }
      } else if (mode === "LSTM") {
        const hu: number[] = [];
        const cNew: number[] = [];
        for (let j = 0; j < H; j++) {
          const ig = sig(gi[j] + gh[j]);
          const fg = sig(gi[H + j] + gh[H + j]);
          const gg = Math.tanh(gi[2 * H + j] + gh[2 * H + j]);
          const og = sig(gi[3 * H + j] + gh[3 * H + j]);
          cNew.push(fg * c[j] + ig * gg);
          hu.push(og * Math.tanh(cNew[j]));
          cAll[row * H + j] = cNew[j];
        }
        c = cNew;
        if (P > 0) {
          for (let k = 0; k < P; k++) {
            let a = 0;
            for (let j = 0; j < H; j++) a += wHr[k * H + j] * hu[j];
            hNew.push(a);
          }
        } else hNew.push(...hu);
      } else {
        for (let j = 0; j < H; j++) {
          const r = sig(gi[j] + gh[j]);
          const z = sig(gi[H + j] + gh[H + j]);
          const n = Math.tanh(gi[2 * H + j] + r * gh[2 * H + j]);
          hNew.push((1 - z) * n + z * h[j]);
        }
      }
      h = hNew;
      for (let k = 0; k < R; k++) y[row * R + k] = h[k];
    }
    for (let k = 0; k < R; k++) hN[b * R + k] = h[k];
    if (cN) for (let j = 0; j < H; j++) cN[b * H + j] = c[j];
  }
  return { y, hN, cN, cAll };
}

function refLoss(pr: Problem): number {
  const o = refForward(pr);
  let l = 0;
  for (let i = 0; i < o.y.length; i++) l += pr.wY[i] * o.y[i];
  for (let i = 0; i < o.hN.length; i++) l += pr.wH[i] * o.hN[i];
  if (o.cN && pr.wC) for (let i = 0; i < o.cN.length; i++) l += pr.wC[i] * o.cN[i];
  return l;
}

/** Central differences of the float64 reference loss w.r.t. every element of parameter `name`. */
function numericGrad(pr: Problem, name: ParamName): Float64Array {
  const a = pr.p[name]!;
  const g = new Float64Array(a.length);
  const eps = 1e-6;
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    a[i] = v + eps;
    const lp = refLoss(pr);
    a[i] = v - eps;
    const lm = refLoss(pr);
    a[i] = v;
    g[i] = (lp - lm) / (2 * eps);
  }
  return g;
}

// ---------------------------------------------------------------------------------------------------------
// Running the kernels

const f32 = (a: Float64Array | null): Float32Array | null => (a === null ? null : Float32Array.from(a));

function dimsOf(pr: Problem): RnnDims {
  return { mode: pr.mode, T, B, I, H, P: pr.P, batchSizes: pr.batchSizes, reverse: pr.reverse };
}

function weightsOf(pr: Problem): RnnWeights {
  return {
    wIh: f32(pr.p.wIh)!,
    wHh: f32(pr.p.wHh)!,
    bIh: f32(pr.p.bIh),
    bHh: f32(pr.p.bHh),
    wHr: f32(pr.p.wHr),
  };
}

/** Buffers sized exactly by rnnWorkspaceSize for T·B rows, filled with NaN so stale reads would show. */
function workspace(pr: Problem): { saved: Float32Array; scratch: Float32Array } {
  const sz = rnnWorkspaceSize(pr.mode, T, B, H, pr.P);
  return {
    saved: new Float32Array(sz.saved).fill(Number.NaN),
    scratch: new Float32Array(sz.scratch).fill(Number.NaN),
  };
}

interface FwdOut {
  y: Float32Array;
  hN: Float32Array;
  cN: Float32Array | null;
}

function runForward(pr: Problem, w: RnnWeights, saved: Float32Array | null, scratch: Float32Array): FwdOut {
  const y = new Float32Array(pr.N * pr.R).fill(Number.NaN);
  const hN = new Float32Array(B * pr.R).fill(Number.NaN);
  const cN = pr.mode === "LSTM" ? new Float32Array(B * H).fill(Number.NaN) : null;
  rnnForward(dimsOf(pr), w, f32(pr.p.x)!, f32(pr.p.h0), f32(pr.p.c0), y, hN, cN, saved, scratch);
  return { y, hN, cN };
}

/** Weight-gradient buffers pre-filled with random values, to check that backward accumulates. */
function prefilledGrads(w: RnnWeights, gen: Generator): RnnWeightGrads {
  const fill = (a: Float32Array | null): Float32Array | null =>
    a === null ? null : Float32Array.from(a, () => 2 * gen.nextFloat() - 1);
  return { dWih: fill(w.wIh), dWhh: fill(w.wHh), dBih: fill(w.bIh), dBhh: fill(w.bHh), dWhr: fill(w.wHr) };
}

const cases: { cfg: Config; bias: boolean; reverse: boolean; layout: (typeof LAYOUTS)[number] }[] = [];
for (const cfg of CONFIGS) {
  for (const bias of [true, false]) {
    for (const reverse of [false, true]) {
      for (const layout of LAYOUTS) cases.push({ cfg, bias, reverse, layout });
    }
  }
}

describe("rnn kernels: forward and backward against a float64 reference", () => {
  let seed = 1;
  for (const { cfg, bias, reverse, layout } of cases) {
    const label = `${cfg.name}, ${bias ? "bias" : "no bias"}, ${reverse ? "reverse" : "forward"}, ${layout.name}`;
    const caseSeed = seed++;
    it(label, () => {
      const pr = makeProblem(cfg, bias, reverse, layout.lengths, caseSeed);
      const w = weightsOf(pr);
      const ws = workspace(pr);
      const ref = refForward(pr);

      // forward, training path
      const out = runForward(pr, w, ws.saved, ws.scratch);
      expectClose(out.y, Float32Array.from(ref.y), { atol: 1e-5, rtol: 1e-5, what: "y" });
      expectClose(out.hN, Float32Array.from(ref.hN), { atol: 1e-5, rtol: 1e-5, what: "hN" });
      if (ref.cN) expectClose(out.cN!, Float32Array.from(ref.cN), { atol: 1e-5, rtol: 1e-5, what: "cN" });
      if (pr.mode === "LSTM") {
        // documented layout: c of every row at [4NH, 5NH), tanh(c) at [5NH, 6NH)
        const NH = pr.N * H;
        expectClose(ws.saved.subarray(4 * NH, 5 * NH), Float32Array.from(ref.cAll), {
          atol: 1e-5,
          what: "saved c",
        });
        expectClose(ws.saved.subarray(5 * NH, 6 * NH), Float32Array.from(ref.cAll, Math.tanh), {
          atol: 1e-5,
          what: "saved tanh(c)",
        });
      }

      // inference path: same numbers, nothing saved
      const inf = runForward(pr, w, null, new Float32Array(ws.scratch.length).fill(Number.NaN));
      expect(inf.y).toEqual(out.y);
      expect(inf.hN).toEqual(out.hN);
      expect(inf.cN).toEqual(out.cN);

      // backward of L = Σ wY·y + Σ wH·hN (+ Σ wC·cN), accumulating into pre-filled weight gradients
      const gen = new Generator(1000 + caseSeed);
      const dW = prefilledGrads(w, gen);
      const before = Object.fromEntries(
        Object.entries(dW).map(([k, v]) => [k, v === null ? null : v.slice()]),
      );
      const dX = new Float32Array(pr.N * I).fill(Number.NaN);
      const dH0 = new Float32Array(B * pr.R).fill(Number.NaN);
      const dC0 = pr.mode === "LSTM" ? new Float32Array(B * H).fill(Number.NaN) : null;
      ws.scratch.fill(Number.NaN);
      rnnBackward(
        dimsOf(pr),
        w,
        dW,
        f32(pr.p.x)!,
        dX,
        f32(pr.p.h0),
        dH0,
        f32(pr.p.c0),
        dC0,
        out.y,
        f32(pr.wY),
        f32(pr.wH),
        f32(pr.wC),
        ws.saved,
        ws.scratch,
      );
      const analytic: Record<string, Float32Array | null> = { ...dW, dX, dH0, dC0 };
      let checked = 0;
      for (const name of PARAMS) {
        const gName = GRAD_OF[name];
        if (pr.p[name] === null) {
          expect(analytic[gName] ?? null, `${gName} should not exist`).toBeNull();
          continue;
        }
        const a = analytic[gName]!;
        const b0 = before[gName];
        const got = Array.from(a, (v, i) => (b0 ? v - b0[i] : v));
        expectClose(got, Array.from(numericGrad(pr, name)), { atol: 5e-6, rtol: 2e-4, what: gName });
        checked++;
      }
      // wIh, wHh, x, h0 always; bIh, bHh with bias; wHr with a projection; c0 for the LSTM
      expect(checked).toBe(4 + (bias ? 2 : 0) + (cfg.P > 0 ? 1 : 0) + (cfg.mode === "LSTM" ? 1 : 0));
    });
  }
});

describe("rnn kernels: packed sequences", () => {
  for (const cfg of CONFIGS) {
    for (const reverse of [false, true]) {
      it(`${cfg.name}, ${reverse ? "reverse" : "forward"}: each sequence run alone gives the same states and gradients`, () => {
        const lengths = [4, 3, 1];
        const pr = makeProblem(cfg, true, reverse, lengths, 77);
        const w = weightsOf(pr);
        const ws = workspace(pr);
        const out = runForward(pr, w, ws.saved, ws.scratch);
        const dWPacked: RnnWeightGrads = prefilledGrads(w, new Generator(5));
        const dWAlone: RnnWeightGrads = prefilledGrads(w, new Generator(5));
        const dX = new Float32Array(pr.N * I);
        const dH0 = new Float32Array(B * pr.R);
        const dC0 = pr.mode === "LSTM" ? new Float32Array(B * H) : null;
        const x = f32(pr.p.x)!;
        const h0 = f32(pr.p.h0)!;
        const c0 = f32(pr.p.c0);
        const dY = f32(pr.wY)!;
        const dHn = f32(pr.wH)!;
        const dCn = f32(pr.wC);
        rnnBackward(
          dimsOf(pr),
          w,
          dWPacked,
          x,
          dX,
          h0,
          dH0,
          c0,
          dC0,
          out.y,
          dY,
          dHn,
          dCn,
          ws.saved,
          ws.scratch,
        );

        const R = pr.R;
        const bs = pr.batchSizes!;
        for (let b = 0; b < B; b++) {
          const L = lengths[b];
          const rows: number[] = []; // packed row of (t, b) for t < L
          for (let t = 0, off = 0; t < L; off += bs[t], t++) rows.push(off + b);
          const pick = (a: Float32Array, width: number, idx: number[]): Float32Array => {
            const o = new Float32Array(idx.length * width);
            for (let i = 0; i < idx.length; i++)
              o.set(a.subarray(idx[i] * width, (idx[i] + 1) * width), i * width);
            return o;
          };
          const dims: RnnDims = { mode: pr.mode, T: L, B: 1, I, H, P: pr.P, batchSizes: null, reverse };
          const sz = rnnWorkspaceSize(pr.mode, L, 1, H, pr.P);
          const saved = new Float32Array(sz.saved);
          const scratch = new Float32Array(sz.scratch);
          const y1 = new Float32Array(L * R);
          const hN1 = new Float32Array(R);
          const cN1 = pr.mode === "LSTM" ? new Float32Array(H) : null;
          const x1 = pick(x, I, rows);
          const h01 = pick(h0, R, [b]);
          const c01 = c0 ? pick(c0, H, [b]) : null;
          rnnForward(dims, w, x1, h01, c01, y1, hN1, cN1, saved, scratch);
          expectClose(hN1, pick(out.hN, R, [b]), { atol: 1e-6, what: `hN of sequence ${b}` });
          if (cN1) expectClose(cN1, pick(out.cN!, H, [b]), { atol: 1e-6, what: `cN of sequence ${b}` });
          expectClose(y1, pick(out.y, R, rows), { atol: 1e-6, what: `y of sequence ${b}` });

          const dX1 = new Float32Array(L * I);
          const dH01 = new Float32Array(R);
          const dC01 = cN1 ? new Float32Array(H) : null;
          const dCn1 = dCn ? pick(dCn, H, [b]) : null;
          rnnBackward(
            dims,
            w,
            dWAlone,
            x1,
            dX1,
            h01,
            dH01,
            c01,
            dC01,
            y1,
            pick(dY, R, rows),
            pick(dHn, R, [b]),
            dCn1,
            saved,
            scratch,
          );
          expectClose(dX1, pick(dX, I, rows), { atol: 1e-6, what: `dX of sequence ${b}` });
          expectClose(dH01, pick(dH0, R, [b]), { atol: 1e-6, what: `dH0 of sequence ${b}` });
          if (dC01) expectClose(dC01, pick(dC0!, H, [b]), { atol: 1e-6, what: `dC0 of sequence ${b}` });
        }
        // accumulating over the three single-sequence calls gives the packed call's weight gradients
        for (const k of ["dWih", "dWhh", "dBih", "dBhh", "dWhr"] as const) {
          if (dWPacked[k] === null) continue;
          expectClose(dWAlone[k]!, dWPacked[k]!, { atol: 1e-5, rtol: 1e-5, what: k });
        }
      });
    }
  }
});

describe("rnn kernels: layouts and options", () => {
  it("a full batch given as batchSizes = [B, B, ...] equals batchSizes = null", () => {
    for (const cfg of CONFIGS) {
      for (const reverse of [false, true]) {
        const pr = makeProblem(cfg, true, reverse, null, 9);
        const w = weightsOf(pr);
        const a = runForward(pr, w, workspace(pr).saved, workspace(pr).scratch);
        const b = runForward(
          { ...pr, batchSizes: new Int32Array(T).fill(B) },
          w,
          null,
          workspace(pr).scratch,
        );
        expect(b.y).toEqual(a.y);
        expect(b.hN).toEqual(a.hN);
        expect(b.cN).toEqual(a.cN);
      }
    }
  });

  it("null h0/c0 mean zeros, and a sequence of length 0 keeps its initial state", () => {
    for (const cfg of CONFIGS) {
      const pr = makeProblem(cfg, true, true, [3, 2, 0], 11);
      const w = weightsOf(pr);
      const ws = workspace(pr);
      pr.p.h0!.fill(0);
      if (pr.p.c0) pr.p.c0.fill(0);
      const ref = refForward(pr);
      const y = new Float32Array(pr.N * pr.R);
      const hN = new Float32Array(B * pr.R).fill(7);
      const cN = pr.mode === "LSTM" ? new Float32Array(B * H).fill(7) : null;
      rnnForward(dimsOf(pr), w, f32(pr.p.x)!, null, null, y, hN, cN, ws.saved, ws.scratch);
      expectClose(y, Float32Array.from(ref.y), { atol: 1e-5, what: `${cfg.name} y` });
      expectClose(hN, Float32Array.from(ref.hN), { atol: 1e-5, what: `${cfg.name} hN` });
      expect(Array.from(hN.subarray(2 * pr.R))).toEqual(new Array(pr.R).fill(0));
      if (cN) expectClose(cN, Float32Array.from(ref.cN!), { atol: 1e-5, what: `${cfg.name} cN` });
    }
  });

  it("backward skips dX, dH0, dC0 when null and treats null dY, dHn, dCn as zeros", () => {
    for (const cfg of CONFIGS) {
      const pr = makeProblem(cfg, true, false, [4, 3, 1], 13);
      const w = weightsOf(pr);
      const ws = workspace(pr);
      const out = runForward(pr, w, ws.saved, ws.scratch);
      const x = f32(pr.p.x)!;
      const h0 = f32(pr.p.h0);
      const c0 = f32(pr.p.c0);
      const zeros = (n: number): Float32Array => new Float32Array(n);
      const lstm = pr.mode === "LSTM";
      const gradsWith = (
        dY: Float32Array | null,
        dHn: Float32Array | null,
        dCn: Float32Array | null,
        full: boolean,
      ) => {
        const dW = prefilledGrads(w, new Generator(3));
        const dX = full ? new Float32Array(pr.N * I) : null;
        const dH0 = full ? new Float32Array(B * pr.R) : null;
        const dC0 = full && lstm ? new Float32Array(B * H) : null;
        rnnBackward(dimsOf(pr), w, dW, x, dX, h0, dH0, c0, dC0, out.y, dY, dHn, dCn, ws.saved, ws.scratch);
        return { dW, dX, dH0, dC0 };
      };
      // only dY given: null dHn/dCn equal explicit zeros; skipping dX/dH0/dC0 leaves the weight gradients alone
      const dY = f32(pr.wY);
      const a = gradsWith(dY, zeros(B * pr.R), lstm ? zeros(B * H) : null, true);
      const b = gradsWith(dY, null, null, false);
      expect(b.dW).toEqual(a.dW);
      // only dHn given
      const c = gradsWith(zeros(pr.N * pr.R), f32(pr.wH), null, true);
      const d = gradsWith(null, f32(pr.wH), null, true);
      expect(d).toEqual(c);
      // with no incoming gradient at all, nothing is added
      const e = gradsWith(null, null, null, true);
      expect(e.dW).toEqual(prefilledGrads(w, new Generator(3)));
      expect(Array.from(e.dX!).every((v) => v === 0)).toBe(true);
    }
  });

  it("rnnWorkspaceSize: saved sizes as documented, and buffers are reusable across calls", () => {
    expect(rnnWorkspaceSize("RNN_TANH", 5, 2, 3, 0).saved).toBe(0);
    expect(rnnWorkspaceSize("LSTM", 5, 2, 3, 0).saved).toBe(6 * 10 * 3);
    expect(rnnWorkspaceSize("GRU", 5, 2, 3, 0).saved).toBe(4 * 10 * 3);
    const pr = makeProblem(CONFIGS[3], true, false, [4, 2, 1], 21);
    const w = weightsOf(pr);
    const ws = workspace(pr);
    const first = runForward(pr, w, ws.saved, ws.scratch);
    const other = makeProblem(CONFIGS[3], true, true, null, 22); // a different call through the same buffers
    runForward(other, weightsOf(other), ws.saved, ws.scratch);
    const again = runForward(pr, w, ws.saved, ws.scratch);
    expect(again).toEqual(first);
  });
});

describe("rnn kernels: bad input", () => {
  const pr = makeProblem(CONFIGS[2], true, false, null, 31);
  const w = weightsOf(pr);
  const ws = workspace(pr);
  const x = f32(pr.p.x)!;
  const y = new Float32Array(pr.N * H);
  const hN = new Float32Array(B * H);
  const cN = new Float32Array(B * H);
  const dims = dimsOf(pr);
  it("names the buffer, the expected and the actual size", () => {
    expect(() => rnnForward(dims, w, x.subarray(1), null, null, y, hN, cN, ws.saved, ws.scratch)).toThrow(
      "rnnForward: x should have N·I = 36 elements, got 35",
    );
    expect(() => rnnForward(dims, w, x, null, null, y, hN, null, ws.saved, ws.scratch)).toThrow(
      /needs a cN buffer/,
    );
    expect(() => rnnForward(dims, w, x, null, null, y, hN, cN, ws.saved, ws.scratch.subarray(1))).toThrow(
      /scratch should have at least \d+ elements/,
    );
    expect(() =>
      rnnForward(dims, { ...w, bHh: new Float32Array(3) }, x, null, null, y, hN, cN, null, ws.scratch),
    ).toThrow("rnnForward: bHh should have G = 16 elements, got 3");
    expect(() =>
      rnnBackward(
        dims,
        w,
        { dWih: null, dWhh: null, dBih: null, dBhh: null, dWhr: null },
        x,
        null,
        null,
        null,
        null,
        null,
        y,
        null,
        null,
        null,
        null,
        ws.scratch,
      ),
    ).toThrow(/needs the saved buffer/);
  });
  it("rejects increasing batch sizes, a projection outside LSTM and an unknown mode", () => {
    const bad = { ...dims, batchSizes: Int32Array.from([2, 3, 1, 1]) };
    expect(() => rnnForward(bad, w, x.subarray(0, 7 * I), null, null, y, hN, cN, null, ws.scratch)).toThrow(
      "batchSizes should be non-increasing and within [0, B = 3], got [2, 3, 1, 1]",
    );
    expect(() =>
      rnnForward({ ...dims, mode: "GRU", P: 2 }, w, x, null, null, y, hN, null, null, ws.scratch),
    ).toThrow("a projection (P = 2) needs mode LSTM, got GRU");
    expect(() => rnnWorkspaceSize("LSTMX" as RnnMode, 1, 1, 1, 0)).toThrow(
      /expected mode RNN_TANH, RNN_RELU, LSTM or GRU/,
    );
  });
});
