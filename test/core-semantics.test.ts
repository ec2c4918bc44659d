// Core tensor semantics checked against PyTorch 1.13 case by case: the expected values were printed by
// /usr/bin/python3 (torch 1.13) with the call named in the comment next to them, or computed by hand.

import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { arange, randint, tensor, zeros } from "../src/core/creation.js";
import * as F from "../src/core/ops.js";
import { Generator, manualSeed } from "../src/core/random.js";
import { enableGrad, noGrad, type Tensor } from "../src/core/tensor.js";
import { expectClose } from "./helpers.js";

const list = (t: Tensor | null) => Array.from(t!.data);

describe("gradient hooks", () => {
  it("a hook's returned tensor replaces a leaf's gradient", () => {
    // x.register_hook(lambda g: g * 10); (x * 2).sum().backward(); x.grad -> [20., 20., 20.]
    const x = tensor([1, 2, 3], { requiresGrad: true });
    x.registerHook((g) => g.mul(10));
    x.mul(2).sum().backward();
    expect(list(x.grad)).toEqual([20, 20, 20]);
    // it replaces the new gradient, then accumulates: x.grad = [1, 1, 1] first -> [21., 21., 21.]
    const z = tensor([1, 2, 3], { requiresGrad: true });
    z.grad = tensor([1, 1, 1]);
    z.registerHook((g) => g.mul(10));
    z.mul(2).sum().backward();
    expect(list(z.grad)).toEqual([21, 21, 21]);
  });

  it("on a non-leaf, later hooks and the rest of the graph see the replaced gradient", () => {
    // y = x * 2; y.register_hook(lambda g: g * 10); y.register_hook(seen.append); (y * y).sum().backward()
    // -> seen [40., 80., 120.], x.grad [80., 160., 240.]
    const x = tensor([1, 2, 3], { requiresGrad: true });
    const y = x.mul(2);
    y.registerHook((g) => g.mul(10));
    let seen: number[] = [];
    y.registerHook((g) => {
      seen = Array.from(g.data);
    });
    y.mul(y).sum().backward();
    expect(seen).toEqual([40, 80, 120]);
    expect(list(x.grad)).toEqual([80, 160, 240]);
  });

  it("a retained gradient is the replaced one when the hook comes first", () => {
    // y = x * 2; y.register_hook(lambda g: g + 1); y.retain_grad(); (y * 3).sum().backward()
    // -> y.grad [4., 4., 4.], x.grad [8., 8., 8.]
    const x = tensor([1, 2, 3], { requiresGrad: true });
    const y = x.mul(2);
    y.registerHook((g) => g.add(1));
    y.retainGrad();
    y.mul(3).sum().backward();
    expect(list(y.grad)).toEqual([4, 4, 4]);
    expect(list(x.grad)).toEqual([8, 8, 8]);
  });

  it("a hook that returns nothing keeps the gradient", () => {
    // x.register_hook(lambda g: None); (x * 2).sum().backward() -> [2., 2., 2.]
    const x = tensor([1, 2, 3], { requiresGrad: true });
    x.registerHook(() => {});
    x.mul(2).sum().backward();
    expect(list(x.grad)).toEqual([2, 2, 2]);
  });

  it("a returned tensor of another shape raises PyTorch's error", () => {
    // def myhook(g): return torch.ones(1, 3) -> "hook 'myhook' has changed the size of value"
    const x = tensor([1, 2, 3], { requiresGrad: true });
    x.registerHook(function myhook() {
      return tensor([[1, 1, 1]]);
    });
    expect(() => x.mul(2).sum().backward()).toThrow("hook 'myhook' has changed the size of value");
    const y = tensor([1, 2, 3], { requiresGrad: true }).mul(2);
    y.registerHook(() => tensor([1, 1]));
    expect(() => y.mul(2).sum().backward()).toThrow(/has changed the size of value/);
  });
});

