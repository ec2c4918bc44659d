// Losses against PyTorch 1.13 (test/fixtures/gen/loss.py evaluates each on our float32 inputs in
// float64), against finite differences, and against hand-computed cases.

import { describe, expect, it } from "vitest";
import { Tensor, noGrad } from "../src/core/tensor.js";
import {
  BCEWithLogitsLoss,
  CrossEntropyLoss,
  HuberLoss,
  L1Loss,
  MSELoss,
  SmoothL1Loss,
  bceWithLogitsLoss,
  crossEntropyLoss,
  huberLoss,
  l1Loss,
  mseLoss,
  smoothL1Loss,
} from "../src/nn/loss.js";
import { expectClose, fromJson, loadFixture } from "./helpers.js";
import { LOSS_FILES, LOSS_FUNCTIONS, type LossCase, lossOptions } from "./loss-cases.js";

const TOL = { atol: 1e-6, rtol: 1e-6 };

function runCase(c: LossCase): void {
  const input = fromJson(c.input, true);
  const target = fromJson(c.target, c.targetRequiresGrad);
  const loss = LOSS_FUNCTIONS[c.fn](input, target, lossOptions(c));
  expectClose(loss, c.loss, { ...TOL, what: `${c.name}: loss` });
  if (c.gradWeights === null) loss.backward();
  else loss.backward(fromJson(c.gradWeights));
  expectClose(input.grad ?? new Float32Array(0), c.gradInput, { ...TOL, what: `${c.name}: grad input` });
  if (c.gradTarget === null) {
    expect(target.grad, `${c.name}: grad target`).toBeNull();
  } else {
    expectClose(target.grad ?? new Float32Array(0), c.gradTarget, { ...TOL, what: `${c.name}: grad target` });
  }
}

for (const file of LOSS_FILES) {
  describe(`${file} against PyTorch`, () => {
    const { cases } = loadFixture<{ cases: LossCase[] }>("loss", file);
    it("has cases", () => expect(cases.length).toBeGreaterThan(20));
    for (const c of cases) it(c.name, () => runCase(c));
  });
}

/** A tensor from nested rows of numbers. */
function t(rows: number[] | number[][], requiresGrad = false): Tensor {
  const flat = (rows as (number | number[])[]).flat();
  const shape = Array.isArray(rows[0]) ? [rows.length, (rows[0] as number[]).length] : [rows.length];
  return new Tensor(Float32Array.from(flat), shape, requiresGrad);
}

