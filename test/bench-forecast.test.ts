// The forecasting benchmark's panel and protocols (bench/forecast.ts): the shipped series load, and the
// rolling-origin protocol on CO2 and Seattle is `recurrent evaluate`'s on a default checkpoint.
import { describe, expect, it } from "vitest";
import { loadPanel } from "../bench/forecast.js";
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