describe("backward(gradient)", () => {
  it("requires the gradient to have the tensor's shape", () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    // (x * 2).backward(torch.tensor([[1., 1, 1]]))
    expect(() => x.mul(2).backward(tensor([[1, 1, 1]]))).toThrow(
      "Mismatch in shape: grad_output[0] has a shape of [1, 3] and output[0] has a shape of [3].",
    );
    // x.sum().backward(torch.tensor([1.]))
    expect(() => x.sum().backward(tensor([1]))).toThrow(
      "Mismatch in shape: grad_output[0] has a shape of [1] and output[0] has a shape of [].",
    );
    // a gradient of the same shape: x.grad = 2 * [1, 2, 3]
    x.mul(2).backward(tensor([1, 2, 3]));
    expect(list(x.grad)).toEqual([2, 4, 6]);
    x.grad = null;
    x.sum().backward(tensor(2));
    expect(list(x.grad)).toEqual([2, 2, 2]);
  });
});

describe("norm", () => {
  // t = torch.tensor(x, requires_grad=True); n = t.norm(p); n.backward() -> n.item(), t.grad
  const cases: { x: number[]; p?: number; value: number; grad: number[] | null }[] = [
    { x: [0, 0, 0], value: 0, grad: [0, 0, 0] },
    { x: [0, 2, -3], value: 3.605551242828369, grad: [0, 0.5547001957893372, -0.8320503234863281] },
    { x: [0, 0, 0], p: 1, value: 0, grad: [0, 0, 0] },
    { x: [0, 2, -3], p: 1, value: 5, grad: [0, 1, -1] },
    { x: [0, 0, 0], p: 1.5, value: 0, grad: [0, 0, 0] },
    { x: [0, 2, -3], p: 1.5, value: 4.0081892013549805, grad: [0, 0.7063840627670288, -0.8651401996612549] },
    { x: [0, 0, 0], p: 3, value: 0, grad: [0, 0, 0] },
    { x: [0, 2, -3], p: 3, value: 3.271066427230835, grad: [0, 0.37383610010147095, -0.8411312103271484] },
    { x: [0, 0, 0], p: 0.5, value: 0, grad: [0, 0, 0] },
    { x: [0, 2, -3], p: 0.5, value: 9.898979187011719, grad: [0, 2.2247447967529297, -1.81649649143219] },
    { x: [0, 2, -3], p: -1, value: 0, grad: [0, 0, 0] },
    { x: [1, -2, 2], p: -1, value: 0.5, grad: [0.25, -0.0625, 0.0625] },
    {
      x: [-3, 3, 1],
      p: -2,
      value: 0.9045340418815613,
      grad: [-0.027410123497247696, 0.027410123497247696, 0.7400733232498169],
    },
    { x: [0, 0, 0], p: Infinity, value: 0, grad: [0, 0, 0] },
    { x: [3, -3, 1, -1], p: Infinity, value: 3, grad: [0.5, -0.5, 0, 0] },
    { x: [0, 2, -3], p: -Infinity, value: 0, grad: [0, 0, 0] },
    { x: [3, -3, 1, -1], p: -Infinity, value: 1, grad: [0, 0, 0.5, -0.5] },
    // p = 0 counts the nonzero elements; its gradient is undefined, so t.grad stays None
    { x: [0, 2, -3], p: 0, value: 2, grad: null },
    { x: [0, 0, 0], p: 0, value: 0, grad: null },
  ];
  for (const c of cases) {
    it(`norm(${c.p ?? ""}) of [${c.x}]`, () => {
      const t = tensor(c.x, { requiresGrad: true });
      const n = c.p === undefined ? t.norm() : t.norm(c.p);
      expect(n.shape).toEqual([]);
      expect(n.gradFn!.name).toBe("NormBackward1"); // n.grad_fn.name()
      expect(n.item()).toBeCloseTo(c.value, 6);
      n.backward();
      if (c.grad === null) expect(t.grad).toBeNull();
      else expectClose(t.grad!, c.grad, { atol: 1e-7, rtol: 1e-6, what: `grad of norm(${c.p})` });
    });
  }

  it("counts NaN as nonzero for p = 0, propagates it otherwise, and is 0 for an empty tensor", () => {
    // torch.tensor([nan, 1.]).norm(p).item() -> 2.0 for p=0, nan for the others
    const x = tensor([Number.NaN, 1]);
    expect(x.norm(0).item()).toBe(2);
    for (const p of [1, 2, 3, Infinity, -Infinity, 0.5, -1]) expect(x.norm(p).item()).toBeNaN();
    // torch.tensor([inf, 1.]).norm(-inf) -> 1.0; torch.tensor([-inf, 0.]).norm(-1) -> 0.0
    expect(tensor([Infinity, 1]).norm(-Infinity).item()).toBe(1);
    expect(tensor([-Infinity, 0]).norm(-1).item()).toBe(0);
    // torch.zeros(0).norm(p) -> 0.0 for p in (None, 0, 1, 2, inf, -inf, 3)
    for (const p of [2, 0, 1, Infinity, -Infinity, 3]) expect(tensor([]).norm(p).item()).toBe(0);
  });
});

