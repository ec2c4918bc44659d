// The generic ops against PyTorch: values and gradients of a fixed random weighting of the output
// (fixtures from test/fixtures/gen/ops.py), and finite differences as a second witness.

import { describe, expect, it } from "vitest";
import { arange, linspace, rand, randn, tensor, zeros } from "../src/core/creation.js";
import { gradcheck } from "../src/core/gradcheck.js";
import * as F from "../src/core/ops.js";
import { manualSeed } from "../src/core/random.js";
import { noGrad, type Tensor } from "../src/core/tensor.js";
import { expectClose, fromJson, loadFixture, type TensorJson } from "./helpers.js";
import { OPS } from "./ops-table.js";

interface OpCase {
  name: string;
  inputs: TensorJson[];
  output: TensorJson;
  weight: TensorJson;
  grads: (TensorJson | null)[];
}

const { cases } = loadFixture<{ cases: OpCase[] }>("ops", "ops");

describe("ops match PyTorch (values and gradients)", () => {
  it("covers every op in the table", () => {
    expect(cases.map((c) => c.name).sort()).toEqual(Object.keys(OPS).sort());
  });
  for (const c of cases) {
    it(c.name, () => {
      const xs = c.inputs.map((t) => fromJson(t, true));
      const out = OPS[c.name](...xs);
      expectClose(out, c.output, { atol: 1e-6, rtol: 1e-6, what: `${c.name} output` });
      out.backward(fromJson(c.weight));
      c.grads.forEach((g, i) => {
        if (g === null) return;
        expectClose(xs[i].grad!, g, { atol: 1e-6, rtol: 1e-5, what: `${c.name} grad ${i}` });
      });
    });
  }
});

describe("ops pass finite-difference checks", () => {
  for (const c of cases) {
    // max/min/relu/abs/clamp are not differentiable at ties and kinks; random inputs avoid them.
    it(c.name, () => {
      const xs = c.inputs.map((t) => fromJson(t, true));
      const r = gradcheck(OPS[c.name], xs, { eps: 1e-3, atol: 2e-3, rtol: 1e-2 });
      expect(r.worst).toBeNull();
    });
  }
});

describe("printing matches PyTorch", () => {
  const prints = loadFixture<{
    cases: { input: TensorJson; requires_grad: boolean; grad_fn?: string; str: string }[];
  }>("ops", "prints");
  for (const [i, c] of prints.cases.entries()) {
    it(`case ${i}: ${c.str.split("\n")[0].slice(0, 40)}`, () => {
      let t = fromJson(c.input, c.requires_grad && !c.grad_fn);
      if (c.grad_fn) t = F.mul(tensor([1, 2], { requiresGrad: true }), 2);
      expect(t.toString()).toBe(c.str);
    });
  }
});

describe("creation matches PyTorch", () => {
  const cr = loadFixture<{
    linspace: { args: [number, number, number]; out: TensorJson }[];
    arange: { args: [number, number, number]; out: TensorJson }[];
    random: { seed: number; shape: number[]; randn: TensorJson; rand: TensorJson }[];
  }>("ops", "creation");
  it("linspace", () => {
    for (const c of cr.linspace)
      expectClose(linspace(...c.args), c.out, { atol: 1e-7, rtol: 1.2e-7, what: `linspace(${c.args})` });
  });
  it("arange", () => {
    for (const c of cr.arange)
      expectClose(arange(...c.args), c.out, { atol: 2e-7, rtol: 0, what: `arange(${c.args})` });
  });
  it("manualSeed(s) then randn/rand gives PyTorch's numbers for torch.manual_seed(s)", () => {
    for (const c of cr.random) {
      manualSeed(c.seed);
      expectClose(randn(c.shape), c.randn, { atol: 2e-7, rtol: 1e-6, what: `randn seed ${c.seed}` });
      expectClose(rand(c.shape), c.rand, { atol: 0, rtol: 0, what: `rand seed ${c.seed}` });
    }
  });
  it("tensor() from nested arrays, and errors", () => {
    const t = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(t.shape).toEqual([2, 3]);
    expect(t.tolist()).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(() => tensor([[1, 2], [3]])).toThrow(/expected sequence of length 2 at dim 1/);
    expect(() => tensor(new Float32Array(5), { shape: [2, 3] })).toThrow(/needs 6 elements, got 5/);
    expect(tensor(2.5).item()).toBe(2.5);
    expect(() => zeros(2, 2).item()).toThrow(/2 elements|4 elements/);
  });
  it("manualSeed makes random calls reproducible", () => {
    manualSeed(42);
    const a = randn(5, 3);
    manualSeed(42);
    const b = randn([5, 3]);
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    const c = randn(5, 3);
    expect(Array.from(c.data)).not.toEqual(Array.from(a.data));
    // Standard normal: mean ~0, std ~1 over many draws.
    manualSeed(1);
    const big = randn(100000);
    const m = big.mean().item();
    const sd = Math.sqrt(big.sub(m).square().mean().item());
    expect(Math.abs(m)).toBeLessThan(0.01);
    expect(Math.abs(sd - 1)).toBeLessThan(0.01);
  });
});

