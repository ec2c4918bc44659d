// RNN, LSTM, GRU and their cells against PyTorch 1.13 (fixtures from test/fixtures/gen/rnn.py, format
// in test/fixtures/RNN_FIXTURES.md): outputs, final states, and the gradients of a fixed random
// weighting of all outputs with respect to every parameter, the input and the initial states. Each case
// runs twice: with the fused kernels and with the slow twin unrolled from generic ops.

import { describe, expect, it, vi } from "vitest";
import { randn } from "../src/core/creation.js";
import { gradcheck } from "../src/core/gradcheck.js";
import { manualSeed } from "../src/core/random.js";
import { noGrad, type Tensor } from "../src/core/tensor.js";
import * as F from "../src/core/ops.js";
import { Module } from "../src/nn/module.js";
import { packPaddedSequence, padPackedSequence, PackedSequence } from "../src/nn/packed.js";
import {
  GRU,
  type GRUCell,
  LSTM,
  LSTMCell,
  RNN,
  RNNBase,
  type RNNCell,
  RNNCellBase,
  unrolledLayer,
} from "../src/nn/rnn.js";
import { fusedLayer } from "../src/nn/rnn_fused.js";
import { expectClose } from "./helpers.js";
import { build, loadRnnCase, loadRnnErrors, loadRnnReprs, RNN_CASES } from "./rnn-fixtures.js";

const TOL = { atol: 1e-5, rtol: 1e-4 };

const sumProduct = (a: Tensor, w: Tensor) => F.sum(F.mul(a, w));

describe.each([
  ["fused", true],
  ["unrolled", false],
] as const)("recurrent layers match PyTorch (%s)", (_label, fused) => {
  for (const name of RNN_CASES) {
    it(name, () => {
      const fx = loadRnnCase(name);
      const m = build(fx.ctor) as RNNBase | RNNCellBase;
      m.loadStateDict(Object.fromEntries(fx.weights));
      expect(m.namedParameters().map(([n]) => n)).toEqual(fx.paramNames);
      expect(m.toString()).toBe(fx.config.repr);
      if (m instanceof RNNBase) m.runner = fused ? fusedLayer : unrolledLayer;
      else m.fused = fused;
      if (fx.config.kind === "layer") m.train(fx.config.training);
      else m.eval();
      const x = fx.input;
      x.requiresGrad = true;
      const h0 = fx.h0;
      const c0 = fx.c0;
      if (h0) h0.requiresGrad = true;
      if (c0) c0.requiresGrad = true;
      let loss: Tensor;
      if (m instanceof RNNCellBase) {
        let h: Tensor;
        let c: Tensor | null = null;
        if (m instanceof LSTMCell) [h, c] = m.forward(x, h0 && c0 ? [h0, c0] : null);
        else h = (m as RNNCell | GRUCell).forward(x, h0);
        expectClose(h, fx.hN, { ...TOL, what: "h'" });
        if (c) expectClose(c, fx.cN!, { ...TOL, what: "c'" });
        loss = sumProduct(h, fx.wH);
        if (c) loss = F.add(loss, sumProduct(c, fx.wC!));
      } else {
        const cfg = fx.config as Extract<typeof fx.config, { kind: "layer" }>;
        const input = cfg.packed
          ? packPaddedSequence(x, cfg.lengths!, {
              batchFirst: cfg.batch_first,
              enforceSorted: cfg.enforce_sorted!,
            })
          : x;
        if (input instanceof PackedSequence) {
          expect(Array.from(input.batchSizes)).toEqual(fx.packed!.batchSizes);
          expectClose(input.data, fx.packed!.inputData, { atol: 0, rtol: 0, what: "packed input" });
        }
        const hx = m instanceof LSTM ? (h0 && c0 ? ([h0, c0] as [Tensor, Tensor]) : null) : h0;
        // biome-ignore lint/suspicious/noExplicitAny: one call for the three layer classes
        const [out, state] = (m as any).forward(input, hx) as [
          Tensor | PackedSequence,
          Tensor | [Tensor, Tensor],
        ];
        const [hN, cN] = Array.isArray(state) ? state : [state, null];
        let outPadded: Tensor;
        if (out instanceof PackedSequence) {
          expectClose(out.data, fx.packed!.data, { ...TOL, what: "packed output" });
          outPadded = padPackedSequence(out, { batchFirst: cfg.batch_first })[0];
          loss = sumProduct(out.data, fx.wOutput!);
        } else {
          outPadded = out;
          loss = sumProduct(out, fx.wOutput!);
        }
        expectClose(outPadded, fx.output!, { ...TOL, what: "output" });
        expectClose(hN, fx.hN, { ...TOL, what: "h_n" });
        if (cN) expectClose(cN, fx.cN!, { ...TOL, what: "c_n" });
        loss = F.add(loss, sumProduct(hN, fx.wH));
        if (cN) loss = F.add(loss, sumProduct(cN, fx.wC!));
      }
      expectClose(loss.item(), fx.loss, { atol: 1e-4, rtol: 1e-4, what: "loss" });
      loss.backward();
      for (const [n, p] of m.namedParameters())
        expectClose(p.grad!, fx.grads.get(n)!, { ...TOL, what: `grad ${n}` });
      expectClose(x.grad!, fx.gradInput, { ...TOL, what: "grad input" });
      if (h0) expectClose(h0.grad!, fx.gradH0!, { ...TOL, what: "grad h0" });
      if (c0) expectClose(c0.grad!, fx.gradC0!, { ...TOL, what: "grad c0" });
    });
  }
});