describe("clamp, argmax, chunk", () => {
  it("clamp(min, max) with min > max makes every element max, with no gradient", () => {
    // y = torch.tensor([-1., 0, 1, 2, 3, nan], requires_grad=True).clamp(2, 0)
    // -> [0., 0., 0., 0., 0., nan]; y.backward([1., 2, 3, 4, 5, 6]) -> grad all 0
    const x = tensor([-1, 0, 1, 2, 3, Number.NaN], { requiresGrad: true });
    const y = x.clamp(2, 0);
    expect(list(y)).toEqual([0, 0, 0, 0, 0, Number.NaN]);
    expect(y.gradFn!.name).toBe("ClampBackward1");
    y.backward(tensor([1, 2, 3, 4, 5, 6]));
    expect(list(x.grad)).toEqual([0, 0, 0, 0, 0, 0]);
    // x.clamp(1, 1) -> all 1, gradient only where x == 1
    const z = tensor([-1, 0, 1, 2, 3], { requiresGrad: true });
    const w = z.clamp(1, 1);
    expect(list(w)).toEqual([1, 1, 1, 1, 1]);
    w.sum().backward();
    expect(list(z.grad)).toEqual([0, 0, 1, 0, 0]);
  });

  it("argmax without dim and keepdim=true keeps every dimension with size 1", () => {
    // torch.arange(6.).reshape(2, 3).argmax(None, True) -> tensor([[5]])
    const a = tensor([
      [0, 1, 2],
      [3, 4, 5],
    ]);
    const i = a.argmax(undefined, true);
    expect(i.shape).toEqual([1, 1]);
    expect(list(i)).toEqual([5]);
    // torch.arange(24.).reshape(2, 3, 4).argmax(None, True) -> tensor([[[23]]]); 1-D gives [1], 0-d gives []
    const b = tensor(Array.from({ length: 24 }, (_, k) => k)).reshape(2, 3, 4);
    expect(b.argmax(undefined, true).shape).toEqual([1, 1, 1]);
    expect(list(b.argmax(undefined, true))).toEqual([23]);
    expect(tensor([1, 3]).argmax(undefined, true).shape).toEqual([1]);
    expect(tensor(5).argmax(undefined, true).shape).toEqual([]);
    expect(a.argmax().shape).toEqual([]);
  });

  it("chunk of an empty dimension gives `chunks` empty pieces", () => {
    const shapes = (ts: Tensor[]) => ts.map((t) => t.shape);
    // [c.shape for c in torch.zeros(0).chunk(3)] -> [(0,), (0,), (0,)]
    expect(shapes(tensor([]).chunk(3))).toEqual([[0], [0], [0]]);
    expect(shapes(tensor([]).chunk(1))).toEqual([[0]]);
    // torch.zeros(2, 0).chunk(3, 1) -> three (2, 0); torch.zeros(0, 4).chunk(2, 0) -> two (0, 4)
    expect(shapes(tensor([[], []]).chunk(3, 1))).toEqual([
      [2, 0],
      [2, 0],
      [2, 0],
    ]);
    const z04 = tensor(new Float32Array(0), { shape: [0, 4] });
    expect(shapes(z04.chunk(2, 0))).toEqual([
      [0, 4],
      [0, 4],
    ]);
    // torch.zeros(0, 4).chunk(2, 1) -> two (0, 2); torch.zeros(4).chunk(3) -> two (2,)
    expect(shapes(z04.chunk(2, 1))).toEqual([
      [0, 2],
      [0, 2],
    ]);
    expect(shapes(tensor([1, 2, 3, 4]).chunk(3))).toEqual([[2], [2]]);
  });
});

