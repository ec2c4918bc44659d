import { describe, expect, it } from "vitest";
import {
  DataError,
  mae,
  mase,
  naiveForecast,
  rmse,
  rollingOriginBacktest,
  seasonalNaiveForecast,
  smape,
} from "../src/data/index.js";
import { expectClose } from "./helpers.js";

function dataError(fn: () => unknown): DataError {
  try {
    fn();
  } catch (e) {
    if (e instanceof DataError) return e;
    throw e;
  }
  throw new Error("expected a DataError, but nothing was thrown");
}

const actual = [1, 2, 3, 4];
const forecast = Float32Array.from([2, 2, 1, 8]); // errors 1, 0, 2, 4

describe("point metrics (hand-computed)", () => {
  it("mae and rmse", () => {
    expect(mae(actual, forecast)).toBe(7 / 4);
    expect(rmse(actual, forecast)).toBeCloseTo(Math.sqrt(21 / 4), 14);
    expect(rmse([3], [3])).toBe(0);
  });

  it("smape on the 0..200 scale with 0/0 counted as 0", () => {
    // 200 * |a - f| / (|a| + |f|): 200/3, 0, 100, 200/3
    expect(smape(actual, forecast)).toBeCloseTo((200 / 3 + 0 + 100 + 200 / 3) / 4, 12);
    expect(smape([0, 1], [0, 3])).toBe(50);
    expect(smape([0, 0], [0, 0])).toBe(0);
    expect(smape([0], [5])).toBe(200);
    expect(smape([-2], [2])).toBe(200);
  });

  it("mase scales by the in-sample seasonal-naive MAE of the training series", () => {
    const train = [1, 3, 2, 5, 4];
    // m = 1: |3-1|, |2-3|, |5-2|, |4-5| = 2, 1, 3, 1 -> 7/4 ; MAE 7/4 -> 1
    expect(mase(actual, forecast, train)).toBe(1);
    // m = 2: |2-1|, |5-3|, |4-2| = 1, 2, 2 -> 5/3 ; 1.75 / (5/3) = 1.05
    expect(mase(actual, forecast, train, 2)).toBeCloseTo(1.05, 14);
    expect(dataError(() => mase(actual, forecast, [1, 2], 2)).message).toBe(
      "MASE needs a training series longer than the season m = 2, got 2 value(s)",
    );
    expect(dataError(() => mase(actual, forecast, [1, 2, 1, 2], 2)).message).toMatch(/MASE is undefined/);
  });

  it("rejects mismatched or empty inputs and lets NaN through", () => {
    expect(dataError(() => mae([1, 2], [1])).message).toBe("mae: actual has 2 values but forecast has 1");
    expect(dataError(() => rmse([], [])).message).toBe("rmse: need at least one value, got none");
    expect(mae([1, 2], [1, Number.NaN])).toBeNaN();
  });
});

describe("baselines", () => {
  const history = [1, 3, 2, 5, 4];
  it("naive repeats the last value", () => {
    expect(Array.from(naiveForecast(history, 3))).toEqual([4, 4, 4]);
  });
  it("seasonal naive repeats the last season", () => {
    expect(Array.from(seasonalNaiveForecast(history, 5, 2))).toEqual([5, 4, 5, 4, 5]);
    expect(Array.from(seasonalNaiveForecast(history, 4, 3))).toEqual([2, 5, 4, 2]);
    expect(Array.from(seasonalNaiveForecast(history, 2, 1))).toEqual([4, 4]);
    expect(dataError(() => seasonalNaiveForecast(history, 2, 6)).message).toBe(
      "seasonalNaiveForecast: needs at least one season (m = 6) of history, got 5",
    );
    expect(dataError(() => naiveForecast([], 1)).message).toBe("naiveForecast: history is empty");
  });
});

