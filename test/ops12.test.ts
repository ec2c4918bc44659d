// Issue 12's ops (gather, scatter, indexSelect, maskedFill, flip, roll, topk, sort, cumsum, bmm, all/any) held
// to PyTorch 1.13's values, gradients and node names (test/fixtures/gen/ops12.py), their backwards to finite
// differences, their errors to PyTorch's texts; and multinomial / randperm / bernoulli to PyTorch's draws.

import { describe, expect, it } from "vitest";
import { gradcheck } from "../src/core/gradcheck.js";
import { Generator } from "../src/core/random.js";
import * as R from "../src/index.js";
import type { Tensor } from "../src/core/tensor.js";
import { expectClose, loadFixture, num, type TensorJson } from "./helpers.js";
import { build, type Case, OPS, OWN_NODE_NAME } from "./ops12-table.js";

describe("issue 12 ops against PyTorch", () => {
  const cases = loadFixture<Record<string, Case>>("ops12", "ops");
  it("covers every fixture case", () => {
    expect(Object.keys(OPS).sort()).toEqual(Object.keys(cases).sort());
  });
  for (const [name, fn] of Object.entries(OPS)) {
    it(name, () => {
      const c = cases[name];
      const ins = c.inputs.map((d) => build(d, d.dtype === "torch.float32"));
      const r = fn(...ins);
      const outs = Array.isArray(r) ? r : [r];
      expect(outs.length).toBe(c.outs.length);
      let loss: Tensor | null = null;
      outs.forEach((o, k) => {
        const w = c.outs[k];
        expect(`torch.${o.dtype}`, `${name} out ${k} dtype`).toBe(w.dtype);
        expect(o.shape).toEqual(w.shape);
        if (o.dtype === "float32") expectClose(o, w.values.map(num), { atol: 1e-5, rtol: 1e-5, what: name });
        else expect(Array.from(o.storage)).toEqual(w.values);
        const want = c.grad_fn[k];
        if (want !== null) expect(o.gradFn?.name).toBe(OWN_NODE_NAME[name] ?? want);
        else expect(o.gradFn).toBe(null);
        const wt = c.weights[k];
        if (wt !== null) {
          const term = o.mul(R.tensor(wt.data.map(num), { shape: wt.shape })).sum();
          loss = loss === null ? term : loss.add(term);
        }
      });
      if (loss !== null && (loss as Tensor).requiresGrad) (loss as Tensor).backward();
      ins.forEach((x, k) => {
        const g = c.grads[k];
        if (g === null) return;
        expectClose(x.grad ?? R.zeros(x.shape), g, { atol: 1e-5, rtol: 1e-5, what: `${name} grad ${k}` });
      });
    });
  }
});

describe("issue 12 backwards against finite differences", () => {
  const g = new Generator(12);
  const rnd = (...shape: number[]) => R.randn(shape, { generator: g }).requiresGrad_();
  const L = { dtype: "int64" } as const;
  const checks: Record<string, [(...xs: Tensor[]) => Tensor, Tensor[]]> = {
    gather: [
      (a) =>
        a.gather(
          1,
          R.tensor(
            [
              [0, 2, 2],
              [1, 0, 1],
            ],
            L,
          ),
        ),
      [rnd(2, 3)],
    ],
    scatter: [(a, s) => a.scatter(0, R.tensor([[1, 0, 2]], L), s), [rnd(3, 3), rnd(1, 3)]],
    scatter_value: [(a) => a.scatter(1, R.tensor([[1], [0]], L), -3), [rnd(2, 3)]],
    scatter_add: [
      (a, s) =>
        a.scatterAdd(
          1,
          R.tensor(
            [
              [0, 0, 2],
              [1, 1, 1],
            ],
            L,
          ),
          s,
        ),
      [rnd(2, 3), rnd(2, 3)],
    ],
    index_select: [(a) => a.indexSelect(1, R.tensor([2, 0, 2], L)), [rnd(2, 3, 2)]],
    masked_fill: [(a, v) => a.maskedFill(R.tensor([[true, false, true]]), v), [rnd(2, 3), rnd().sum()]],
    flip: [(a) => a.flip(1, 2), [rnd(2, 3, 4)]],
    roll: [(a) => a.roll([2, -1], [0, 1]), [rnd(3, 4)]],
    topk: [(a) => a.topk(2, 0)[0], [rnd(4, 3)]],
    sort: [(a) => a.sort(1, true)[0], [rnd(3, 4)]],
    cumsum: [(a) => a.cumsum(-1), [rnd(2, 5)]],
    bmm: [(a, b) => a.bmm(b), [rnd(2, 2, 3), rnd(2, 3, 4)]],
    matmul_batched: [(a, b) => a.matmul(b), [rnd(2, 1, 2, 3), rnd(3, 3, 2)]],
  };
  for (const [name, [fn, inputs]] of Object.entries(checks)) {
    it(name, () => {
      const xs = inputs.map((x) => (x.isLeaf ? x : x.detach().requiresGrad_()));
      const r = gradcheck(fn, xs);
      expect(r.worst, JSON.stringify(r.worst)).toBe(null);
    });
  }
});

