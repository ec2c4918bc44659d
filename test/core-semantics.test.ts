// Core tensor semantics checked against PyTorch 1.13 case by case: the expected values were printed by
// /usr/bin/python3 (torch 1.13) with the call named in the comment next to them, or computed by hand.

import { describe, expect, it } from "vitest";
import { tensor } from "../src/core/creation.js";
import type { Tensor } from "../src/core/tensor.js";

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