describe("in-place writes", () => {
  it("copy_ broadcasts the source to the destination's shape", () => {
    // torch.zeros(2, 3).copy_(torch.tensor([1., 2, 3])) -> [[1., 2., 3.], [1., 2., 3.]]
    const a = zeros(2, 3).copy_(tensor([1, 2, 3]));
    expect(a.tolist()).toEqual([
      [1, 2, 3],
      [1, 2, 3],
    ]);
    // torch.zeros(2, 3).copy_(torch.tensor(7.)) -> all 7; .copy_(torch.ones(2, 1) * 4) -> all 4
    expect(list(zeros(2, 3).copy_(tensor(7)))).toEqual([7, 7, 7, 7, 7, 7]);
    expect(list(zeros(2, 3).copy_(tensor([[4], [4]])))).toEqual([4, 4, 4, 4, 4, 4]);
    // torch.zeros(1, 3).copy_(torch.ones(3)) -> [[1., 1., 1.]]
    expect(
      zeros(1, 3)
        .copy_(tensor([1, 1, 1]))
        .tolist(),
    ).toEqual([[1, 1, 1]]);
  });

  it("copy_ refuses shapes that do not broadcast, even with as many elements", () => {
    // torch.zeros(2, 3).copy_(torch.arange(6.))
    expect(() => zeros(2, 3).copy_(tensor([1, 2, 3, 4, 5, 6]))).toThrow(
      /The size of tensor a \(3\) must match the size of tensor b \(6\) at non-singleton dimension 1/,
    );
    // torch.zeros(2, 3).copy_(torch.arange(6.).reshape(3, 2)): the rightmost mismatching dimension
    expect(() =>
      zeros(2, 3).copy_(
        tensor([
          [1, 2],
          [3, 4],
          [5, 6],
        ]),
      ),
    ).toThrow(
      /The size of tensor a \(3\) must match the size of tensor b \(2\) at non-singleton dimension 1/,
    );
    // torch.zeros(3).copy_(torch.ones(1, 3)) and torch.zeros(3, 1).copy_(torch.ones(3))
    expect(() => zeros(3).copy_(tensor([[1, 1, 1]]))).toThrow(
      "output with shape [3] doesn't match the broadcast shape [1, 3]",
    );
    expect(() => zeros(3, 1).copy_(tensor([1, 1, 1]))).toThrow(
      "output with shape [3, 1] doesn't match the broadcast shape [3, 3]",
    );
  });

  it("a leaf that requires grad refuses in-place writes unless grad mode is off", () => {
    // x = torch.tensor([1., 2], requires_grad=True); x.fill_(3) / x.zero_() / x.copy_(torch.ones(2))
    const msg = "a leaf Variable that requires grad is being used in an in-place operation.";
    const x = tensor([1, 2], { requiresGrad: true });
    expect(() => x.fill_(3)).toThrow(msg);
    expect(() => x.zero_()).toThrow(msg);
    expect(() => x.copy_(tensor([1, 1]))).toThrow(msg);
    expect(() => enableGrad(() => noGrad(() => enableGrad(() => x.zero_())))).toThrow(msg);
    expect(list(x)).toEqual([1, 2]);
    // with torch.no_grad(): x.fill_(3), x.zero_(), x.copy_(torch.ones(2)) all succeed
    noGrad(() => x.fill_(3));
    expect(list(x)).toEqual([3, 3]);
    noGrad(() => x.zero_());
    expect(list(x)).toEqual([0, 0]);
    noGrad(() => x.copy_(tensor([5, 6])));
    expect(list(x)).toEqual([5, 6]);
    // tensors that do not require grad, and non-leaves, are written as before
    expect(list(tensor([1, 2]).fill_(4))).toEqual([4, 4]);
    expect(list(tensor([1, 2], { requiresGrad: true }).mul(2).zero_())).toEqual([0, 0]);
  });
});