describe("issue 12 errors as PyTorch's", () => {
  const want = loadFixture<Record<string, string>>("ops12", "errors");
  const L = { dtype: "int64" } as const;
  const x = () =>
    R.tensor([
      [0.5, -1.5, 2.0],
      [3.25, 0.0, -4.0],
    ]);
  const ix = (...v: number[]) => R.tensor(v, L);
  const cases: Record<string, () => unknown> = {
    bmm_2d: () => R.bmm(x(), x()),
    bmm_2d_second: () => R.bmm(x().reshape(1, 2, 3), x()),
    bmm_mismatch: () => R.bmm(R.zeros(2, 3, 4), R.zeros(2, 5, 6)),
    bmm_batch: () => R.bmm(R.zeros(2, 3, 4), R.zeros(3, 4, 6)),
    gather_float_index: () => x().gather(1, R.tensor([[0, 1]])),
    gather_ndim: () => x().gather(1, ix(0, 1)),
    gather_oob: () => x().gather(1, R.tensor([[0, 5]], L)),
    gather_neg: () => x().gather(1, R.tensor([[0, -1]], L)),
    gather_size: () => x().gather(1, R.tensor([[0], [1], [2]], L)),
    scatter_oob: () => x().scatter(1, R.tensor([[0, 5]], L), 1.0),
    scatter_src_small: () => x().scatter(1, R.tensor([[0, 1]], L), R.zeros(1, 1)),
    scatter_float_index: () => x().scatter(1, R.tensor([[0, 1]]), 1.0),
    scatter_add_src_small: () => x().scatterAdd(1, R.tensor([[0, 1]], L), R.zeros(1, 1)),
    index_select_2d: () => x().indexSelect(1, R.tensor([[0, 1]], L)),
    index_select_float: () => x().indexSelect(1, R.tensor([0])),
    index_select_oob: () => x().indexSelect(1, ix(3)),
    index_select_neg: () => x().indexSelect(1, ix(-1)),
    masked_fill_value_1d: () => x().maskedFill(R.tensor([true, false, true]), R.tensor([1, 2])),
    masked_fill_bcast: () => x().maskedFill(R.tensor([true, false]), 1.0),
    topk_k: () => x().topk(4),
    flip_repeat: () => x().flip(0, 0),
    roll_align: () => x().roll(1, [0, 1]),
    cumsum_dim: () => x().cumsum(2),
    sort_dim: () => x().sort(2),
    multinomial_too_many: () => R.multinomial(R.tensor([0.5, 0.5]), 3),
    multinomial_3d: () => R.multinomial(R.zeros(2, 2, 2), 1),
    multinomial_zero: () => R.multinomial(R.tensor([0, 0]), 1),
    multinomial_negative: () => R.multinomial(R.tensor([-1, 1]), 1),
    multinomial_rep_zero: () => R.multinomial(R.tensor([0, 0]), 2, true),
    multinomial_rep_negative: () => R.multinomial(R.tensor([-1, 1]), 2, true),
    multinomial_long: () => R.multinomial(ix(1, 1), 1),
    randperm_negative: () => R.randperm(-1),
    bernoulli_p: () => R.bernoulli(R.tensor([1.5])),
  };
  for (const [name, f] of Object.entries(cases)) {
    it(name, () => expect(f).toThrow(want[name]));
  }
});

describe("multinomial, randperm and bernoulli draw PyTorch's numbers", () => {
  const d = loadFixture<Record<string, number[] | number[][] | TensorJson>>("ops12", "draws");
  const p = () => R.tensor([0.1, 0.2, 0.3, 0.4, 0.0, 1.5]);
  const fromJ = (t: TensorJson) => R.tensor(t.data.map(num), { shape: t.shape });
  const list = (t: Tensor) => t.tolist();
  it("randperm", () => {
    R.manualSeed(5);
    expect(list(R.randperm(10))).toEqual(d.randperm_10);
    R.manualSeed(6);
    expect(list(R.randperm(1000))).toEqual(d.randperm_1000);
    expect(list(R.randperm(37, { generator: new Generator(7) }))).toEqual(d.randperm_gen);
    expect(R.randperm(3).dtype).toBe("int64");
  });
  it("multinomial without replacement, and one sample", () => {
    R.manualSeed(8);
    expect(list(R.multinomial(p(), 1))).toEqual(d.multinomial_1);
    R.manualSeed(8);
    expect(list(p().multinomial(4))).toEqual(d.multinomial_norep);
    const p2 = fromJ(d.p2 as TensorJson);
    R.manualSeed(10);
    expect(list(R.multinomial(p2, 10))).toEqual(d.multinomial_2d_norep);
    R.manualSeed(12);
    expect(list(R.multinomial(p2, 1, true))).toEqual(d.multinomial_2d_one);
  });
  it("multinomial with replacement", () => {
    R.manualSeed(9);
    expect(list(R.multinomial(p(), 20, true))).toEqual(d.multinomial_rep);
    R.manualSeed(11);
    expect(list(R.multinomial(fromJ(d.p2 as TensorJson), 30, true))).toEqual(d.multinomial_2d_rep);
  });
  it("bernoulli with a probability tensor and with one probability", () => {
    R.manualSeed(13);
    expect(list(R.bernoulli(fromJ(d.pb as TensorJson)))).toEqual(d.bernoulli_tensor);
    R.manualSeed(14);
    expect(list(R.bernoulli(R.zeros(40), 0.3))).toEqual(d.bernoulli_scalar);
    R.manualSeed(15);
    expect(list(R.zeros(2, 20).bernoulli(0.7).reshape(-1))).toEqual(d.bernoulli_inplace);
  });
  it("leaves the generator where PyTorch leaves it", () => {
    R.manualSeed(16);
    R.multinomial(p(), 3);
    R.randperm(5);
    R.bernoulli(fromJ(d.pb as TensorJson));
    expectClose(R.randn(5), d.after as TensorJson);
  });
});
