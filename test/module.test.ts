// nn.Module against PyTorch: printed form, dotted parameter names, the state dict and its loading.
// Fixture: test/fixtures/gen/module.py.

import { describe, expect, it } from "vitest";
import { randn, zeros } from "../src/core/creation.js";
import { manualSeed } from "../src/core/random.js";
import type { Tensor } from "../src/core/tensor.js";
import { Dropout, Linear, ReLU, Sequential, Tanh } from "../src/nn/linear.js";
import { Module, Parameter } from "../src/nn/module.js";
import { GRU, GRUCell, LSTM, LSTMCell, RNN, RNNCell } from "../src/nn/rnn.js";
import { expectClose, fromJson, loadFixture, type TensorJson } from "./helpers.js";

class Inner extends Module {
  fc = new Linear(4, 3);
  act = new Tanh();
  forward(x: Tensor): Tensor {
    return this.act.forward(this.fc.forward(x));
  }
}

class Net extends Module {
  body = new Sequential(new Linear(2, 4), new ReLU(), new Inner());
  head = new Linear(3, 1, { bias: false });
  drop = new Dropout(0.25);
  forward(x: Tensor): Tensor {
    return this.head.forward(this.body.forward(x));
  }
}

const fx = loadFixture<{
  shared: { named_modules: string[]; state_dict_keys: string[]; named_parameters: string[] };
  seeded_init: Record<string, TensorJson>;
  reprs: Record<string, string>;
  named_parameters: string[];
  state_dict_keys: string[];
  state_dict: Record<string, TensorJson>;
  errors: Record<string, string> & { unexpected_order: string[] };
  x: TensorJson;
  y: TensorJson;
}>("module", "module");