describe("hand-computed values", () => {
  it("mse, l1, smooth L1 and Huber of a few differences", () => {
    const x = t([0, 1, 3, -2]);
    const y = t([0.5, 1, 0, 0]);
    // d = [-0.5, 0, 3, -2]
    expectClose(mseLoss(x, y), (0.25 + 0 + 9 + 4) / 4);
    expectClose(l1Loss(x, y, { reduction: "sum" }), 5.5);
    // beta = 1: 0.5·0.25, 0, 3 − 0.5, 2 − 0.5
    expectClose(smoothL1Loss(x, y, { reduction: "none" }), [0.125, 0, 2.5, 1.5]);
    // delta = 2: 0.5·0.25, 0, 2·(3 − 1), 2·(2 − 1)
    expectClose(huberLoss(x, y, { delta: 2, reduction: "none" }), [0.125, 0, 4, 2]);
  });

  it("cross entropy of uniform logits is log C; weighted mean divides by the weights of kept targets", () => {
    const x = t([
      [0, 0, 0, 0],
      [0, 0, 0, 0],
      [0, 0, 0, 0],
    ]);
    expectClose(crossEntropyLoss(x, [0, 3, 1]), Math.log(4));
    expectClose(crossEntropyLoss(t([0, 0, 0]), 1, { reduction: "none" }), Math.log(3));
    // Weighted: Σ w[t]·log 4 / Σ w[t] is still log 4; with sum reduction it is (2 + 3)·log 4.
    const weight = t([2, 5, 7, 3]);
    expectClose(crossEntropyLoss(x, [0, 3, -100], { weight }), Math.log(4));
    expectClose(crossEntropyLoss(x, [0, 3, -100], { weight, reduction: "sum" }), 5 * Math.log(4));
  });

  it("cross entropy with every target ignored is NaN with a zero gradient, as in PyTorch", () => {
    const x = t(
      [
        [1, 2],
        [3, -1],
      ],
      true,
    );
    const loss = crossEntropyLoss(x, [-100, -100], { labelSmoothing: 0.1 });
    expect(Number.isNaN(loss.item())).toBe(true);
    loss.backward();
    expectClose(x.grad ?? [], [0, 0, 0, 0]);
  });

  it("bce with logits of 0 logits is log 2 whatever the target", () => {
    const x = t([0, 0, 0]);
    expectClose(bceWithLogitsLoss(x, t([0, 0.5, 1]), { reduction: "none" }), [Math.LN2, Math.LN2, Math.LN2]);
  });

  it("stays finite for huge logits", () => {
    const x = t([[1e4, -1e4, 0]]);
    expectClose(crossEntropyLoss(x, [0]), 0);
    expectClose(crossEntropyLoss(x, [1]), 2e4, { rtol: 1e-6 });
    expectClose(bceWithLogitsLoss(t([1e4, -1e4]), t([0, 1]), { reduction: "none" }), [1e4, 1e4], {
      rtol: 1e-6,
    });
  });
});

// ---- finite differences: a second witness for the gradients ----

const H = 1 / 128; // exactly representable, so x ± H is exact for the magnitudes used here

/** The gradient of Σ w·f(...) with respect to each input, by central differences in float64. */
function numericGrad(f: () => Tensor, x: Tensor, w: Float32Array): Float64Array {
  const g = new Float64Array(x.numel);
  const weighted = () => {
    const out = noGrad(f).data;
    let s = 0;
    for (let i = 0; i < out.length; i++) s += w[i] * out[i];
    return s;
  };
  for (let i = 0; i < x.numel; i++) {
    const orig = x.data[i];
    x.data[i] = orig + H;
    const fp = weighted();
    x.data[i] = orig - H;
    const fm = weighted();
    x.data[i] = orig;
    g[i] = (fp - fm) / (2 * H);
  }
  return g;
}

function weights(n: number, seed: number): Float32Array {
  const w = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    w[i] = (s / 2147483648) * 2 - 0.5;
  }
  return w;
}

function randomTensor(shape: number[], seed: number, scale = 2): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return new Tensor(
    Float32Array.from(weights(n, seed), (v) => (v - 0.5) * scale),
    shape,
    true,
  );
}

function checkAgainstFiniteDifferences(f: () => Tensor, inputs: Tensor[]): void {
  for (const x of inputs) x.grad = null;
  const out = f();
  const w = weights(out.numel, 7);
  out.backward(w);
  inputs.forEach((x, k) => {
    const numeric = numericGrad(f, x, w);
    expectClose(x.grad ?? new Float32Array(0), Array.from(numeric), {
      atol: 2e-4,
      rtol: 2e-3,
      what: `input ${k}`,
    });
  });
}

