// The sequence-model modules against PyTorch 1.13 (fixtures from test/fixtures/gen/nn12.py) and
// finite differences: Embedding, NLLLoss, LayerNorm, Conv1d, MultiheadAttention, Dropout masks, F.pad,
// module hooks, TensorDataset/DataLoader, and the custom-op adapter.

import { describe, expect, it } from "vitest";
import { customOp } from "../src/core/custom.js";
import { data, Generator, gradcheck, manualSeed, nn, randn, type Tensor, tensor } from "../src/index.js";
import { expectClose, fromJson, loadFixture, type TensorJson } from "./helpers.js";

const F = nn.functional;
const A = "nn12";
type Ints = { shape: number[]; data: number[] };
const intsOf = (j: Ints): Tensor => fromJson({ shape: j.shape, data: j.data });
/** sum(out · gw) backward, as the fixtures' weighted_backward. */
const backwardWeighted = (out: Tensor, gw: TensorJson) => out.mul(fromJson(gw)).sum().backward();
const tol = { atol: 2e-5, rtol: 2e-5 };

describe("custom-op adapter", () => {
  it("hands a leaf's .grad to add into, and an owned buffer otherwise", () => {
    const w = tensor([1, 2, 3], { requiresGrad: true });
    const x = tensor([4, 5, 6], { requiresGrad: true });
    const mk = () =>
      customOp("DotBackward0", [w, null, x], [{ data: Float32Array.of(32), shape: [] }], (g, d) => {
        const dw = d.add(0);
        const dx = d.own(2);
        expect(d.add(1)).toBeNull();
        for (let i = 0; i < 3; i++) {
          dw![i] += g[0]![0] * x.data[i];
          dx![i] = g[0]![0] * w.data[i];
        }
      })[0];
    const y = mk();
    expect(y.gradFn?.name).toBe("DotBackward0");
    y.backward();
    mk().mul(2).backward();
    expect(Array.from(w.grad!.data)).toEqual([12, 15, 18]);
    expect(Array.from(x.grad!.data)).toEqual([3, 6, 9]);
  });
});

describe("Embedding", () => {
  const cases = loadFixture<Record<string, unknown>[]>(A, "embedding");
  for (const c of cases.slice(0, 2)) {
    it(`${c.name}: initial draws, output and weight gradient as PyTorch`, () => {
      manualSeed(c.seed as number);
      const e = new nn.Embedding(c.num as number, c.dim as number, c.options as nn.EmbeddingOptions);
      expect(e.toString()).toBe(c.repr);
      // N(0, 1) draws: PyTorch's vectorized log/cos may differ from ours by one float32 ulp
      expectClose(e.weight, c.weight as TensorJson, { atol: 0, rtol: 3e-7, what: "initial weight" });
      const out = e.forward(intsOf(c.input as Ints));
      expect(out.gradFn?.name).toBe("EmbeddingBackward0");
      expectClose(out, c.output as TensorJson, { ...tol, what: "output" });
      if (c.weightAfter)
        expectClose(e.weight, c.weightAfter as TensorJson, { ...tol, what: "renormed weight" });
      backwardWeighted(out, c.gradWeights as TensorJson);
      expectClose(e.weight.grad!, c.gradWeight as TensorJson, { ...tol, what: "weight grad" });
    });
  }
  it("takes token ids as number arrays too", () => {
    manualSeed(3);
    const e = new nn.Embedding(10, 4, { paddingIdx: 1 });
    const c = cases[0];
    expectClose(
      e.forward([
        [0, 1, 3],
        [3, 9, 1],
      ]),
      c.output as TensorJson,
      tol,
    );
  });
  it("fromPretrained freezes and prints as PyTorch", () => {
    const c = cases[2];
    const pre = fromJson(c.pretrained as TensorJson);
    const fz = nn.Embedding.fromPretrained(pre, { paddingIdx: -1 });
    expect(fz.toString()).toBe(c.repr);
    expect(fz.weight.requiresGrad).toBe(c.requiresGrad);
    expect(nn.Embedding.fromPretrained(pre, { freeze: false, maxNorm: 2, normType: 1 }).toString()).toBe(
      c.reprUnfrozen,
    );
    expect(nn.Embedding.fromPretrained(pre, { freeze: false }).weight.requiresGrad).toBe(true);
  });
  it("refuses an index out of range and a bad padding index with PyTorch's errors", () => {
    const e = new nn.Embedding(4, 2);
    expect(() => e.forward([0, 4])).toThrow("index out of range in self");
    expect(() => e.forward([0.5])).toThrow(/integer/);
    expect(() => new nn.Embedding(4, 2, { paddingIdx: 4 })).toThrow(
      "Padding_idx must be within num_embeddings",
    );
  });
  it("has the gradient finite differences give", () => {
    const w = randn(6, 3, { requiresGrad: true });
    const r = gradcheck(
      (ww) =>
        F.embedding(
          [
            [1, 2, 2],
            [5, 0, 1],
          ],
          ww,
        ),
      [w],
    );
    expect(r.ok, JSON.stringify(r.worst)).toBe(true);
  });
});

