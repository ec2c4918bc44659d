// Streamer (streaming inference, one step per call on resident weights) against two witnesses: PyTorch's
// own outputs (the recurrent-layer fixtures, fed one time step at a time) and the module path
// (rnn.forward + head.forward under noGrad, itself proven against PyTorch). Runs once per kernel backend.

import { describe, expect, it } from "vitest";
import { randn } from "../src/core/creation.js";
import * as F from "../src/core/ops.js";
import { manualSeed } from "../src/core/random.js";
import { noGrad, Tensor } from "../src/core/tensor.js";
import { Linear } from "../src/nn/linear.js";
import { GRU, LSTM, RNN, type RNNBase, type RNNOptions } from "../src/nn/rnn.js";
import { Streamer } from "../src/nn/streamer.js";
import { expectClose } from "./helpers.js";
import { loadRnnCase, RNN_CASES } from "./rnn-fixtures.js";

const TOL = { atol: 1e-5, rtol: 1e-4 }; // as the layer fixtures
const TIGHT = { atol: 2e-6, rtol: 1e-5 }; // against the module path: same kernels, summation order may differ

type State = Tensor | [Tensor, Tensor];

describe("Streamer against PyTorch (layer fixtures, one step at a time)", () => {
  const cases = RNN_CASES.filter((n) => {
    const c = loadRnnCase(n).config;
    return c.kind === "layer" && !c.bidirectional && !c.packed && !(c.training && c.dropout > 0);
  });
  it("covers every mode, stacked layers, proj_size, no-bias and given states", () => {
    const cfgs = cases.map(
      (n) => loadRnnCase(n).config as Extract<ReturnType<typeof loadRnnCase>["config"], { kind: "layer" }>,
    );
    expect(new Set(cfgs.map((c) => c.mode))).toEqual(new Set(["RNN_TANH", "RNN_RELU", "LSTM", "GRU"]));
    expect(cfgs.some((c) => c.num_layers >= 2)).toBe(true);
    expect(cfgs.some((c) => c.proj_size > 0)).toBe(true);
    expect(cfgs.some((c) => !c.bias)).toBe(true);
    expect(cfgs.some((c) => c.states_given)).toBe(true);
    expect(cases.length).toBeGreaterThanOrEqual(15);
  });
  for (const name of cases) {
    it(name, () => {
      const fx = loadRnnCase(name);
      const cfg = fx.config as Extract<typeof fx.config, { kind: "layer" }>;
      const opts: RNNOptions = {
        numLayers: cfg.num_layers,
        bias: cfg.bias,
        // as in PyTorch, only LSTM takes proj_size (RNN and GRU refuse the option even when it is 0)
        ...(cfg.cls === "LSTM" ? { projSize: cfg.proj_size } : {}),
        nonlinearity: cfg.nonlinearity ?? undefined,
      };
      const Ctor = cfg.cls === "LSTM" ? LSTM : cfg.cls === "GRU" ? GRU : RNN;
      const m = new Ctor(cfg.input_size, cfg.hidden_size, opts);
      m.loadStateDict(Object.fromEntries(fx.weights));
      // the fixture's input as (T, B, I)
      let x = fx.input;
      if (!cfg.batched) x = F.unsqueeze(x, 1);
      else if (cfg.batch_first) x = F.transpose(x, 0, 1);
      let y = fx.output!;
      if (!cfg.batched) y = F.unsqueeze(y, 1);
      else if (cfg.batch_first) y = F.transpose(y, 0, 1);
      const [T, B, I] = x.shape;
      const R = y.shape[2];
      const s = new Streamer(m, null, { batch: B });
      const lift = (t: Tensor | null) => (t === null ? null : cfg.batched ? t : F.unsqueeze(t, 1));
      const h0 = lift(fx.h0);
      const c0 = lift(fx.c0);
      if (h0) s.state = cfg.cls === "LSTM" ? [h0, c0!] : h0;
      for (let t = 0; t < T; t++) {
        const out = s.step(x.data.subarray(t * B * I, (t + 1) * B * I));
        expectClose(out, y.data.subarray(t * B * R, (t + 1) * B * R), { ...TOL, what: `output at t=${t}` });
      }
      const st = s.state;
      const [hN, cN] = Array.isArray(st) ? st : [st, null];
      expectClose(hN, lift(fx.hN)!.data, { ...TOL, what: "h_n" });
      if (cN) expectClose(cN, lift(fx.cN)!.data, { ...TOL, what: "c_n" });
      s.dispose();
    });
  }
});

