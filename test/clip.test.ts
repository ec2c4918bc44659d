// Gradient clipping against PyTorch 1.13's clip_grad_norm_ / clip_grad_value_ (clip.json from
// test/fixtures/gen/optim.py), plus hand-computed cases.

import { describe, expect, it } from "vitest";
import { Tensor } from "../src/core/tensor.js";
import { clipGradNorm_, clipGradNormAsync_, clipGradValue_ } from "../src/nn/clip.js";
import { type TensorJson, expectClose, fromJson, loadFixture } from "./helpers.js";

const fx = loadFixture<{
  grads: TensorJson[];
  norm: { normType: number | "inf"; maxNorm: number; total: number; clipped: TensorJson[] }[];
  single: { grad: TensorJson; maxNorm: number; total: number; clipped: TensorJson };
  value: { clipValue: number; clipped: TensorJson[] }[];
  nonfiniteMessage: string;
  nonfiniteMessageInf: string;
}>("optim", "clip");

/** Parameters holding the fixture's gradients, plus one without a gradient. */
function withGrads(): Tensor[] {
  const ps = fx.grads.map((g) => {
    const p = new Tensor(new Float32Array(g.data.length), g.shape, true);
    p.grad = fromJson(g);
    return p;
  });
  ps.push(new Tensor(new Float32Array(3), [3], true));
  return ps;
}

// PyTorch accumulates the norms in float32, we in float64 rounded once: a few float32 ulps apart.
const TOL = { rtol: 2e-6, atol: 1e-9 };

describe("clipGradNorm_ matches PyTorch", () => {
  for (const c of fx.norm) {
    const p = c.normType === "inf" ? Number.POSITIVE_INFINITY : c.normType;
    it(`norm ${c.normType}, maxNorm ${c.maxNorm}`, () => {
      const params = withGrads();
      const total = clipGradNorm_(params, c.maxNorm, p);
      expectClose(total, c.total, { ...TOL, what: "total norm" });
      params.slice(0, 3).forEach((q, i) => {
        expectClose(q.grad!, c.clipped[i], { ...TOL, what: `clipped grad ${i}` });
      });
      expect(params[3].grad).toBeNull();
    });
  }

  it("the fixture covers clipping and no clipping", () => {
    const clipped = fx.norm.filter((c) => c.total > c.maxNorm);
    expect(clipped.length).toBeGreaterThan(5);
    expect(fx.norm.length - clipped.length).toBeGreaterThan(3);
  });

  it("takes a single tensor", () => {
    const p = new Tensor(new Float32Array(5), [5], true);
    p.grad = fromJson(fx.single.grad);
    expectClose(clipGradNorm_(p, fx.single.maxNorm), fx.single.total, TOL);
    expectClose(p.grad, fx.single.clipped, TOL);
  });

  it("hand-computed: a 3-4-5 triangle", () => {
    const p = new Tensor(new Float32Array(2), [2], true);
    p.grad = new Tensor(Float32Array.of(3, 4), [2]);
    expect(clipGradNorm_([p], 1)).toBe(5);
    const coef = Math.fround(1 / Math.fround(5 + Math.fround(1e-6)));
    expect(Array.from(p.grad.data)).toEqual([Math.fround(3 * coef), Math.fround(4 * coef)]);
    // exactly at the limit: still scaled, by 5 / (5 + 1e-6)
    p.grad = new Tensor(Float32Array.of(3, 4), [2]);
    expect(clipGradNorm_([p], 5)).toBe(5);
    // PyTorch's max_norm / tensor is reciprocal() * max_norm: two float32 roundings
    const c5 = Math.fround(Math.fround(1 / Math.fround(5 + Math.fround(1e-6))) * 5);
    expect(Array.from(p.grad.data)).toEqual([Math.fround(3 * c5), Math.fround(4 * c5)]);
    // below the limit: untouched
    p.grad = new Tensor(Float32Array.of(3, 4), [2]);
    expect(clipGradNorm_([p], 5.0001)).toBe(5);
    expect(Array.from(p.grad.data)).toEqual([3, 4]);
  });

  it("rounds the coefficient as PyTorch: grad [12.6] clipped to 3 is exactly 3", () => {
    // torch: p.grad = torch.tensor([12.6]); clip_grad_norm_([p], 3.0) leaves p.grad == tensor([3.])
    const p = new Tensor(new Float32Array(1), [1], true);
    p.grad = new Tensor(Float32Array.of(12.6), [1]);
    clipGradNorm_([p], 3);
    expect(p.grad.data[0]).toBe(3);
  });

  it("no gradients: total norm 0", () => {
    expect(clipGradNorm_([new Tensor(new Float32Array(2), [2], true)], 1)).toBe(0);
  });

  it("a non-finite norm throws PyTorch's message with errorIfNonfinite, else scales by 0 as PyTorch", () => {
    const p = new Tensor(new Float32Array(2), [2], true);
    const head = (m: string) => m.slice(0, m.indexOf("To disable"));
    p.grad = new Tensor(Float32Array.of(1, Number.POSITIVE_INFINITY), [2]);
    expect(() => clipGradNorm_([p], 1, 2, { errorIfNonfinite: true })).toThrow(head(fx.nonfiniteMessage));
    expect(() => clipGradNorm_([p], 1, Number.POSITIVE_INFINITY, { errorIfNonfinite: true })).toThrow(
      head(fx.nonfiniteMessageInf),
    );
    expect(Array.from(p.grad.data)).toEqual([1, Number.POSITIVE_INFINITY]); // untouched after the error
    // PyTorch: coef = 1 / (inf + 1e-6) = 0, so 1·0 = 0 and inf·0 = NaN
    expect(clipGradNorm_([p], 1)).toBe(Number.POSITIVE_INFINITY);
    expect(p.grad.data[0]).toBe(0);
    expect(p.grad.data[1]).toBeNaN();
  });
});