describe("nn.Module", () => {
  it("prints as PyTorch prints", () => {
    expect(new Linear(16, 1).toString()).toBe(fx.reprs.linear);
    expect(new Linear(3, 2, { bias: false }).toString()).toBe(fx.reprs.linear_nobias);
    expect(new Sequential(new Linear(2, 3), new Tanh(), new Linear(3, 1)).toString()).toBe(
      fx.reprs.sequential,
    );
    expect(new Dropout(0.5).toString()).toBe(fx.reprs.dropout);
    expect(new Net().toString()).toBe(fx.reprs.net);
    // Python writes floats below 1e-4 with an exponent
    expect(new Dropout(5e-5).toString()).toBe(fx.reprs.dropout_small);
    expect(new LSTM(3, 4, { numLayers: 2, dropout: 1e-5 }).toString()).toBe(fx.reprs.lstm_small_dropout);
  });

  it("prints a parameter as PyTorch: 'Parameter containing:' over the tensor", () => {
    // torch: str(nn.Parameter(torch.ones(2))), and with requires_grad=False
    expect(new Parameter(Float32Array.of(1, 1)).toString()).toBe(
      "Parameter containing:\ntensor([1., 1.], requires_grad=True)",
    );
    expect(new Parameter(Float32Array.of(1, 1), [2], false).toString()).toBe(
      "Parameter containing:\ntensor([1., 1.])",
    );
  });

  it("starts from PyTorch's initial weights for the same seed, bit for bit, for every layer type", () => {
    manualSeed(7);
    const seeded = new Sequential(
      new Linear(7, 5),
      new LSTM(5, 3, { numLayers: 2 }),
      new GRU(3, 4),
      new RNN(4, 2, { nonlinearity: "relu" }),
      new LSTM(2, 4, { projSize: 2 }),
      new RNNCell(2, 3),
      new LSTMCell(3, 2),
      new GRUCell(2, 2),
    );
    const sd = seeded.stateDict();
    expect(Object.keys(sd)).toEqual(Object.keys(fx.seeded_init));
    for (const [k, want] of Object.entries(fx.seeded_init)) {
      expect(sd[k].shape, k).toEqual(want.shape);
      expect(Array.from(sd[k].data), k).toEqual(Array.from(fromJson(want).data));
    }
  });

  it("a module reachable under two names: visited once, saved under both names", () => {
    class Tied extends Module {
      a = new Linear(1, 1, { bias: false });
      b = this.a;
    }
    const tied = new Tied();
    expect(tied.namedModules().map(([n]) => n)).toEqual(fx.shared.named_modules);
    expect(Object.keys(tied.stateDict())).toEqual(fx.shared.state_dict_keys);
    expect(tied.namedParameters().map(([n]) => n)).toEqual(fx.shared.named_parameters);
    // apply-style walks (modules(), train()) reach it once: halving the weight once leaves 0.5
    tied.a.weight.data[0] = 1;
    for (const m of tied.modules()) if (m instanceof Linear) m.weight.data[0] *= 0.5;
    expect(tied.a.weight.data[0]).toBe(0.5);
  });

  it("names parameters and state as PyTorch does", () => {
    const net = new Net();
    expect(net.namedParameters().map(([n]) => n)).toEqual(fx.named_parameters);
    expect(Object.keys(net.stateDict())).toEqual(fx.state_dict_keys);
  });

  it("loads a PyTorch state dict and computes the same numbers", () => {
    const net = new Net();
    const sd = Object.fromEntries(Object.entries(fx.state_dict).map(([k, v]) => [k, fromJson(v)]));
    net.loadStateDict(sd);
    expectClose(net.forward(fromJson(fx.x)), fx.y, { atol: 1e-6, rtol: 1e-5 });
  });

  it("rejects missing, unexpected and wrongly shaped keys with PyTorch's messages", () => {
    const sd = Object.fromEntries(Object.entries(fx.state_dict).map(([k, v]) => [k, fromJson(v)]));
    const missing = { ...sd };
    delete missing["head.weight"];
    expect(() => new Net().loadStateDict(missing)).toThrow(fx.errors.missing);
    expect(() => new Net().loadStateDict({ ...sd, "body.9.weight": zeros(1) })).toThrow(fx.errors.unexpected);
    expect(() => new Net().loadStateDict({ ...sd, "body.0.weight": zeros(3, 2) })).toThrow(fx.errors.size);
    // all three at once, in PyTorch's order, unexpected keys module by module from the root
    const combined: Record<string, Tensor> = { ...missing, zzz: zeros(1) };
    combined["body.2.fc.extra"] = zeros(1);
    combined.aaa = zeros(1);
    combined["body.0.weight"] = zeros(3, 2);
    expect(() => new Net().loadStateDict(combined)).toThrow(fx.errors.combined);
    const ordered = { ...sd, "body.2.fc.extra": zeros(1), aaa: zeros(1) };
    expect(new Net().loadStateDict(ordered, { strict: false }).unexpectedKeys).toEqual(
      fx.errors.unexpected_order,
    );
    // on an error nothing is copied
    const net = new Net();
    const before = net.body.children()[0] as Linear;
    const w0 = Array.from(before.weight.data);
    expect(() => net.loadStateDict(combined)).toThrow();
    expect(Array.from(before.weight.data)).toEqual(w0);
    // strict=false reports instead of failing, but a shape mismatch is still an error
    const r = new Net().loadStateDict(missing, { strict: false });
    expect(r.missingKeys).toEqual(["head.weight"]);
  });

  it("train/eval reach every submodule; zeroGrad drops every gradient, or zeroes it with setToNone = false", () => {
    const net = new Net();
    net.eval();
    expect(net.modules().every((m) => !m.training)).toBe(true);
    net.train();
    expect(net.drop.training).toBe(true);
    net.forward(randn(3, 2)).sum().backward();
    expect(net.parameters().every((p) => p.grad !== null)).toBe(true);
    const grads = net.parameters().map((p) => p.grad);
    net.zeroGrad(false);
    expect(net.parameters().every((p, i) => p.grad === grads[i] && p.grad!.data.every((v) => v === 0))).toBe(
      true,
    );
    net.zeroGrad();
    expect(net.parameters().every((p) => p.grad === null)).toBe(true);
  });

  it("initializes Linear as PyTorch: U(-1/sqrt(in), 1/sqrt(in)) for weight and bias", () => {
    manualSeed(3);
    const l = new Linear(64, 512);
    const bound = 1 / 8;
    const w = l.weight.data;
    let lo = Infinity;
    let hi = -Infinity;
    let s2 = 0;
    for (const v of w) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
      s2 += v * v;
    }
    expect(lo).toBeGreaterThanOrEqual(-bound);
    expect(hi).toBeLessThanOrEqual(bound);
    expect(lo).toBeLessThan(-0.99 * bound);
    expect(hi).toBeGreaterThan(0.99 * bound);
    // variance of U(-b, b) is b²/3
    expect(Math.abs(s2 / w.length / ((bound * bound) / 3) - 1)).toBeLessThan(0.03);
    expect(l.bias!.data.every((v) => Math.abs(v) <= bound)).toBe(true);
  });
});