describe("autograd engine", () => {
  it("accumulates gradients in leaves across backward calls and through shared use", () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    const y = x.mul(x).add(x).sum(); // d/dx = 2x + 1
    y.backward();
    expect(Array.from(x.grad!.data)).toEqual([3, 5, 7]);
    x.mul(2).sum().backward();
    expect(Array.from(x.grad!.data)).toEqual([5, 7, 9]);
  });
  it("noGrad builds no graph and detach cuts it", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const y = noGrad(() => x.mul(3));
    expect(y.requiresGrad).toBe(false);
    expect(y.gradFn).toBeNull();
    const z = x.mul(2).detach();
    expect(z.requiresGrad).toBe(false);
    expect(() => z.sum().backward()).toThrow(/does not require grad/);
  });
  it("backward on a non-scalar needs a gradient", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    expect(() => x.mul(2).backward()).toThrow(/only for scalar outputs/);
    x.mul(2).backward(tensor([1, -1]));
    expect(Array.from(x.grad!.data)).toEqual([2, -2]);
  });
  it("retainGrad keeps a non-leaf gradient, hooks see it", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const h = x.mul(3).retainGrad();
    let seen: number[] = [];
    h.registerHook((g) => {
      seen = Array.from(g.data);
    });
    h.square().sum().backward(); // dL/dh = 2h = [6, 12]
    expect(Array.from(h.grad!.data)).toEqual([6, 12]);
    expect(seen).toEqual([6, 12]);
    expect(Array.from(x.grad!.data)).toEqual([18, 36]);
  });
  it("iterates over the first dimension as PyTorch's for-in", () => {
    const x = arange(6).reshape(3, 2);
    const rows = [...x].map((r) => r.tolist());
    expect(rows).toEqual([
      [0, 1],
      [2, 3],
      [4, 5],
    ]);
  });
  it("a deep graph (10,000 nodes) backpropagates without stack overflow", () => {
    const x = tensor([0.5], { requiresGrad: true });
    let y: Tensor = x;
    for (let i = 0; i < 10000; i++) y = y.mul(1.0001);
    y.sum().backward();
    expectClose(x.grad!, [1.0001 ** 10000], { rtol: 1e-3 });
  });
  it("shape errors name the shapes", () => {
    expect(() => zeros(2, 3).add(zeros(4))).toThrow(
      /size of tensor a \(3\) must match the size of tensor b \(4\)/,
    );
    expect(() => zeros(2, 3).matmul(zeros(2, 3))).toThrow(/cannot be multiplied \(2x3 and 2x3\)/);
    expect(() => zeros(2, 3).view(4, 2)).toThrow(/shape '\[4, 2\]' is invalid for input of size 6/);
    expect(() => zeros(2, 3).sum(2)).toThrow(
      /Dimension out of range \(expected to be in range of \[-2, 1\], but got 2\)/,
    );
    expect(() => F.cat([zeros(2, 3), zeros(2, 4)], 0)).toThrow(
      /Sizes of tensors must match except in dimension 0/,
    );
  });

  it("parameter gradients added straight into .grad: accumulation, shared use and hooks", () => {
    // linear's weight and bias take their gradient directly into an existing .grad (the engine's `into`)
    const w = tensor(
      [
        [1, 2],
        [3, 4],
      ],
      { requiresGrad: true },
    );
    const b = tensor([0.5, -0.5], { requiresGrad: true });
    const x = tensor([
      [1, -1],
      [2, 0.5],
    ]);
    const g = tensor([
      [1, 2],
      [-1, 0.5],
    ]); // dL/dy for L = Σ y·g
    const step = () => F.linear(x, w, b).mul(g).sum().backward();
    step(); // first backward: no .grad yet, fresh buffers
    // dW = gᵀ·x = [[1·1 + -1·2, 1·-1 + -1·0.5], [2·1 + 0.5·2, 2·-1 + 0.5·0.5]], db = Σ rows of g
    expect(Array.from(w.grad!.data)).toEqual([-1, -1.5, 3, -1.75]);
    expect(Array.from(b.grad!.data)).toEqual([0, 2.5]);
    const wGrad = w.grad!.data;
    step(); // second: added into the same buffers
    expect(w.grad!.data).toBe(wGrad);
    expect(Array.from(w.grad!.data)).toEqual([-2, -3, 6, -3.5]);
    expect(Array.from(b.grad!.data)).toEqual([0, 5]);
    // the same weight used twice in one graph gets the sum of both uses
    w.grad!.data.fill(0);
    F.linear(F.linear(x, w), w).sum().backward(); // L = Σ x·Wᵀ·Wᵀ, W in both products
    const wt = w.detach();
    const expected = gradcheckFree(() => F.linear(F.linear(x, wt), wt).sum(), wt);
    expectClose(w.grad!, expected, { atol: 1e-3, rtol: 1e-4 }); // float32 central differences
    // a leaf with a hook sees its whole gradient in one call, so it gets no direct accumulation
    let seen: number[] = [];
    const b2 = tensor([1, 1], { requiresGrad: true });
    b2.grad = tensor([10, 10]);
    b2.registerHook((gr) => {
      seen = Array.from(gr.data);
    });
    F.linear(x, w, b2).mul(g).sum().backward();
    expect(seen).toEqual([0, 2.5]);
    expect(Array.from(b2.grad!.data)).toEqual([10, 12.5]);
  });
});

/** d(f)/d(w) by central differences in float32 (a witness independent of the engine). */
function gradcheckFree(f: () => Tensor, w: Tensor): Float32Array {
  const out = new Float32Array(w.numel);
  const h = 1e-2;
  for (let i = 0; i < w.numel; i++) {
    const v = w.data[i];
    w.data[i] = v + h;
    const up = noGrad(f).item();
    w.data[i] = v - h;
    const down = noGrad(f).item();
    w.data[i] = v;
    out[i] = (up - down) / (2 * h);
  }
  return out;
}