describe("clipGradValue_ matches PyTorch", () => {
  it("a negative clipValue clamps with min > max: everything becomes -|clipValue|, NaN stays", () => {
    // torch: clip_grad_value_([p], -1) on [1, -5, 2] gives [-1, -1, -1] (clamp_(min=1, max=-1))
    const p = new Tensor(new Float32Array(4), [4], true);
    p.grad = new Tensor(Float32Array.of(1, -5, 2, Number.NaN), [4]);
    clipGradValue_(p, -1);
    expect(Array.from(p.grad.data)).toEqual([-1, -1, -1, Number.NaN]);
  });

  for (const c of fx.value) {
    it(`clipValue ${c.clipValue}`, () => {
      const params = withGrads();
      clipGradValue_(params, c.clipValue);
      params.slice(0, 3).forEach((q, i) => {
        expectClose(q.grad!, c.clipped[i], { rtol: 0, atol: 0, what: `grad ${i}` });
      });
      expect(params[3].grad).toBeNull();
    });
  }
});

describe("clipGradNormAsync_ on CPU gradients", () => {
  it("clips as clipGradNorm_ does and resolves to the same total (a generator is read once)", async () => {
    const a = withGrads();
    const b = withGrads();
    const sync = clipGradNorm_(a, 0.5, 3);
    const total = await clipGradNormAsync_(
      (function* () {
        yield* b;
      })(),
      0.5,
      3,
    );
    expect(total).toBe(sync);
    a.slice(0, 3).forEach((p, i) => {
      expect(Array.from(b[i].grad!.data)).toEqual(Array.from(p.grad!.data));
    });
    expect(await clipGradNormAsync_([], 1)).toBe(0);
  });

  it("rejects with clipGradNorm_'s errors", async () => {
    const bad = withGrads();
    bad[0].grad!.data[0] = Number.NaN;
    await expect(clipGradNormAsync_(bad, 1, 2, { errorIfNonfinite: true })).rejects.toThrow(
      "The total norm of order 2.0 for gradients from `parameters` is non-finite",
    );
    await expect(clipGradNormAsync_(withGrads(), Number.NaN)).rejects.toThrow(
      "clipGradNormAsync_: expected maxNorm to be a number, got NaN",
    );
  });
});