describe("gradients against finite differences", () => {
  it("K-dimensional cross entropy with weights, ignored targets and label smoothing", () => {
    const x = randomTensor([2, 3, 2, 2], 11);
    const target = new Tensor(Float32Array.from([0, 2, -100, 1, 1, 0, 2, 2]), [2, 2, 2]);
    const weight = t([0.5, 2, 1.5]);
    checkAgainstFiniteDifferences(
      () => crossEntropyLoss(x, target, { weight, labelSmoothing: 0.2, reduction: "none" }),
      [x],
    );
    checkAgainstFiniteDifferences(() => crossEntropyLoss(x, target, { weight, labelSmoothing: 0.2 }), [x]);
  });

  it("cross entropy with probability targets, to logits and targets", () => {
    const x = randomTensor([3, 4], 5);
    const p = randomTensor([3, 4], 6, 1);
    checkAgainstFiniteDifferences(
      () => crossEntropyLoss(x, p, { weight: t([1, 2, 0.5, 1.5]), labelSmoothing: 0.1 }),
      [x, p],
    );
  });

  it("bce with logits with weight and posWeight, to logits and targets", () => {
    const x = randomTensor([3, 4], 9, 6);
    const y = randomTensor([3, 4], 10, 1);
    const posWeight = t([0.5, 1, 2, 3]);
    const weight = t([[1, 0.5, 2, 1.5]]);
    checkAgainstFiniteDifferences(
      () => bceWithLogitsLoss(x, y, { weight, posWeight, reduction: "none" }),
      [x, y],
    );
  });

  it("Huber and mse, to input and target", () => {
    const x = randomTensor([2, 5], 3, 4);
    const y = randomTensor([2, 5], 4, 4);
    checkAgainstFiniteDifferences(() => huberLoss(x, y, { delta: 0.7, reduction: "sum" }), [x, y]);
    checkAgainstFiniteDifferences(() => mseLoss(x, y), [x, y]);
  });
});

// ---- modules ----

describe("modules", () => {
  it("print as PyTorch prints them, options or not", () => {
    expect(String(new MSELoss())).toBe("MSELoss()");
    expect(String(new MSELoss({ reduction: "sum" }))).toBe("MSELoss()");
    expect(String(new L1Loss())).toBe("L1Loss()");
    expect(String(new SmoothL1Loss({ beta: 0.5 }))).toBe("SmoothL1Loss()");
    expect(String(new HuberLoss({ delta: 2, reduction: "none" }))).toBe("HuberLoss()");
    expect(String(new CrossEntropyLoss({ weight: t([1, 2, 3]), ignoreIndex: 1, labelSmoothing: 0.1 }))).toBe(
      "CrossEntropyLoss()",
    );
    expect(String(new BCEWithLogitsLoss({ posWeight: t([1, 2]) }))).toBe("BCEWithLogitsLoss()");
  });

  it("forward the function with their options", () => {
    const x = randomTensor([3, 4], 21);
    const y = randomTensor([3, 4], 22, 1);
    const same = (a: Tensor, b: Tensor) => expect(Array.from(a.data)).toEqual(Array.from(b.data));
    same(new MSELoss({ reduction: "none" }).forward(x, y), mseLoss(x, y, { reduction: "none" }));
    same(new L1Loss({ reduction: "sum" }).forward(x, y), l1Loss(x, y, { reduction: "sum" }));
    same(new SmoothL1Loss({ beta: 0.3 }).forward(x, y), smoothL1Loss(x, y, { beta: 0.3 }));
    same(new HuberLoss({ delta: 0.3 }).forward(x, y), huberLoss(x, y, { delta: 0.3 }));
    const weight = t([1, 2, 3, 4]);
    const opts = { weight, ignoreIndex: 2, labelSmoothing: 0.25, reduction: "sum" } as const;
    same(new CrossEntropyLoss(opts).forward(x, [0, 2, 3]), crossEntropyLoss(x, [0, 2, 3], opts));
    const bopts = { weight, posWeight: t([2, 1, 1, 3]) };
    same(new BCEWithLogitsLoss(bopts).forward(x, y), bceWithLogitsLoss(x, y, bopts));
    // The options matter: these differ from the defaults.
    expect(new HuberLoss({ delta: 0.3 }).forward(x, y).item()).not.toBe(huberLoss(x, y).item());
  });

  it("hold their weights as buffers under PyTorch's names", () => {
    expect(Object.keys(new CrossEntropyLoss().stateDict())).toEqual([]);
    expect(Object.keys(new CrossEntropyLoss({ weight: t([1, 2]) }).stateDict())).toEqual(["weight"]);
    expect(Object.keys(new BCEWithLogitsLoss({ weight: t([1]), posWeight: t([2]) }).stateDict())).toEqual([
      "weight",
      "pos_weight",
    ]);
    expect(new MSELoss().parameters()).toEqual([]);
  });
});

