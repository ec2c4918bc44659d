// Views share storage as PyTorch's do: transpose / permute / t, select / narrow / split / unbind on any
// dimension, and expand. Strides and results below are PyTorch's (hand-checked against torch 1.13).

import { describe, expect, it } from "vitest";
import { gatherStrided } from "../src/core/broadcast.js";
import * as R from "../src/index.js";

const base = () => R.arange(12).reshape(3, 4).clone();

describe("views", () => {
  it("transpose, permute and t are non-contiguous views with PyTorch's strides", () => {
    const x = base();
    const y = x.t();
    expect(x.isContiguous()).toBe(true);
    expect(y.isContiguous()).toBe(false);
    expect(y.stride()).toEqual([1, 4]);
    expect(y.tolist()).toEqual([
      [0, 4, 8],
      [1, 5, 9],
      [2, 6, 10],
      [3, 7, 11],
    ]);
    const z = R.arange(24).reshape(2, 3, 4).permute(2, 0, 1);
    expect(z.stride()).toEqual([1, 12, 4]);
    expect(z.shape).toEqual([4, 2, 3]);
    expect(z.select(0, 1).tolist()).toEqual([
      [1, 5, 9],
      [13, 17, 21],
    ]);
  });

  it("contiguous() copies only when needed", () => {
    const x = base();
    expect(x.contiguous() === x).toBe(true);
    const y = x.t();
    const c = y.contiguous();
    expect(c === y).toBe(false);
    expect(c.isContiguous()).toBe(true);
    expect(c.stride()).toEqual([3, 1]);
    expect(c.tolist()).toEqual(y.tolist());
    // a transpose of size-1 dimensions is still contiguous, so contiguous() returns it
    const u = R.zeros(1, 5).t();
    expect(u.isContiguous()).toBe(true);
    expect(u.contiguous() === u).toBe(true);
  });

  it("in-place writes through a view change the base", () => {
    const x = base();
    x.select(1, 2).fill_(-1); // x[:, 2] = -1
    expect(x.tolist()).toEqual([
      [0, 1, -1, 3],
      [4, 5, -1, 7],
      [8, 9, -1, 11],
    ]);
    x.narrow(1, 0, 2).narrow(0, 1, 2).zero_(); // x[1:3, 0:2] = 0
    expect(x.tolist()).toEqual([
      [0, 1, -1, 3],
      [0, 0, -1, 7],
      [0, 0, -1, 11],
    ]);
    x.t()
      .select(0, 3)
      .copy_(R.tensor([30, 70, 110])); // x[:, 3] = ...
    expect(x.select(1, 3).tolist()).toEqual([30, 70, 110]);
    const [a, b] = x.split(2, 1);
    b.fill_(5);
    expect(a.tolist()).toEqual([
      [0, 1],
      [0, 0],
      [0, 0],
    ]);
    expect(x.select(1, 3).tolist()).toEqual([5, 5, 5]);
  });

  it("a view reads its base's current values", () => {
    const x = base();
    const v = x.permute(1, 0).narrow(0, 1, 2); // x[:, 1:3].T
    expect(v.stride()).toEqual([1, 4]);
    x.fill_(2);
    expect(v.tolist()).toEqual([
      [2, 2, 2],
      [2, 2, 2],
    ]);
  });

  it("select and narrow on inner dimensions are views with the base's strides", () => {
    const x = R.arange(24).reshape(2, 3, 4);
    const s = x.select(2, 1);
    expect(s.stride()).toEqual([12, 4]);
    expect(s.tolist()).toEqual([
      [1, 5, 9],
      [13, 17, 21],
    ]);
    const n = x.narrow(1, 1, 2);
    expect(n.stride()).toEqual([12, 4, 1]);
    expect(n.isContiguous()).toBe(false);
    expect(x.narrow(0, 1, 1).isContiguous()).toBe(true);
  });

  it("expand is a stride-0 view: fill_ writes the base, copy_ is refused as PyTorch refuses it", () => {
    const b = R.tensor([1, 2]);
    const e = b.unsqueeze(0).expand(3, 2);
    expect(e.stride()).toEqual([0, 1]);
    expect(e.tolist()).toEqual([
      [1, 2],
      [1, 2],
      [1, 2],
    ]);
    expect(() => e.copy_(R.ones(3, 2))).toThrow(
      "unsupported operation: more than one element of the written-to tensor refers to a single memory location",
    );
    e.fill_(0);
    expect(b.tolist()).toEqual([0, 0]);
  });

  it("views keep the graph: gradients flow back through transposes, slices and expands", () => {
    const w = R.tensor(
      [
        [1, 2, 3],
        [4, 5, 6],
      ],
      { requiresGrad: true },
    );
    const y = w
      .t()
      .select(1, 1)
      .mul(R.tensor([1, 10, 100]))
      .sum(); // 4 + 50 + 600
    expect(y.item()).toBe(654);
    y.backward();
    expect(w.grad?.tolist()).toEqual([
      [0, 0, 0],
      [1, 10, 100],
    ]);
    const v = R.tensor([1, 2], { requiresGrad: true });
    v.unsqueeze(0).expand(3, 2).sum().backward();
    expect(v.grad?.tolist()).toEqual([3, 3]);
  });

  it("int64 and bool views keep their dtype", () => {
    const m = R.tensor([
      [true, false],
      [false, false],
    ]);
    const t = m.t();
    expect(t.dtype).toBe("bool");
    expect(t.toString()).toBe("tensor([[ True, False],\n        [False, False]])");
    const l = R.arange(6, { dtype: "int64" }).reshape(2, 3).t();
    expect(l.dtype).toBe("int64");
    expect(l.contiguous().tolist()).toEqual([
      [0, 3],
      [1, 4],
      [2, 5],
    ]);
  });

  it("gatherStrided reads every element as the index sum Σ index[d]·stride[d] + offset says", () => {
    // the witness: a per-element index walk, written out plainly
    const naive = (src: Float32Array, shape: number[], st: number[], off: number): number[] => {
      const n = shape.reduce((a, b) => a * b, 1);
      const out: number[] = [];
      for (let i = 0; i < n; i++) {
        let r = i;
        let p = off;
        for (let d = shape.length - 1; d >= 0; d--) {
          p += (r % shape[d]) * st[d];
          r = Math.floor(r / shape[d]);
        }
        out.push(src[p]);
      }
      return out;
    };
    const src = Float32Array.from({ length: 4096 }, (_, i) => i * 0.5 - 7);
    const cases: [number[], number[], number][] = [
      [[3, 4], [1, 3], 0], // transpose
      [[2, 3, 4], [12, 4, 1], 5], // contiguous with an offset: one block
      [[2, 1, 40], [80, 999, 1], 3], // size-1 dim ignored, inner runs of 40 copied as blocks
      [[4, 2, 3], [1, 12, 4], 0], // permute(2, 0, 1)
      [[3, 5], [0, 1], 2], // expand of a row
      [[5, 3], [1, 0], 1], // expand of a column
      [[6, 8, 33], [264, 33, 1], 0], // dims that merge into one run
      [[3, 7, 2], [100, 2, 50], 9], // no two dims merge
      [[], [], 17], // a scalar view
      [[2, 0, 3], [3, 3, 1], 0], // empty
    ];
    for (const [shape, st, off] of cases) {
      const n = shape.reduce((a, b) => a * b, 1);
      const got = gatherStrided(src, shape, st, off, new Float32Array(n));
      expect(Array.from(got)).toEqual(naive(src, shape, st, off));
    }
    // other storages go through the same routine
    const b = Uint8Array.from([1, 0, 0, 1, 1, 0]);
    expect(Array.from(gatherStrided(b, [3, 2], [1, 3], 0, new Uint8Array(6)))).toEqual([1, 1, 0, 1, 0, 0]);
  });
});