describe("NLLLoss", () => {
  const cases = loadFixture<Record<string, unknown>[]>(A, "nll");
  it(`matches PyTorch in ${cases.length} cases (shapes, weight, ignoreIndex, reductions)`, () => {
    for (const c of cases) {
      const x = fromJson(c.input as TensorJson, true);
      const what = `${JSON.stringify((c.input as TensorJson).shape)} ${c.reduction} ignore=${c.ignoreIndex} w=${c.weight !== null}`;
      const m = new nn.NLLLoss({
        weight: c.weight ? fromJson(c.weight as TensorJson) : null,
        ignoreIndex: c.ignoreIndex as number,
        reduction: c.reduction as nn.Reduction,
      });
      const loss = m.forward(x, intsOf(c.target as Ints));
      expectClose(loss, c.loss as TensorJson, { ...tol, what: `${what} loss` });
      backwardWeighted(loss, c.gradWeights as TensorJson);
      expectClose(x.grad!, c.gradInput as TensorJson, { ...tol, what: `${what} grad` });
    }
  });
  it("equals crossEntropy after logSoftmax, and checks its targets as PyTorch", () => {
    const x = randn(4, 5);
    const t = [1, 0, 4, 2];
    expectClose(F.nllLoss(F.logSoftmax(x, 1), t), F.crossEntropy(x, t), { atol: 1e-6 });
    expect(() => F.nllLoss(x, [1, 0, 5, 2])).toThrow("Target 5 is out of bounds.");
    expect(() => F.nllLoss(x, [1, 0])).toThrow(
      "Expected input batch_size (4) to match target batch_size (2).",
    );
    expect(new nn.NLLLoss().toString()).toBe("NLLLoss()");
  });
  it("has the gradient finite differences give", () => {
    const x = randn(3, 4, 2, { requiresGrad: true });
    const w = tensor([1, 2, 0.5, 1.5]);
    const r = gradcheck(
      (xx) =>
        F.nllLoss(
          xx,
          [
            [0, 3],
            [2, 1],
            [1, 1],
          ],
          { weight: w, ignoreIndex: 2 },
        ),
      [x],
    );
    expect(r.ok, JSON.stringify(r.worst)).toBe(true);
  });
});

describe("LayerNorm", () => {
  const cases = loadFixture<Record<string, unknown>[]>(A, "layer_norm");
  for (const c of cases) {
    it(`${JSON.stringify(c.normalizedShape)} of ${JSON.stringify(c.shape)} (affine ${c.affine}) as PyTorch`, () => {
      const ln = new nn.LayerNorm(c.normalizedShape as number[], { elementwiseAffine: c.affine as boolean });
      expect(ln.toString()).toBe(c.repr);
      if (c.affine) {
        ln.weight!.data.set(fromJson(c.weight as TensorJson).data);
        ln.bias!.data.set(fromJson(c.bias as TensorJson).data);
      }
      const x = fromJson(c.x as TensorJson, true);
      const y = ln.forward(x);
      expectClose(y, c.y as TensorJson, { ...tol, what: "y" });
      backwardWeighted(y, c.gradWeights as TensorJson);
      expectClose(x.grad!, c.gradX as TensorJson, { atol: 5e-5, rtol: 5e-5, what: "dx" });
      if (c.affine) {
        expectClose(ln.weight!.grad!, c.gradW as TensorJson, { atol: 5e-5, rtol: 5e-5, what: "dw" });
        expectClose(ln.bias!.grad!, c.gradB as TensorJson, { ...tol, what: "db" });
      }
    });
  }
  it("has the gradients finite differences give, and PyTorch's shape error", () => {
    const x = randn(3, 4, { requiresGrad: true });
    const w = randn(4, { requiresGrad: true });
    const b = randn(4, { requiresGrad: true });
    const r = gradcheck((xx, ww, bb) => F.layerNorm(xx, [4], ww, bb), [x, w, b]);
    expect(r.ok, JSON.stringify(r.worst)).toBe(true);
    expect(() => F.layerNorm(randn(3, 5), [4])).toThrow(
      "Given normalized_shape=[4], expected input with shape [*, 4], but got input of size[3, 5]",
    );
  });
});