describe("grad_fn names as PyTorch 1.13", () => {
  // x = torch.arange(6.).reshape(2, 3).requires_grad_(); v = torch.arange(3.).requires_grad_();
  // s = torch.tensor(2., requires_grad=True); each name is f(...).grad_fn.name()
  const x = () => tensor([0, 1, 2, 3, 4, 5], { requiresGrad: true }).reshape(2, 3).clone();
  const leaf = () => tensor([0, 1, 2, 3, 4, 5], { shape: [2, 3], requiresGrad: true });
  const v = () => tensor([0, 1, 2], { requiresGrad: true });
  const s = () => tensor(2, { requiresGrad: true });
  const name = (t: Tensor) => t.gradFn?.name;
  const names = (ts: Tensor[]) => ts.map(name);
  const cases: [string, () => Tensor | Tensor[], string | string[]][] = [
    ["x.sub(1)", () => x().sub(1), "SubBackward0"],
    ["x.sub(x)", () => F.sub(x(), x()), "SubBackward0"],
    ["x.sub(x, alpha=2)", () => F.sub(x(), x(), 2), "SubBackward0"],
    ["1 - x", () => F.sub(1, x()), "RsubBackward1"],
    ["x.select(1, 1)", () => leaf().select(1, 1), "SelectBackward0"],
    ["x.select(0, 1)", () => leaf().select(0, 1), "SelectBackward0"],
    ["x.unbind(1)", () => leaf().unbind(1), ["UnbindBackward0", "UnbindBackward0", "UnbindBackward0"]],
    ["x.split(1, 1)", () => leaf().split(1, 1), ["SplitBackward0", "SplitBackward0", "SplitBackward0"]],
    [
      "x.split([1, 2], 1)",
      () => leaf().split([1, 2], 1),
      ["SplitWithSizesBackward0", "SplitWithSizesBackward0"],
    ],
    ["x.chunk(2, 1)", () => leaf().chunk(2, 1), ["SplitBackward0", "SplitBackward0"]],
    [
      "torch.zeros(0).chunk(3)",
      () => tensor([], { requiresGrad: true }).chunk(3),
      Array(3).fill("SplitWithSizesBackward0"),
    ],
    ["x.narrow(1, 0, 2)", () => leaf().narrow(1, 0, 2), "SliceBackward0"],
    ["torch.stack([x, x])", () => F.stack([leaf(), leaf()]), "StackBackward0"],
    ["torch.stack([s, s])", () => F.stack([s(), s()]), "StackBackward0"],
    ["torch.cat([x, x])", () => F.cat([leaf(), leaf()]), "CatBackward0"],
    ["x.transpose(0, 1)", () => leaf().transpose(0, 1), "TransposeBackward0"],
    ["x.transpose(1, 1)", () => leaf().transpose(1, 1), "TransposeBackward0"],
    ["s.transpose(0, 0)", () => s().transpose(0, 0), "TransposeBackward0"],
    ["x.t()", () => leaf().t(), "TBackward0"],
    ["v.t()", () => v().t(), "TBackward0"],
    ["s.t()", () => s().t(), "TBackward0"],
    ["x.T", () => leaf().T, "PermuteBackward0"],
    ["x.permute(1, 0)", () => leaf().permute(1, 0), "PermuteBackward0"],
    ["x.squeeze(0)", () => leaf().squeeze(0), "SqueezeBackward1"],
    ["x.unsqueeze(0).squeeze(0)", () => leaf().unsqueeze(0).squeeze(0), "SqueezeBackward1"],
    ["x.squeeze()", () => leaf().squeeze(), "SqueezeBackward0"],
    ["x.sum()", () => leaf().sum(), "SumBackward0"],
    ["x.sum(1)", () => leaf().sum(1), "SumBackward1"],
    ["x.sum([0, 1])", () => leaf().sum([0, 1]), "SumBackward1"],
    ["x.sum(1, True)", () => leaf().sum(1, true), "SumBackward1"],
    ["x.sum(dim=None)", () => leaf().sum(null), "SumBackward1"],
    ["x.sum(None, True)", () => leaf().sum(null, true), "SumBackward1"],
    ["x.mean()", () => leaf().mean(), "MeanBackward0"],
    ["x.mean(1)", () => leaf().mean(1), "MeanBackward1"],
    ["x.mean(0, True)", () => leaf().mean(0, true), "MeanBackward1"],
    ["x.pow(2)", () => leaf().pow(2), "PowBackward0"],
    ["x.pow(x)", () => leaf().pow(leaf()), "PowBackward1"],
    ["torch.pow(2, x)", () => F.pow(2, leaf()), "PowBackward2"],
  ];
  for (const [what, f, expected] of cases) {
    it(what, () => {
      const r = f();
      expect(Array.isArray(r) ? names(r) : name(r)).toEqual(expected);
    });
  }

  it("the renamed nodes keep their values and gradients", () => {
    // y = 1 - 2 * x: dy/dx = -2 (RsubBackward1 with alpha); x.sub(1.5): dx = 1
    const a = tensor([1, 2, 3], { requiresGrad: true });
    const y = F.sub(1, a, 2);
    expect(list(y)).toEqual([-1, -3, -5]);
    y.sum().backward();
    expect(list(a.grad)).toEqual([-2, -2, -2]);
    // stack([x, x * 2], 1) of x = [[0, 1, 2], [3, 4, 5]], weighted by arange(12): hand-computed
    const b = leaf();
    const st = F.stack([b, b.mul(2)], 1);
    expect(st.shape).toEqual([2, 2, 3]);
    expect(st.tolist()).toEqual([
      [
        [0, 1, 2],
        [0, 2, 4],
      ],
      [
        [3, 4, 5],
        [6, 8, 10],
      ],
    ]);
    st.backward(
      tensor(
        Array.from({ length: 12 }, (_, k) => k),
        { shape: [2, 2, 3] },
      ),
    );
    // d/db = w[:, 0, :] + 2 * w[:, 1, :] = [[0 + 6, 1 + 8, 2 + 10], [6 + 18, 7 + 20, 8 + 22]]
    expect(list(b.grad)).toEqual([6, 9, 12, 24, 27, 30]);
    // select/unbind along dim 1 and t() of a 1-D tensor pass the gradient where it belongs
    const c = leaf();
    const [u0, u1, u2] = c.unbind(1);
    u0.add(c.select(1, 2).mul(10)).add(u2).add(u1.mul(0)).sum().backward();
    expect(list(c.grad)).toEqual([1, 0, 11, 1, 0, 11]);
    const w = v();
    w.t()
      .mul(tensor([1, 2, 3]))
      .sum()
      .backward();
    expect(list(w.grad)).toEqual([1, 2, 3]);
  });
});

