// The classical forecasters on the rolling-origin protocol of `rollingOriginBacktest`: same origins,
// same windows, same scores (MASE with the in-sample seasonal-naive scale of the rows before the first
// origin), so that their rows sit beside a trained model's. W = windows, H = horizon.

import { type Scores, mae, rmse, seasonalNaiveScale, smape } from "../../data/metrics.js";
import { CLASSICAL_FORECASTERS, type SeriesForecaster } from "./forecasters.js";

export interface ClassicalBacktestOptions {
  series: ArrayLike<number>;
  /** First origin; the forecasters are fitted on series[0, testStart). */
  testStart: number;
  horizon: number;
  /** Season length (the models' period and MASE's). */
  m: number;
  stride?: number;
  /** Default: ETS, ARIMA (of logs for a positive series), Theta, seasonal naive with drift. */
  forecasters?: readonly SeriesForecaster[];
}

export interface ClassicalRow {
  name: string;
  /** What was fitted, e.g. "ETS(M,Ad,M)"; the error message when it could not be. */
  label: string;
  /** Null when the forecaster could not be fitted on this series (see label). */
  scores: Scores | null;
  forecasts: Float32Array | null; // (W, H)
  seconds: number;
}

/** Runs each classical forecaster over every origin o = testStart, testStart + stride, ... */
export function classicalBacktest(options: ClassicalBacktestOptions): ClassicalRow[] {
  const { series, testStart, horizon: H, m } = options;
  const stride = options.stride ?? 1;
  const y = Float64Array.from(series);
  const origins: number[] = [];
  for (let o = testStart; o + H <= y.length; o += stride) origins.push(o);
  const W = origins.length;
  const actuals = new Float32Array(W * H); // (W, H)
  origins.forEach((o, w) => {
    actuals.set(y.subarray(o, o + H), w * H);
  });
  const scale = seasonalNaiveScale(y.subarray(0, testStart), m);
  const rows: ClassicalRow[] = [];
  for (const f of options.forecasters ?? CLASSICAL_FORECASTERS) {
    const t0 = performance.now();
    try {
      const fitted = f.fit(y.subarray(0, testStart), m, H);
      const out = new Float32Array(W * H); // (W, H)
      origins.forEach((o, w) => {
        out.set(fitted.forecast(y.subarray(0, o)), w * H);
      });
      const scores = {
        mae: mae(actuals, out),
        rmse: rmse(actuals, out),
        smape: smape(actuals, out),
        mase: mae(actuals, out) / scale,
      };
      // never a NaN or an infinity as a score: a forecaster that makes one is reported as not scored
      for (const [k, v] of Object.entries(scores)) {
        if (!Number.isFinite(v))
          throw new Error(
            `its ${k.toUpperCase()} would be ${v}: its forecasts or the series overflow float32`,
          );
      }
      rows.push({
        name: f.name,
        label: fitted.label,
        scores,
        forecasts: out,
        seconds: (performance.now() - t0) / 1000,
      });
    } catch (e) {
      rows.push({
        name: f.name,
        label: (e as Error).message,
        scores: null,
        forecasts: null,
        seconds: (performance.now() - t0) / 1000,
      });
    }
  }
  return rows;
}