function makeRnn(mode: "RNN" | "LSTM" | "GRU", I: number, H: number, opts: RNNOptions): RNNBase {
  return mode === "LSTM" ? new LSTM(I, H, opts) : mode === "GRU" ? new GRU(I, H, opts) : new RNN(I, H, opts);
}

/** The module path: rnn.forward on one step, then the head, under noGrad. */
function moduleStep(
  rnn: RNNBase,
  head: Linear | null,
  x: Tensor,
  state: State | null,
): [Float32Array, State] {
  return noGrad(() => {
    // biome-ignore lint/suspicious/noExplicitAny: one call for the three layer classes
    const [out, s] = (rnn as any).forward(x, state) as [Tensor, State];
    return [head ? head.forward(out).data : out.data, s];
  });
}

describe("Streamer against the module path", () => {
  const configs: [string, "RNN" | "LSTM" | "GRU", number, number, RNNOptions, number, number | null][] = [
    ["LSTM(1,64)+Linear(64,1), the streaming benchmark", "LSTM", 1, 64, {}, 1, 1],
    ["RNN relu 2 layers, batch 3, no head", "RNN", 4, 9, { numLayers: 2, nonlinearity: "relu" }, 3, null],
    ["GRU 3 layers, no bias, head to 2", "GRU", 3, 10, { numLayers: 3, bias: false }, 2, 2],
    ["LSTM proj 2 layers, batch 5, head to 3", "LSTM", 2, 12, { numLayers: 2, projSize: 5 }, 5, 3],
    ["RNN tanh 17 hidden (tails), batch 4", "RNN", 5, 17, {}, 4, 1],
  ];
  for (const [what, mode, I, H, opts, B, O] of configs) {
    it(what, () => {
      manualSeed(11);
      const rnn = makeRnn(mode, I, H, opts);
      const head = O === null ? null : new Linear(rnn.outputHiddenSize, O);
      const s = new Streamer(rnn, head, { batch: B });
      let state: State | null = null;
      for (let t = 0; t < 30; t++) {
        const x = randn(1, B, I);
        const [want, next] = moduleStep(rnn, head, x, state);
        state = next;
        expectClose(s.step(x.data), want, { ...TIGHT, what: `step ${t}` });
      }
      const got = s.state;
      const [gh, gc] = Array.isArray(got) ? got : [got, null];
      const [wh, wc] = Array.isArray(state) ? state : [state!, null];
      expect(gh.shape).toEqual(wh.shape);
      expectClose(gh, wh, { ...TIGHT, what: "h" });
      if (wc) {
        expect(gc!.shape).toEqual(wc.shape);
        expectClose(gc!, wc, { ...TIGHT, what: "c" });
      }
      s.dispose();
    });
  }

  it("reset() starts a new sequence; a set state continues one", () => {
    manualSeed(3);
    const rnn = new LSTM(2, 8, { numLayers: 2 });
    const head = new Linear(8, 2);
    const s = new Streamer(rnn, head);
    const xs = Array.from({ length: 6 }, () => randn(1, 1, 2));
    const first = xs.map((x) => s.step(x));
    s.reset();
    const again = xs.map((x) => s.step(x));
    for (let t = 0; t < 6; t++) expectClose(again[t], first[t], { atol: 0, rtol: 0, what: `t=${t}` });
    // warm up with a whole-sequence forward, hand its state over, continue step by step
    const warm = randn(5, 1, 2);
    const [, st] = noGrad(() => rnn.forward(warm));
    s.state = st;
    let state: State = st;
    for (const x of xs) {
      const [want, next] = moduleStep(rnn, head, x, state);
      state = next;
      expectClose(s.step(x), want, TIGHT);
    }
  });

  it("holds a snapshot of the weights until refresh()", () => {
    manualSeed(5);
    const rnn = new GRU(1, 6);
    const head = new Linear(6, 1);
    const s = new Streamer(rnn, head);
    const x = new Float32Array([0.7]);
    const before = s.step(x)[0];
    s.reset();
    for (const p of [...rnn.parameters(), ...head.parameters()]) p.data.fill(0.1);
    expect(s.step(x)[0]).toBe(before); // the snapshot: later changes unseen
    s.reset();
    s.refresh();
    const [want] = moduleStep(rnn, head, new Tensor(x, [1, 1, 1]), null);
    expectClose(s.step(x), want, TIGHT);
    expect(s.step(x)[0]).not.toBe(before);
  });

  it("stays right while other work grows the kernels' memory, and after others are disposed", () => {
    manualSeed(8);
    const rnn = new LSTM(3, 16);
    const head = new Linear(16, 1);
    const others = Array.from({ length: 20 }, () => new Streamer(new RNN(3, 32), null));
    const s = new Streamer(rnn, head);
    for (const o of others.slice(0, 10)) o.dispose();
    let state: State | null = null;
    for (let t = 0; t < 5; t++) {
      // a large whole-sequence call in between (its buffers may grow the WebAssembly memory)
      noGrad(() => new LSTM(16, 256).forward(randn(20, 8, 16)));
      const x = randn(1, 1, 3);
      const [want, next] = moduleStep(rnn, head, x, state);
      state = next;
      expectClose(s.step(x), want, TIGHT);
    }
    for (const o of others.slice(10)) o.dispose();
    const fresh = new Streamer(rnn, head); // takes freed memory
    const x = randn(1, 1, 3);
    expectClose(fresh.step(x), moduleStep(rnn, head, x, null)[0], TIGHT);
  });

  it("rollOut feeds each output back", () => {
    manualSeed(2);
    const rnn = new RNN(1, 16);
    const head = new Linear(16, 1);
    const s = new Streamer(rnn, head);
    const ys = s.rollOut([0.3], 10);
    let x = new Tensor(new Float32Array([0.3]), [1, 1, 1]);
    let state: State | null = null;
    for (let t = 0; t < 10; t++) {
      const [y, next] = moduleStep(rnn, head, x, state);
      state = next;
      expectClose(ys[t], y[0], TIGHT);
      x = new Tensor(Float32Array.from(y), [1, 1, 1]);
    }
  });

  it("rejects what it cannot stream, with what was expected and what was got", () => {
    expect(() => new Streamer(new LSTM(1, 4, { bidirectional: true }))).toThrow(
      /bidirectional LSTM needs the whole sequence/,
    );
    expect(() => new Streamer(new GRU(1, 4), new Linear(5, 1))).toThrow(
      /head takes 5 features but the GRU gives 4; expected Linear\(4, …\)/,
    );
    expect(() => new Streamer(new RNN(1, 4), null, { batch: 0 })).toThrow(/batch.*at least 1, got 0/);
    const s = new Streamer(new LSTM(2, 4, { numLayers: 2 }), null, { batch: 3 });
    expect(() => s.step([1, 2, 3])).toThrow(/expected 6 values \(batch 3 × input size 2\), got 3/);
    expect(() => s.step(new Float32Array(6), new Float32Array(2))).toThrow(/out to hold 12 floats, got 2/);
    expect(() => {
      s.state = new Tensor(new Float32Array(24), [2, 3, 4]);
    }).toThrow(/a pair \[h, c\], got a tensor/);
    expect(() => {
      s.state = [new Tensor(new Float32Array(24), [2, 3, 4]), new Tensor(new Float32Array(12), [1, 3, 4])];
    }).toThrow(/expected c of shape \[2, 3, 4\], got \[1, 3, 4\]/);
    s.dispose();
    expect(() => s.step(new Float32Array(6))).toThrow(/used after dispose/);
  });
});