describe("Conv1d", () => {
  const cases = loadFixture<Record<string, unknown>[]>(A, "conv1d");
  for (const c of cases) {
    it(`${c.repr}: initial draws, output and gradients as PyTorch`, () => {
      manualSeed(c.seed as number);
      const m = new nn.Conv1d(c.in as number, c.out as number, c.k as number, c.options as nn.Conv1dOptions);
      expect(m.toString()).toBe(c.repr);
      expectClose(m.weight, c.weight as TensorJson, { atol: 0, rtol: 0, what: "initial weight" });
      if (c.bias) expectClose(m.bias!, c.bias as TensorJson, { atol: 0, rtol: 0, what: "initial bias" });
      const x = fromJson(c.x as TensorJson, true);
      const y = m.forward(x);
      expectClose(y, c.y as TensorJson, { ...tol, what: "y" });
      backwardWeighted(y, c.gradWeights as TensorJson);
      expectClose(x.grad!, c.gradX as TensorJson, { ...tol, what: "dx" });
      expectClose(m.weight.grad!, c.gradW as TensorJson, { ...tol, what: "dW" });
      if (c.gradB) expectClose(m.bias!.grad!, c.gradB as TensorJson, { ...tol, what: "db" });
    });
  }
  it("has the gradients finite differences give, and PyTorch's channel error", () => {
    const x = randn(2, 4, 9, { requiresGrad: true });
    const w = randn(6, 2, 3, { requiresGrad: true });
    const b = randn(6, { requiresGrad: true });
    const r = gradcheck(
      (xx, ww, bb) => F.conv1d(xx, ww, bb, { stride: 2, padding: 2, dilation: 2, groups: 2 }),
      [x, w, b],
    );
    expect(r.ok, JSON.stringify(r.worst)).toBe(true);
    expect(() => F.conv1d(randn(2, 5, 10), randn(4, 3, 2))).toThrow(
      "Given groups=1, weight of size [4, 3, 2], expected input[2, 5, 10] to have 3 channels, but got 5 channels instead",
    );
  });
});