describe("printing", () => {
  for (const r of loadRnnReprs()) {
    it(r.snippet, () => {
      let m: Module;
      if (r.ctor.cls === "Net") {
        const children = r.ctor.children;
        m = new (class Net extends Module {
          constructor() {
            super();
            for (const ch of children) (this as unknown as Record<string, Module>)[ch.name] = build(ch.ctor);
          }
        })();
      } else m = build(r.ctor);
      expect(m.toString()).toBe(r.repr);
    });
  }
});

describe("bad arguments and inputs give PyTorch's errors in substance", () => {
  // Where PyTorch 1.13's own message is misleading, ours says more (see RNN_FIXTURES.md).
  const OURS: Record<string, RegExp> = {
    layer_input_1d: /Expected input to be 2-D or 3-D but received 1-D tensor/,
    layer_input_4d: /Expected input to be 2-D or 3-D but received 4-D tensor/,
    layer_input_4d_lstm: /Expected input to be 2-D or 3-D but received 4-D tensor/,
    layer_input_1d_gru: /Expected input to be 2-D or 3-D but received 1-D tensor/,
    cell_batched_input_1d_state: /Expected hidden state to be 2-D for 2-D input, got 1-D tensor/,
    cell_wrong_c_size: /hidden1 has inconsistent hidden_size: got 21, expected 20/,
    // 1.13 turns nested lengths into a 2-D tensor and fails inside index_select
    pack_lengths_2d: /'lengths' argument should be a 1-D tensor \(or an array\), but got a nested array/,
  };
  for (const e of loadRnnErrors()) {
    it(e.name, () => {
      const expected = OURS[e.name] ?? e.message;
      const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
      try {
        const run = () => {
          if (e.stage === "pack") {
            return packPaddedSequence(randn(e.input_shape!), e.lengths!, {
              batchFirst: e.batch_first,
              enforceSorted: e.enforce_sorted,
            });
          }
          const m = build(e.ctor!);
          if (e.stage === "construct") return m;
          const x = randn(e.input_shape!);
          const hx = e.hx_shapes?.map((s) => randn(s)) ?? null;
          // biome-ignore lint/suspicious/noExplicitAny: any module, any state form
          const f = (m as any).forward.bind(m);
          if (m instanceof LSTM || m instanceof LSTMCell) return f(x, hx);
          return f(x, hx ? hx[0] : null);
        };
        if (e.kind === "warning") {
          run();
          expect(warn).toHaveBeenCalledWith(e.message);
        } else expect(run).toThrow(expected);
      } finally {
        warn.mockRestore();
      }
    });
  }
});

describe("finite differences (second witness)", () => {
  for (const [label, make] of [
    ["RNN tanh bidirectional 2 layers", () => new RNN(3, 4, { numLayers: 2, bidirectional: true })],
    ["RNN relu", () => new RNN(3, 4, { nonlinearity: "relu" })],
    ["LSTM proj", () => new LSTM(3, 4, { projSize: 2, numLayers: 2 })],
    ["GRU bidirectional", () => new GRU(3, 4, { bidirectional: true })],
  ] as const) {
    it(label, () => {
      manualSeed(11);
      const m = make();
      const x = randn([5, 2, 3], { requiresGrad: true });
      const params = m.parameters();
      const r = gradcheck(
        (xx) => {
          // biome-ignore lint/suspicious/noExplicitAny: layer forward
          const [out, st] = (m as any).forward(xx) as [Tensor, Tensor | [Tensor, Tensor]];
          const h = Array.isArray(st) ? st[0] : st;
          return F.cat([out.reshape(-1), h.reshape(-1)]);
        },
        [x, ...params],
        { eps: 1e-3, atol: 2e-3, rtol: 2e-2 },
      );
      expect(r.worst).toBeNull();
    });
  }
});

