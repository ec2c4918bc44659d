// The changes that spare a small step its typed-array allocations (in Node 20 each one over 64 bytes costs
// 1 to 4 µs) must not change a value or let two tensors alias: checked here by hand-computed gradients,
// in-place writes and a round trip through safetensors.

import { describe, expect, it } from "vitest";
import * as R from "../src/index.js";
import { decodeSafetensors, encodeSafetensors } from "../src/io/safetensors.js";

describe("permute moving only size-1 dimensions passes the gradient through", () => {
  it("transpose(0, 1) of a (3, 1, 2) tensor: d/dx sum(w ⊙ y) is w in x's order", () => {
    const x = R.tensor([[[1, 2]], [[3, 4]], [[5, 6]]]).requiresGrad_(); // (3, 1, 2)
    const y = x.transpose(0, 1); // (1, 3, 2), the same elements in the same order
    const w = R.arange(6).reshape(1, 3, 2);
    y.mul(w).sum().backward();
    expect(x.grad!.shape).toEqual([3, 1, 2]);
    expect(Array.from(x.grad!.data)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it("a permutation that reorders sizes above 1 still reorders the gradient", () => {
    const x = R.arange(6).reshape(3, 1, 2).requiresGrad_(); // (3, 1, 2)
    const y = x.permute(2, 1, 0); // (2, 1, 3): y[j, 0, i] = x[i, 0, j]
    const w = R.arange(6).reshape(2, 1, 3); // w[j, 0, i] = 3j + i
    y.mul(w).sum().backward();
    // dx[i, 0, j] = w[j, 0, i] = 3j + i
    expect(Array.from(x.grad!.data)).toEqual([0, 3, 1, 4, 2, 5]);
  });

  it("a batch of one, batch-first, through an LSTM: the same gradients as the time-major input", () => {
    R.manualSeed(1);
    const lstm = new R.nn.LSTM(2, 3);
    const first = new R.nn.LSTM(2, 3, { batchFirst: true });
    first.loadStateDict(lstm.stateDict());
    const data = R.randn(5, 1, 2);
    const a = data.clone().requiresGrad_();
    const b = data.clone().transpose(0, 1).contiguous().requiresGrad_(); // (1, 5, 2)
    lstm.forward(a)[0].pow(2).sum().backward();
    first.forward(b)[0].pow(2).sum().backward();
    expect(Array.from(b.grad!.data)).toEqual(Array.from(a.grad!.data));
    const whh = (m: R.nn.LSTM) => m.namedParameters().find(([n]) => n === "weight_hh_l0")![1];
    expect(Array.from(whh(first).grad!.data)).toEqual(Array.from(whh(lstm).grad!.data));
  });
});

describe("a recurrent layer's outputs share one allocation without aliasing", () => {
  it("writing into h_n or c_n leaves the output and each other unchanged", () => {
    R.manualSeed(0);
    const lstm = new R.nn.LSTM(2, 3);
    const [out, [h, c]] = lstm.forward(R.randn(4, 2, 2));
    const outBefore = Array.from(out.data);
    const cBefore = Array.from(c.data);
    // the last step's output is h_n (one layer, one direction)
    expect(Array.from(h.data)).toEqual(outBefore.slice(3 * 2 * 3));
    h.fill_(7);
    expect(Array.from(out.data)).toEqual(outBefore);
    expect(Array.from(c.data)).toEqual(cBefore);
    out.fill_(-1);
    expect(Array.from(h.data)).toEqual(new Array(6).fill(7));
    expect(Array.from(c.data)).toEqual(cBefore);
  });

  it("h_n round-trips through safetensors (its storage does not start at offset 0)", () => {
    R.manualSeed(0);
    const gru = new R.nn.GRU(3, 4);
    const [, h] = gru.forward(R.randn(2, 1, 3));
    expect(h.data.byteOffset).toBeGreaterThan(0);
    const back = decodeSafetensors(encodeSafetensors({ h })).tensors.h;
    expect(back.shape).toEqual([1, 1, 4]);
    expect(Array.from(back.data)).toEqual(Array.from(h.data));
  });
});

describe("a reduced pointwise loss without per-item arrays", () => {
  it("mse and l1, mean and sum: values and gradients by hand", () => {
    const x = R.tensor([1, 2, 4]).requiresGrad_();
    const y = R.tensor([0, 4, 4]);
    const mse = R.nn.functional.mseLoss(x, y); // (1 + 4 + 0) / 3
    expect(mse.item()).toBeCloseTo(5 / 3, 6);
    mse.backward();
    expect(Array.from(x.grad!.data)).toEqual([2 / 3, -4 / 3, 0].map(Math.fround));
    const x2 = R.tensor([1, 2, 4]).requiresGrad_();
    const y2 = R.tensor([0, 4, 4]).requiresGrad_();
    const l1 = R.nn.functional.l1Loss(x2, y2, { reduction: "sum" }); // 1 + 2 + 0
    expect(l1.item()).toBe(3);
    l1.backward();
    expect(Array.from(x2.grad!.data)).toEqual([1, -1, 0]);
    expect(Array.from(y2.grad!.data)).toEqual([-1, 1, 0]);
  });
});
