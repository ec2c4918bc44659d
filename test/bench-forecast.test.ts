// The forecasting benchmark's panel and protocols (bench/forecast.ts): the shipped series load, the
// rolling-origin protocol on CO2 and Seattle is `recurrent evaluate`'s on a default checkpoint, the
// hybrid is trained on the fit part only, and the scores (MASE, coverage, combination, worst ratio)
// match hand-computed values.
import { describe, expect, it } from "vitest";
import {
  coverageOf,
  combineForecasts,
  hybridOptionsFor,
  loadPanel,
  maseOf,
  snaiveScale,
  windows,
  worstRatio,
} from "../bench/forecast.js";
import { planSplit } from "../src/forecast/train.js";

describe("bench:forecast panel", () => {
  const panel = loadPanel();
  it("has at least eight real series, monthly, quarterly and daily", () => {
    expect(panel.length).toBeGreaterThanOrEqual(8);
    expect(new Set(panel.map((s) => s.period))).toEqual(new Set([12, 4, 7]));
    for (const s of panel) expect(s.values.every((v) => Number.isFinite(v))).toBe(true);
  });
  it("rolls CO2 over 101 origins of 12 months and Seattle over 213 of 7 days, from evaluate's test start", () => {
    const origins = (key: string) => {
      const s = panel.find((x) => x.key === key)!;
      return { s, n: s.values.length - s.horizon - s.testStart + 1 };
    };
    const co2 = origins("co2");
    expect(co2.s.values.length).toBe(746); // 1958-03 to 2020-04, the five missing months filled
    expect([co2.n, co2.s.horizon]).toEqual([101, 12]);
    // the test part of `recurrent train`'s default split (70/15/15, lookback 24, horizon 12)
    expect(co2.s.testStart).toBe(planSplit(746, 24, 12, 0.15, 0.15).test.start);
    const sea = origins("seattle");
    expect([sea.n, sea.s.horizon]).toEqual([213, 7]);
  });
});

describe("bench:forecast scores", () => {
  it("MASE: mean absolute error over the in-sample seasonal-naive error", () => {
    // seasonal naive, m = 2, on [1, 2, 4, 3, 7]: |4-1|, |3-2|, |7-4| -> 7/3
    expect(snaiveScale([1, 2, 4, 3, 7], 2)).toBeCloseTo(7 / 3, 15);
    // errors 1, 1, 0, 2 -> MAE 1
    expect(
      maseOf(
        [
          [5, 6],
          [7, 8],
        ],
        [
          [4, 7],
          [7, 10],
        ],
        0.5,
      ),
    ).toBe(2);
  });
  it("coverage counts the points inside the band, bounds included", () => {
    const band = {
      level: 0.8,
      lower: [
        [0, 0],
        [1, 1],
      ],
      upper: [
        [1, 1],
        [2, 2],
      ],
    };
    expect(
      coverageOf(
        [
          [1, 2],
          [0.5, 1.5],
        ],
        band,
      ),
    ).toBe(0.5);
  });
  it("a combination is the element-wise mean", () => {
    expect(combineForecasts([[[1, 2]], [[3, 6]], [[5, 1]]])).toEqual([[3, 3]]);
  });
  it("the worst ratio names the series where a column is furthest behind the reference", () => {
    const w = worstRatio(
      [
        [1, 2],
        [3, 1],
      ],
      [2, 1],
      ["a", "b"],
    );
    expect(w).toEqual([
      { ratio: 3, series: "b" },
      { ratio: 1, series: "a" },
    ]);
  });
  it("the hybrid never sees the held-out part: its test part is everything after the fit part", () => {
    for (const s of loadPanel()) {
      for (const p of ["holdout", "rolling"] as const) {
        const o = hybridOptionsFor(s, p);
        expect(s.values.length - o.test).toBe(windows(s, p).fitEnd);
        expect(o.horizon).toBe(s.horizon);
        expect(o.season).toBe(s.period);
      }
    }
  });
});
