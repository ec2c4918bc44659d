// nn.Module against PyTorch: printed form, dotted parameter names, the state dict and its loading.
// Fixture: test/fixtures/gen/module.py.

import { describe, expect, it } from "vitest";
import { randn, zeros } from "../src/core/creation.js";
import { manualSeed } from "../src/core/random.js";
import type { Tensor } from "../src/core/tensor.js";
import { Dropout, Linear, ReLU, Sequential, Tanh } from "../src/nn/linear.js";
import { Module } from "../src/nn/module.js";
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
  reprs: Record<string, string>;
  named_parameters: string[];
  state_dict_keys: string[];
  state_dict: Record<string, TensorJson>;
  errors: Record<string, string>;
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
    expect(() => new Net().loadStateDict({ ...sd, "body.0.weight": zeros(3, 2) })).toThrow(
      /size mismatch for body\.0\.weight: copying a param with shape \[3, 2\] from checkpoint, the shape in current model is \[4, 2\]/,
    );
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