describe("printing", () => {
  it("negative zero keeps its sign", () => {
    // str(torch.tensor(...)) for each input
    const cases: [number | number[] | number[][], string][] = [
      [-0, "tensor(-0.)"],
      [[-0], "tensor([-0.])"],
      [[-0, 1, 2], "tensor([-0., 1., 2.])"],
      [[-0, 1.5], "tensor([-0.0000, 1.5000])"],
      [[0, -0], "tensor([0., -0.])"],
      [[-0, 1e-5], "tensor([-0.0000e+00, 1.0000e-05])"],
      [[-0, 1e10, 1], "tensor([-0.0000e+00, 1.0000e+10, 1.0000e+00])"],
      [[-0, Number.NaN], "tensor([-0., nan])"],
      [
        [
          [-0, 1.25],
          [3.5, -0],
        ],
        "tensor([[-0.0000, 1.2500],\n        [3.5000, -0.0000]])",
      ],
      [[-0, 100000.5], "tensor([    -0.0000, 100000.5000])"],
      [[-0, 12345], "tensor([   -0., 12345.])"],
      [[-0.0001, 1], "tensor([-1.0000e-04,  1.0000e+00])"],
    ];
    for (const [x, s] of cases) expect(tensor(x).toString()).toBe(s);
    // str(torch.tensor([-0.] * 1200))
    expect(tensor(Array(1200).fill(-0)).toString()).toBe("tensor([-0., -0., -0.,  ..., -0., -0., -0.])");
    // str(torch.tensor([-0., 1.], requires_grad=True))
    expect(tensor([-0, 1], { requiresGrad: true }).toString()).toBe("tensor([-0., 1.], requires_grad=True)");
  });

  it("rounds exact ties to even, as Python's format does (JavaScript rounds them away from zero)", () => {
    // str(torch.tensor(...)) for each input
    const cases: [number | number[], string][] = [
      [[0.03125, 1.5], "tensor([0.0312, 1.5000])"],
      [0.03125, "tensor(0.0312)"],
      [[-0.15625, 1.5], "tensor([-0.1562,  1.5000])"],
      [[123445, 1], "tensor([1.2344e+05, 1.0000e+00])"],
      [[-123445, 1], "tensor([-1.2344e+05,  1.0000e+00])"],
      [[0.03126, 1.5], "tensor([0.0313, 1.5000])"], // not a tie
      [[0.00015625, 1], "tensor([1.5625e-04, 1.0000e+00])"],
      [[1.00005, 2], "tensor([1.0000, 2.0000])"], // 1.00005 is 1.0000499… in float32
    ];
    for (const [x, s] of cases) expect(tensor(x).toString()).toBe(s);
  });

  it("wraps suffixes where PyTorch does (its line count is the line's length + 2)", () => {
    // str(torch.arange(7., requires_grad=True).add(1000)), and with 6 elements
    const a7 = tensor([0, 1, 2, 3, 4, 5, 6], { requiresGrad: true });
    expect(F.add(a7, 1000).toString()).toBe(
      "tensor([1000., 1001., 1002., 1003., 1004., 1005., 1006.],\n       grad_fn=<AddBackward0>)",
    );
    const a6 = tensor([0, 1, 2, 3, 4, 5], { requiresGrad: true });
    expect(F.add(a6, 1000).toString()).toBe(
      "tensor([1000., 1001., 1002., 1003., 1004., 1005.], grad_fn=<AddBackward0>)",
    );
    // str(torch.arange(8.).add(100).requires_grad_())
    expect(tensor([100, 101, 102, 103, 104, 105, 106, 107], { requiresGrad: true }).toString()).toBe(
      "tensor([100., 101., 102., 103., 104., 105., 106., 107.], requires_grad=True)",
    );
  });

  it("util.inspect (console.log) prints the tensor's text", () => {
    const t = tensor([1, 2.5], { requiresGrad: true });
    expect(inspect(t)).toBe("tensor([1.0000, 2.5000], requires_grad=True)");
    expect(inspect({ t: tensor([1, 2]) })).toBe("{ t: tensor([1., 2.]) }");
  });
});

