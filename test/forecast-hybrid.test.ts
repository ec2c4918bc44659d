// The hybrid forecaster's components: the differentiable Holt-Winters recursion against a hand-computed
// case and finite differences, the pinball loss, `take`, and Fourier features against hand values.

import { describe, expect, it } from "vitest";
import { gradcheck } from "../src/core/gradcheck.js";
import * as ops from "../src/core/ops.js";
import { Tensor } from "../src/core/tensor.js";
import { holtWinters } from "../src/forecast/hybrid/es.js";
import { fourierFeatures, pinballLoss, take } from "../src/forecast/hybrid/ops.js";
import { expectClose } from "./helpers.js";

const t = (v: number[], grad = true) => new Tensor(Float32Array.from(v), [v.length], grad);
const scalar = (v: number) => new Tensor(Float32Array.of(v), [], true);

const coefs = (alpha: number, beta: number, gamma: number, b0: number) => ({
  alpha: scalar(alpha),
  beta: scalar(beta),
  gamma: scalar(gamma),
  b0: scalar(b0),
});

describe("holtWinters", () => {
  it("multiplicative: matches the recursion worked by hand", () => {
    // z = [10, 12, 11], α = 0.5, γ = 0.25, s0 = [1, 1.2] (m = 2), no trend
    // l0 = 10/1 = 10;               s2 = 0.25·10/10 + 0.75·1 = 1
    // l1 = 0.5·12/1.2 + 0.5·10 = 10;  s3 = 0.25·12/10 + 0.75·1.2 = 1.2
    // l2 = 0.5·11/1 + 0.5·10 = 10.5;  s4 = 0.25·11/10.5 + 0.75·1
    const [l, b, s] = holtWinters(
      t([10, 12, 11], false),
      coefs(0.5, 0.5, 0.25, 3),
      t([1, 1.2], false),
      "multiplicative",
      false,
    );
    expectClose(l, [10, 10, 10.5]);
    expectClose(b, [0, 0, 0]);
    expectClose(s, [1, 1.2, 1, 1.2, 0.25 * (11 / 10.5) + 0.75], { rtol: 1e-6 });
  });

  it("additive with a trend: matches the recursion worked by hand", () => {
    // z = [3, 5, 4], α = β = γ = 0.5, s0 = [-1, 1], b0 = 1
    // l0 = 3 + 1 = 4, b0 = 1;                         s2 = 0.5·(3 - 4) + 0.5·(-1) = -1
    // l1 = 0.5·(5 - 1) + 0.5·(4 + 1) = 4.5;  b1 = 0.5·0.5 + 0.5·1 = 0.75;   s3 = 0.5·0.5 + 0.5·1 = 0.75
    // l2 = 0.5·(4 + 1) + 0.5·(4.5 + 0.75) = 5.125;  b2 = 0.5·0.625 + 0.5·0.75 = 0.6875
    // s4 = 0.5·(4 - 5.125) + 0.5·(-1) = -1.0625
    const [l, b, s] = holtWinters(
      t([3, 5, 4], false),
      coefs(0.5, 0.5, 0.5, 1),
      t([-1, 1], false),
      "additive",
      true,
    );
    expectClose(l, [4, 4.5, 5.125]);
    expectClose(b, [1, 0.75, 0.6875]);
    expectClose(s, [-1, 1, -1, 0.75, -1.0625]);
  });

  it("without seasonality or trend is simple exponential smoothing", () => {
    const [l, , s] = holtWinters(
      t([2, 4, 8], false),
      coefs(0.25, 0.5, 0.5, 0),
      t([], false),
      "multiplicative",
      false,
    );
    expectClose(l, [2, 2.5, 3.875]);
    expect(s.shape).toEqual([3]);
  });

  for (const mode of ["multiplicative", "additive"] as const) {
    for (const m of [0, 3]) {
      for (const trend of [false, true]) {
        it(`${mode}, m = ${m}, trend ${trend}: gradients of z, α, β, γ, b0 and s0 agree with finite differences`, () => {
          const z = t([5, 6.5, 4.8, 5.3, 7.1, 5.0, 5.6, 6.9, 4.7, 5.4]);
          const s0 = m === 0 ? t([]) : t(mode === "multiplicative" ? [0.9, 1.2, 0.95] : [-0.4, 0.7, -0.2]);
          const r = gradcheck(
            (zz, a, b, g, b0, s) =>
              ops.cat(holtWinters(zz, { alpha: a, beta: b, gamma: g, b0 }, s, mode, trend)),
            [z, scalar(0.3), scalar(0.2), scalar(0.4), scalar(0.1), s0],
            { eps: 1e-3, atol: 2e-3, rtol: 1e-2 },
          );
          expect(r.worst).toBeNull();
        });
      }
    }
  }

  it("rejects a 2-D series", () => {
    expect(() =>
      holtWinters(new Tensor(new Float32Array(4), [2, 2]), coefs(0.5, 0.5, 0.5, 0), t([]), "additive", false),
    ).toThrow(/z must be 1-D/);
  });
});