describe("fused layer vs unrolled cells", () => {
  it("an LSTM layer equals LSTMCell stepped by hand with the same weights", () => {
    manualSeed(5);
    const lstm = new LSTM(3, 4);
    const cell = new LSTMCell(3, 4);
    // parameters are written under noGrad, as `with torch.no_grad():` (in-place writes to a leaf that
    // requires grad raise otherwise)
    noGrad(() => {
      cell.weight_ih.copy_((lstm as unknown as Record<string, Tensor>).weight_ih_l0);
      cell.weight_hh.copy_((lstm as unknown as Record<string, Tensor>).weight_hh_l0);
      cell.bias_ih!.copy_((lstm as unknown as Record<string, Tensor>).bias_ih_l0);
      cell.bias_hh!.copy_((lstm as unknown as Record<string, Tensor>).bias_hh_l0);
    });
    const x = randn(6, 2, 3);
    const [out, [hN, cN]] = lstm.forward(x);
    let h = F.mul(randn(2, 4), 0);
    let c = F.mul(randn(2, 4), 0);
    const hs: Tensor[] = [];
    for (const xt of x) {
      [h, c] = cell.forward(xt, [h, c]);
      hs.push(h);
    }
    expectClose(out, F.stack(hs), { atol: 1e-6, rtol: 1e-5 });
    expectClose(hN, h.unsqueeze(0), { atol: 1e-6, rtol: 1e-5 });
    expectClose(cN, c.unsqueeze(0), { atol: 1e-6, rtol: 1e-5 });
  });
});

describe("parameter gradients accumulate across backward calls", () => {
  // The fused kernel adds its parameter gradients straight into existing .grad buffers; a second
  // backward without zeroing must add the same amount again, as PyTorch accumulates.
  for (const [what, make, T, B] of [
    ["GRU, short (one block: exactly twice)", () => new GRU(3, 5, { numLayers: 2 }), 6, 2],
    [
      "LSTM proj, 300 rows (blocked sums: twice within float32)",
      () => new LSTM(2, 6, { projSize: 3 }),
      150,
      2,
    ],
  ] as const) {
    it(what, () => {
      manualSeed(9);
      const m = make();
      const x = randn(T, B, m.inputSize);
      const run = () => {
        // biome-ignore lint/suspicious/noExplicitAny: one call for both classes
        const [out] = (m as any).forward(x) as [Tensor];
        F.mul(out, out).sum().backward();
      };
      run();
      const once = m.parameters().map((p) => Float32Array.from(p.grad!.data));
      run();
      m.parameters().forEach((p, i) => {
        const twice = once[i].map((v) => 2 * v);
        // (the kernels add step by step, so "twice" holds to float32 rounding, not bit for bit)
        expectClose(p.grad!, twice, { atol: 1e-6, rtol: 1e-5, what: `parameter ${i}` });
      });
    });
  }
});

describe("saved values are freed by backward, as in PyTorch", () => {
  it("a second backward through a recurrent layer needs retainGraph", () => {
    manualSeed(4);
    const lstm = new LSTM(2, 3);
    const [out] = lstm.forward(randn(5, 2, 2));
    const loss = F.mul(out, out).sum();
    loss.backward(null, { retainGraph: true });
    const once = lstm.parameters().map((p) => Float32Array.from(p.grad!.data));
    loss.backward(); // retained: runs again, and frees this time
    lstm.parameters().forEach((p, i) => {
      expectClose(
        p.grad!,
        once[i].map((v) => 2 * v),
        { atol: 1e-6, rtol: 1e-5, what: `parameter ${i}` },
      );
    });
    expect(() => loss.backward()).toThrow(
      /Trying to backward through the graph a second time: the saved values of LstmBackward0 were freed.*retainGraph: true/,
    );
  });
  it("buffers freed by one step serve the next without changing its numbers", () => {
    // the same two training steps, with and without a third graph's backward freeing buffers in between
    const run = (interleave: boolean) => {
      manualSeed(6);
      const gru = new GRU(3, 4, { numLayers: 2 });
      const x = randn(7, 3, 3);
      const grads: number[] = [];
      for (let step = 0; step < 2; step++) {
        if (interleave) {
          const [o] = new GRU(3, 4, { numLayers: 2 }).forward(randn(7, 3, 3));
          o.sum().backward(); // frees two saved buffers of the same size into the pool
        }
        for (const p of gru.parameters()) p.grad = null;
        const [out] = gru.forward(x);
        F.mul(out, out).sum().backward();
        for (const p of gru.parameters()) grads.push(...p.grad!.data);
        for (const p of gru.parameters()) p.data[0] += 0.01; // a different forward next step
      }
      return grads;
    };
    expect(run(true)).toEqual(run(false));
  });
});