describe("broadcasting errors", () => {
  it("name the rightmost mismatching dimension, as PyTorch", () => {
    // torch.ones(2, 3) + torch.ones(3, 2); torch.ones(4, 2, 3) + torch.ones(5, 3)
    expect(() => F.add(zeros(2, 3), zeros(3, 2))).toThrow(
      "The size of tensor a (3) must match the size of tensor b (2) at non-singleton dimension 1",
    );
    expect(() => F.add(zeros(4, 2, 3), zeros(5, 3))).toThrow(
      "The size of tensor a (2) must match the size of tensor b (5) at non-singleton dimension 1",
    );
  });
});

describe("arange", () => {
  it("takes its options after any of the numbers, as torch.arange takes keywords", () => {
    // torch.arange(7.) and torch.arange(1., 4., requires_grad=True)
    expect(list(arange(7, { requiresGrad: true }))).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(arange(7, { requiresGrad: true }).requiresGrad).toBe(true);
    const t = arange(1, 4, { requiresGrad: true });
    expect(t.toString()).toBe("tensor([1., 2., 3.], requires_grad=True)");
    expect(list(arange(1, 2, 0.25, { requiresGrad: true }))).toEqual([1, 1.25, 1.5, 1.75]);
  });

  it("refuses a non-finite bound with PyTorch's message", () => {
    // torch.arange(0, float('nan')), torch.arange(0, float('inf')), torch.arange(float('nan'))
    expect(() => arange(0, Number.NaN)).toThrow("unsupported range: 0 -> nan");
    expect(() => arange(0, Number.POSITIVE_INFINITY)).toThrow("unsupported range: 0 -> inf");
    expect(() => arange(Number.NaN)).toThrow("unsupported range: 0 -> nan");
  });
});