// ---- bad input ----

describe("bad input", () => {
  const x = t([
    [1, 2, 3],
    [4, 5, 6],
  ]);

  it("names both shapes when input and target differ", () => {
    const y = t([1, 2]);
    for (const f of [mseLoss, l1Loss, smoothL1Loss, huberLoss, bceWithLogitsLoss]) {
      expect(() => f(x, y)).toThrow(/target shape \[2\] differs from input shape \[2, 3\]/);
    }
  });

  it("rejects an unknown reduction", () => {
    expect(() => mseLoss(x, x, { reduction: "avg" as "mean" })).toThrow(
      /unknown reduction "avg"; expected "mean", "sum" or "none"/,
    );
    expect(() => crossEntropyLoss(x, [0, 1], { reduction: "avg" as "mean" })).toThrow(
      /unknown reduction "avg"/,
    );
    expect(() => new MSELoss({ reduction: "all" as "mean" })).toThrow(/MSELoss: unknown reduction "all"/);
  });

  it("rejects class indices out of range, non-integer and wrongly shaped", () => {
    expect(() => crossEntropyLoss(x, [0, 5])).toThrow(/^Target 5 is out of bounds\. .*\[0, 2\]/);
    expect(() => crossEntropyLoss(x, [-1, 0])).toThrow(/^Target -1 is out of bounds\./);
    expect(() => crossEntropyLoss(x, [0, 1.5])).toThrow(/class-index targets must be integers, got 1.5/);
    expect(() => crossEntropyLoss(x, [0, 1, 2])).toThrow(
      /expected target of shape \[2\] \(class indices\) or \[2, 3\] \(class probabilities\).*got \[3\]/,
    );
    const k = new Tensor(new Float32Array(2 * 3 * 4), [2, 3, 4]);
    expect(() => crossEntropyLoss(k, new Tensor(new Float32Array(6), [2, 3]))).toThrow(
      /expected target of shape \[2, 4\].*got \[2, 3\]/,
    );
    expect(() => crossEntropyLoss(new Tensor(Float32Array.of(1), []), 0)).toThrow(/got a 0-d tensor/);
  });

  it("rejects bad cross-entropy options", () => {
    expect(() => crossEntropyLoss(x, [0, 1], { weight: t([1, 2]) })).toThrow(/shape \[3\], got \[2\]/);
    expect(() => crossEntropyLoss(x, [0, 1], { labelSmoothing: 1.5 })).toThrow(
      /between 0.0 and 1.0, got 1.5/,
    );
    expect(() => crossEntropyLoss(x, x, { ignoreIndex: 0 })).toThrow(
      /ignoreIndex is not supported for class-probability/,
    );
  });

  it("rejects bad beta, delta and unbroadcastable weights", () => {
    expect(() => smoothL1Loss(x, x, { beta: -1 })).toThrow(/beta must be a finite number >= 0, got -1/);
    expect(() => huberLoss(x, x, { delta: 0 })).toThrow(/delta must be a finite number > 0, got 0/);
    expect(() => new HuberLoss({ delta: -2 })).toThrow(/got -2/);
    expect(() => bceWithLogitsLoss(x, x, { posWeight: t([1, 2]) })).toThrow(
      /posWeight of shape \[2\] cannot be broadcast to the input shape \[2, 3\]/,
    );
    const big = new Tensor(new Float32Array(12), [2, 2, 3]);
    expect(() => bceWithLogitsLoss(x, x, { weight: big })).toThrow(
      /weight of shape \[2, 2, 3\] cannot be broadcast/,
    );
  });
});