describe("rollingOriginBacktest", () => {
  const series = [1, 2, 3, 4, 5, 6, 7, 8];

  it("scores model and baselines on the same windows (hand-computed)", () => {
    const seen: [number[], number][] = [];
    const r = rollingOriginBacktest({
      series,
      testStart: 5,
      horizon: 2,
      m: 2,
      forecaster: (history, origin) => {
        seen.push([Array.from(history), origin]);
        const last = history[history.length - 1];
        return [last + 1, last + 2]; // exact on this line
      },
    });
    expect(r.origins).toEqual([5, 6]);
    expect(seen).toEqual([
      [[1, 2, 3, 4, 5], 5],
      [[1, 2, 3, 4, 5, 6], 6],
    ]);
    expect(Array.from(r.actuals)).toEqual([6, 7, 7, 8]);
    expect(Array.from(r.forecasts.model)).toEqual([6, 7, 7, 8]);
    expect(Array.from(r.forecasts.naive)).toEqual([5, 5, 6, 6]);
    expect(Array.from(r.forecasts.seasonalNaive)).toEqual([4, 5, 5, 6]);
    expect(r.scores.model).toEqual({ mae: 0, rmse: 0, smape: 0, mase: 0 });
    // naive errors 1, 2, 1, 2 ; MASE scale on [1..5] with m = 2 is 2
    expect(r.scores.naive.mae).toBe(1.5);
    expect(r.scores.naive.rmse).toBeCloseTo(Math.sqrt(10 / 4), 6);
    expect(r.scores.naive.smape).toBeCloseTo((200 / 11 + 400 / 12 + 200 / 13 + 400 / 14) / 4, 5);
    expect(r.scores.naive.mase).toBe(0.75);
    // seasonal-naive errors 2, 2, 2, 2
    expect(r.scores.seasonalNaive).toEqual({
      mae: 2,
      rmse: 2,
      smape: expect.closeTo((400 / 10 + 400 / 12 + 400 / 12 + 400 / 14) / 4, 5),
      mase: 1,
    });
  });

  it("pools metrics over all windows, with stride", () => {
    const y = Array.from({ length: 30 }, (_, t) => Math.sin(t / 2) * 10 + t);
    const r = rollingOriginBacktest({
      series: y,
      testStart: 12,
      horizon: 4,
      m: 3,
      stride: 3,
      forecaster: (h) => new Float32Array(4).fill(h[h.length - 2]),
    });
    expect(r.origins).toEqual([12, 15, 18, 21, 24]);
    const actuals = r.origins.flatMap((o) => Array.from(Float32Array.from(y.slice(o, o + 4))));
    expectClose(r.actuals, actuals, { atol: 0, rtol: 0 });
    const naive = r.origins.flatMap((o) => Array(4).fill(Math.fround(y[o - 1])));
    expectClose(r.forecasts.naive, naive, { atol: 0, rtol: 0 });
    expect(r.scores.naive.mae).toBeCloseTo(mae(actuals, naive), 12);
    expect(r.scores.naive.mase).toBeCloseTo(mase(actuals, naive, Float32Array.from(y.slice(0, 12)), 3), 12);
    expect(r.scores.seasonalNaive.rmse).toBeCloseTo(rmse(r.actuals, r.forecasts.seasonalNaive), 12);
  });

  it("checks the forecaster's output and the series length", () => {
    const base = { series, testStart: 5, horizon: 2, forecaster: () => [1, 2] };
    expect(dataError(() => rollingOriginBacktest({ ...base, forecaster: () => [1] })).message).toBe(
      "rollingOriginBacktest: forecaster must return 2 values at origin 5, got 1 value(s)",
    );
    expect(dataError(() => rollingOriginBacktest({ ...base, testStart: 7 })).message).toBe(
      "rollingOriginBacktest: the first window needs series[7, 9) but the series has 8 values",
    );
    expect(dataError(() => rollingOriginBacktest({ ...base, m: 5 })).message).toMatch(
      /longer than the season m = 5/,
    );
  });
});