describe("MultiheadAttention", () => {
  const cases = loadFixture<Record<string, unknown>[]>(A, "mha");
  for (const c of cases.slice(0, 3)) {
    it(`E=${c.E} H=${c.H} batchFirst=${c.batchFirst} mask=${c.attnMaskKind}: parameters, output, weights and gradients as PyTorch`, () => {
      manualSeed(c.seed as number);
      const m = new nn.MultiheadAttention(c.E as number, c.H as number, {
        batchFirst: c.batchFirst as boolean,
      });
      expect(m.toString()).toBe(c.repr);
      const named = m.namedParameters();
      expect(named.map(([n]) => n)).toEqual(c.names);
      const params = c.params as Record<string, TensorJson>;
      for (const [n, p] of named) expectClose(p, params[n], { atol: 0, rtol: 0, what: `initial ${n}` });
      const q = fromJson(c.q as TensorJson, true);
      const k = fromJson(c.k as TensorJson, true);
      const v = fromJson(c.v as TensorJson, true);
      const am =
        c.attnMask === null
          ? null
          : c.attnMaskKind === "float"
            ? fromJson(c.attnMask as TensorJson)
            : (c.attnMask as boolean[][]);
      const [out, w] = m.forward(q, k, v, {
        keyPaddingMask: c.kpm as boolean[][] | null,
        attnMask: am,
        averageAttnWeights: c.average as boolean,
      });
      expectClose(out, c.out as TensorJson, { ...tol, what: "output" });
      expectClose(w!, c.weights as TensorJson, { ...tol, what: "weights" });
      backwardWeighted(out, c.gradWeights as TensorJson);
      expectClose(q.grad!, c.gradQ as TensorJson, { ...tol, what: "dq" });
      expectClose(k.grad!, c.gradK as TensorJson, { ...tol, what: "dk" });
      expectClose(v.grad!, c.gradV as TensorJson, { ...tol, what: "dv" });
      const gp = c.gradParams as Record<string, TensorJson>;
      for (const [n, p] of named) expectClose(p.grad!, gp[n], { atol: 5e-5, rtol: 5e-5, what: `d${n}` });
    });
  }
  it("unbatched self-attention without weights as PyTorch", () => {
    const c = cases[3];
    manualSeed(c.seed as number);
    const m = new nn.MultiheadAttention(4, 2);
    const x = fromJson(c.x as TensorJson);
    const [out, w] = m.forward(x, x, x, { needWeights: false });
    expect(w).toBeNull();
    expectClose(out, c.out as TensorJson, tol);
  });
  it("has the input gradients finite differences give", () => {
    manualSeed(1);
    const m = new nn.MultiheadAttention(4, 2);
    const q = randn(3, 2, 4, { requiresGrad: true });
    const kv = randn(5, 2, 4, { requiresGrad: true });
    const r = gradcheck(
      (qq, kk) =>
        m.forward(qq, kk, kk, {
          keyPaddingMask: [
            [false, false, false, true, true],
            [false, false, false, false, false],
          ],
        })[0],
      [q, kv],
    );
    expect(r.ok, JSON.stringify(r.worst)).toBe(true);
  });
});

describe("Dropout and F.pad", () => {
  const c = loadFixture<{ dropout: Record<string, unknown>[]; pad: Record<string, unknown>[] }>(
    A,
    "dropout_pad",
  );
  for (const d of c.dropout) {
    it(`dropout p=${d.p} drops the elements PyTorch drops for a seed`, () => {
      const x = fromJson(d.x as TensorJson);
      manualSeed(41);
      expectClose(F.dropout(x, d.p as number), d.y as TensorJson, { atol: 0, rtol: 0 });
      const m = new nn.Dropout(d.p as number);
      expect(m.toString()).toBe(d.repr);
      expectClose(m.forward(x), d.moduleY as TensorJson, { atol: 0, rtol: 0 });
      m.eval();
      expect(m.forward(x)).toBe(x);
    });
  }
  for (const p of c.pad) {
    it(`pad ${JSON.stringify(p.pad)} as PyTorch, with gradient`, () => {
      const x = fromJson(p.x as TensorJson, true);
      const y = F.pad(x, p.pad as number[], "constant", 0.5);
      expectClose(y, p.y as TensorJson, { atol: 0, rtol: 0 });
      backwardWeighted(y, p.gradWeights as TensorJson);
      expectClose(x.grad!, p.gradX as TensorJson, tol);
    });
  }
  it("pad has the gradient finite differences give", () => {
    const x = randn(2, 3, { requiresGrad: true });
    const r = gradcheck((xx) => F.pad(xx, [1, -1, 2, 0]), [x]);
    expect(r.ok, JSON.stringify(r.worst)).toBe(true);
  });
});