describe("pinballLoss", () => {
  it("matches hand values, and τ = 0.5 is half the MAE", () => {
    // y - ŷ = [2, -1, 0.5, -4]; τ = 0.9: 0.9·2 + 0.1·1 + 0.9·0.5 + 0.1·4 = 2.75, / 4
    const pred = t([1, 3, 2.5, 6]);
    const y = Float32Array.of(3, 2, 3, 2);
    expectClose(pinballLoss(pred, y, 0.9), 2.75 / 4);
    expectClose(pinballLoss(pred, y, 0.5), (0.5 * (2 + 1 + 0.5 + 4)) / 4);
    // mask out the last two: (0.9·2 + 0.1·1) / 2
    expectClose(pinballLoss(pred, y, 0.9, Float32Array.of(1, 1, 0, 0)), 1.9 / 2);
  });

  it("gradients agree with finite differences away from the kinks", () => {
    const y = Float32Array.of(3, 2, 3, 2, 7, -1);
    const w = Float32Array.of(1, 0, 1, 1, 1, 1);
    for (const tau of [0.1, 0.5, 0.975]) {
      const r = gradcheck((p) => pinballLoss(p, y, tau, w), [t([1, 3, 2.5, 6, 7.4, -0.2])], {
        eps: 1e-3,
      });
      expect(r.worst).toBeNull();
    }
  });

  it("rejects a quantile outside (0, 1)", () => {
    expect(() => pinballLoss(t([1]), Float32Array.of(1), 1)).toThrow(/quantile must be in \(0, 1\)/);
  });
});

describe("take", () => {
  it("gathers by flat index and scatters gradients back, repeats added", () => {
    const src = t([10, 20, 30, 40]);
    const idx = Int32Array.of(3, 0, 3, 1);
    expectClose(take(src, idx, [2, 2]), [40, 10, 40, 20]);
    const r = gradcheck((s) => ops.mul(take(s, idx, [2, 2]), take(s, idx, [2, 2])), [src], { eps: 1e-2 });
    expect(r.worst).toBeNull();
    expect(() => take(src, Int32Array.of(4), [1])).toThrow(/index 4 is out of bounds/);
  });
});

describe("fourierFeatures", () => {
  it("gives sin and cos of 2πk t / P per period and harmonic", () => {
    const f = fourierFeatures(
      [0, 1, 2, 7],
      [
        { period: 4, harmonics: 2 },
        { period: 7, harmonics: 1 },
      ],
    );
    // t = 1: period 4, k = 1: sin(π/2) = 1, cos = 0; k = 2: sin(π) = 0, cos = -1; period 7: 2π/7
    expectClose(f.subarray(6, 12), [1, 0, 0, -1, Math.sin((2 * Math.PI) / 7), Math.cos((2 * Math.PI) / 7)], {
      atol: 1e-6,
    });
    // t = 7 is t = 3 for period 4 and t = 0 for period 7
    expectClose(f.subarray(18, 24), [-1, 0, 0, -1, 0, 1], { atol: 1e-6 });
    // absolute times far from 0 keep their phase
    const big = fourierFeatures([16000 * 365.25 + 0.25 * 365.25], [{ period: 365.25, harmonics: 1 }]);
    expectClose(big, [1, 0], { atol: 1e-6 });
  });
});

describe("forecastChart bands", () => {
  it("draws each interval as an area over the forecast steps, the widest first", async () => {
    const { forecastChart } = await import("../src/viz/forecast.js");
    const spec = forecastChart({
      history: [1, 2, 3],
      forecast: [4, 5],
      bands: [
        { level: 0.8, lower: [3.5, 4.2], upper: [4.5, 5.8] },
        { level: 0.95, lower: [3, 3.8], upper: [5, 6.2] },
      ],
      yLabel: "y",
      title: "t",
    }) as unknown as {
      layer: { name?: string; mark: { type: string } }[];
      data: { values: Record<string, unknown>[] };
    };
    const areas = spec.layer.filter((l) => l.mark.type === "area");
    expect(areas.map((l) => l.name)).toEqual(["band0", "band1"]);
    const rows = spec.data.values.filter((r) => r.lo !== undefined);
    expect(rows).toEqual(
      [
        { series: "95% interval", x: 3, y: null, lo: 3, hi: 5 },
        { series: "95% interval", x: 4, y: null, lo: 3.800000190734863, hi: 6.199999809265137 },
        { series: "80% interval", x: 3, y: null, lo: 3.5, hi: 4.5 },
        { series: "80% interval", x: 4, y: null, lo: 4.199999809265137, hi: 5.800000190734863 },
      ].map((r) => ({ ...r, lo: expect.closeTo(r.lo, 6), hi: expect.closeTo(r.hi, 6) })),
    );
    expect(() =>
      forecastChart({
        history: [1],
        forecast: [2],
        bands: [{ level: 80, lower: [1], upper: [3] }],
        yLabel: "y",
        title: "t",
      }),
    ).toThrow(/bands\[0\]\.level must be a number in \(0, 1\), got/);
    expect(() =>
      forecastChart({
        history: [1],
        forecast: [2, 3],
        bands: [{ level: 0.8, lower: [1], upper: [3, 4] }],
        yLabel: "y",
        title: "t",
      }),
    ).toThrow(/bands\[0\]\.lower/);
  });
});