describe("randint", () => {
  it("gives PyTorch's numbers for a seed", () => {
    // torch.manual_seed(seed); torch.randint(low, high, (n,)).tolist()
    const cases: [number, number, number, number[]][] = [
      [0, 0, 10, [4, 9, 3, 0, 3, 9, 7, 3]],
      [1, 0, 10, [5, 9, 4, 8, 3, 3, 1, 1]],
      [42, -5, 7, [1, 6, -1, 5, 1, 6, -1, 3, 5, 0]],
      [7, 0, 3, [0, 1, 1, 2, 1, 0, 2, 2, 1, 2, 1, 1]],
      [123, 0, 1000003, [303409, 110603, 955418, 263090, 316658, 318941]],
      [9, 10, 17, [14, 15, 15, 14, 14, 13, 13, 13]],
      [3, 0, 1, [0, 0, 0, 0, 0]],
    ];
    for (const [seed, low, high, expected] of cases) {
      manualSeed(seed);
      expect(list(randint(low, high, [expected.length]))).toEqual(expected);
    }
    // torch.manual_seed(0); torch.randint(0, 10, (2, 3)) then torch.rand(2): one draw per integer
    manualSeed(0);
    expect(randint(0, 10, [2, 3]).tolist()).toEqual([
      [4, 9, 3],
      [0, 3, 9],
    ]);
    // g = torch.Generator(); g.manual_seed(11); torch.randint(0, 100, (5,), generator=g)
    expect(list(randint(0, 100, [5], { generator: new Generator(11) }))).toEqual([41, 79, 20, 27, 33]);
  });

  it("draws 64 bits for a range of 2^32 or more, as PyTorch", () => {
    // torch.manual_seed(s); torch.randint(low, high, (4,)) (int64, exact), through the generator
    const draw = (seed: number, low: number, high: number) => {
      const g = new Generator(seed);
      return Array.from({ length: 4 }, () => g.randint(low, high));
    };
    expect(draw(0, 0, 2 ** 31)).toEqual([209652396, 398764591, 924231285, 1478610112]);
    expect(draw(0, -(2 ** 31), 2 ** 31)).toEqual([398764591, 1478610112, 1537364731, 1491434855]);
    expect(draw(5, 0, 2 ** 33 + 7)).toEqual([1194877175, 3366244099, 7044690648, 7577640159]);
  });
});