describe("module hooks", () => {
  it("a full backward hook sees PyTorch's gradients and its return replaces the input gradient", () => {
    const c = loadFixture<Record<string, unknown>>(A, "hooks");
    const lin = new nn.Linear(3, 2);
    lin.weight.data.set(fromJson(c.weight as TensorJson).data);
    lin.bias!.data.set(fromJson(c.bias as TensorJson).data);
    let gin: (Tensor | null)[] = [];
    let gout: (Tensor | null)[] = [];
    lin.registerFullBackwardHook((_m, gi, go) => {
      gin = gi;
      gout = go;
      return [gi[0]!.mul(2)];
    });
    const x = fromJson(c.x as TensorJson, true);
    backwardWeighted(lin.forward(x), c.gradWeights as TensorJson);
    expectClose(gin[0]!, (c.gin as TensorJson[])[0], { ...tol, what: "grad_input" });
    expectClose(gout[0]!, (c.gout as TensorJson[])[0], { ...tol, what: "grad_output" });
    expectClose(x.grad!, c.gradX as TensorJson, { ...tol, what: "x.grad" });
  });
  it("forward pre-hooks replace arguments, forward hooks replace outputs, and handles remove them", () => {
    const lin = new nn.Linear(2, 2);
    const seen: string[] = [];
    const h1 = lin.registerForwardPreHook((_m, args) => {
      seen.push("pre");
      return [(args[0] as Tensor).mul(0)];
    });
    const h2 = lin.registerForwardHook((_m, _args, out) => {
      seen.push("fwd");
      return (out as Tensor).add(1);
    });
    const x = tensor([[1, 2]]);
    expectClose(lin.forward(x), lin.bias!.add(1).unsqueeze(0), { atol: 1e-6 });
    expect(seen).toEqual(["pre", "fwd"]);
    h1.remove();
    h2.remove();
    expectClose(lin.forward(x), x.matmul(lin.weight.t()).add(lin.bias!), { atol: 1e-6 });
    expect(seen).toEqual(["pre", "fwd"]);
    expect(Object.keys(lin.stateDict())).toEqual(["weight", "bias"]);
  });
  it("a backward hook on a module whose input needs no gradient gets null input gradients", () => {
    const lin = new nn.Linear(2, 1);
    const got: unknown[] = [];
    lin.registerFullBackwardHook((_m, gi, go) => {
      got.push(
        gi,
        go.map((g) => g?.shape),
      );
    });
    lin
      .forward(tensor([[1, 2]]))
      .sum()
      .backward();
    expect(got).toEqual([[null], [[1, 1]]]);
  });
});

describe("TensorDataset and DataLoader", () => {
  const cases = loadFixture<Record<string, unknown>[]>(A, "dataloader");
  for (const c of cases) {
    it(`seed ${c.seed}, n=${c.n}, batchSize ${c.batchSize}, dropLast ${c.dropLast}: PyTorch's batches and generator state`, () => {
      manualSeed(c.seed as number);
      const n = c.n as number;
      const idx = Float32Array.from({ length: n }, (_, i) => i);
      const ds = new data.TensorDataset(tensor(idx), tensor(idx.map((v) => v * 10)));
      const dl = new data.DataLoader(ds, {
        batchSize: c.batchSize as number,
        shuffle: true,
        dropLast: c.dropLast as boolean,
      });
      const got = [...dl].map((b) => [Array.from(b[0].data), Array.from(b[1].data)]);
      expect(got).toEqual(c.batches);
      expect(dl.length).toBe((c.batches as unknown[]).length);
      expect(Array.from(randn(3).data)).toEqual(c.after);
      expect(data.randpermArray(n, new Generator((c.seed as number) + 1))).toEqual(c.randperm);
    });
  }
  it("keeps order without shuffle, and takes a collateFn", () => {
    const ds = new data.TensorDataset(
      tensor([
        [1, 2],
        [3, 4],
        [5, 6],
      ]),
    );
    const dl = new data.DataLoader(ds, {
      batchSize: 2,
      collateFn: (items) => items.map((it) => it[0].sum().item()),
    });
    expect([...dl]).toEqual([[3, 7], [11]]);
    expect(() => new data.DataLoader(ds, { batchSize: 0 })).toThrow(
      "batch_size should be a positive integer value, but got batch_size=0",
    );
    expect(() => new data.TensorDataset(tensor([1, 2]), tensor([1]))).toThrow(
      "Size mismatch between tensors",
    );
  });
});

describe("LogSoftmax and Softmax modules", () => {
  it("print and compute as PyTorch's", () => {
    const x = randn(2, 3);
    expect(new nn.LogSoftmax(1).toString()).toBe("LogSoftmax(dim=1)");
    expect(new nn.Softmax(-1).toString()).toBe("Softmax(dim=-1)");
    expectClose(new nn.LogSoftmax(1).forward(x).exp(), new nn.Softmax(1).forward(x), { atol: 1e-6 });
    expectClose(F.softmax(x, 1).sum(1), [1, 1], { atol: 1e-6 });
  });
});
