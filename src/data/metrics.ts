// Forecast accuracy: point metrics, the two baselines every model must beat, and a rolling-origin
// backtest that scores a model and both baselines on the same windows.
//
// n = forecast points, H = horizon, m = season length. Sums run in float64. NaN in a forecast
// propagates to the metric (a diverged model shows as NaN rather than an exception).
//
//   MAE   = mean |a - f|
//   RMSE  = sqrt(mean (a - f)^2)
//   sMAPE = mean 200 |a - f| / (|a| + |f|)       in [0, 200] percent; a term with a = f = 0 is 0
//   MASE  = MAE / mean_{t=m..T-1} |y_t - y_{t-m}| over the training series y (in-sample seasonal naive)

import { DataError, checkInt } from "./errors.js";

type Values = ArrayLike<number>;

function checkPair(actual: Values, forecast: Values, what: string): void {
  if (actual.length !== forecast.length) {
    throw new DataError(`${what}: actual has ${actual.length} values but forecast has ${forecast.length}`);
  }
  if (actual.length === 0) throw new DataError(`${what}: need at least one value, got none`);
}

/** Mean absolute error. */
export function mae(actual: Values, forecast: Values): number {
  checkPair(actual, forecast, "mae");
  let s = 0;
  for (let i = 0; i < actual.length; i++) s += Math.abs(actual[i] - forecast[i]);
  return s / actual.length;
}

/** Root mean squared error. */
export function rmse(actual: Values, forecast: Values): number {
  checkPair(actual, forecast, "rmse");
  let s = 0;
  for (let i = 0; i < actual.length; i++) {
    const d = actual[i] - forecast[i];
    s += d * d;
  }
  return Math.sqrt(s / actual.length);
}

/** Symmetric mean absolute percentage error, 0..200 (%); a point where actual = forecast = 0 counts 0. */
export function smape(actual: Values, forecast: Values): number {
  checkPair(actual, forecast, "smape");
  let s = 0;
  for (let i = 0; i < actual.length; i++) {
    const num = Math.abs(actual[i] - forecast[i]);
    const den = Math.abs(actual[i]) + Math.abs(forecast[i]);
    s += den === 0 ? 0 : (200 * num) / den;
  }
  return s / actual.length;
}

/** In-sample MAE of the seasonal-naive forecast y_t ~ y_{t-m} over a training series: MASE's scale. */
export function seasonalNaiveScale(train: Values, m = 1): number {
  checkInt(m, 1, "season length m");
  if (train.length <= m) {
    throw new DataError(
      `MASE needs a training series longer than the season m = ${m}, got ${train.length} value(s)`,
    );
  }
  let s = 0;
  for (let t = m; t < train.length; t++) s += Math.abs(train[t] - train[t - m]);
  const scale = s / (train.length - m);
  if (scale === 0) {
    throw new DataError(
      `MASE is undefined: the training series repeats itself exactly every ${m} step(s), so its seasonal-naive error is 0`,
    );
  }
  return scale;
}

/** Mean absolute scaled error: MAE divided by the in-sample seasonal-naive MAE of `train` (season m). */
export function mase(actual: Values, forecast: Values, train: Values, m = 1): number {
  return mae(actual, forecast) / seasonalNaiveScale(train, m);
}

/** The last observed value, repeated `horizon` times. */
export function naiveForecast(history: Values, horizon: number): Float32Array {
  checkInt(horizon, 1, "horizon");
  if (history.length === 0) throw new DataError("naiveForecast: history is empty");
  return new Float32Array(horizon).fill(history[history.length - 1]);
}

/** The last observed season repeated: forecast step h (0-based) is history[T - m + (h mod m)]. */
export function seasonalNaiveForecast(history: Values, horizon: number, m: number): Float32Array {
  checkInt(horizon, 1, "horizon");
  checkInt(m, 1, "season length m");
  const T = history.length;
  if (T < m)
    throw new DataError(`seasonalNaiveForecast: needs at least one season (m = ${m}) of history, got ${T}`);
  const out = new Float32Array(horizon);
  for (let h = 0; h < horizon; h++) out[h] = history[T - m + (h % m)];
  return out;
}

export interface Scores {
  mae: number;
  rmse: number;
  smape: number;
  mase: number;
}

/** The model's forecast for the `horizon` steps after `history` (the series before `origin`). */
export type Forecaster = (history: Float32Array, origin: number) => ArrayLike<number>;

export interface BacktestOptions {
  /** The series to forecast (the target, in its own units). */
  series: Values;
  /** First origin: forecasts start here; [0, testStart) is the training part that scales MASE. */
  testStart: number;
  horizon: number;
  forecaster: Forecaster;
  /** Season length for the seasonal-naive baseline and MASE. Default 1. */
  m?: number;
  /** Origins advance by this many steps. Default 1 (every possible origin). */
  stride?: number;
}

export interface BacktestResult {
  /** Origin of each window: the index of its first forecast step. */
  origins: number[]; // (W)
  actuals: Float32Array; // (W, H)
  forecasts: { model: Float32Array; naive: Float32Array; seasonalNaive: Float32Array }; // each (W, H)
  /** Metrics pooled over every point of every window (MASE uses the scale of [0, testStart)). */
  scores: { model: Scores; naive: Scores; seasonalNaive: Scores };
}

/**
 * Rolling-origin evaluation: for each origin o = testStart, testStart + stride, ... with o + horizon <=
 * T, the forecaster sees series[0, o) and forecasts series[o, o + horizon); the naive and seasonal-naive
 * baselines forecast the same windows from the same history. The forecaster can use `origin` to take
 * its own covariates up to that row.
 */
export function rollingOriginBacktest(options: BacktestOptions): BacktestResult {
  const { series, testStart, horizon, forecaster } = options;
  const m = options.m ?? 1;
  const stride = options.stride ?? 1;
  checkInt(horizon, 1, "horizon");
  checkInt(stride, 1, "stride");
  checkInt(m, 1, "season length m");
  checkInt(testStart, 1, "testStart");
  const T = series.length;
  if (testStart + horizon > T) {
    throw new DataError(
      `rollingOriginBacktest: the first window needs series[${testStart}, ${testStart + horizon}) but the series has ${T} values`,
    );
  }
  const y = Float32Array.from(series);
  const scale = seasonalNaiveScale(y.subarray(0, testStart), m);
  const origins: number[] = [];
  for (let o = testStart; o + horizon <= T; o += stride) origins.push(o);
  const W = origins.length;
  const actuals = new Float32Array(W * horizon); // (W, H)
  const model = new Float32Array(W * horizon); // (W, H)
  const naive = new Float32Array(W * horizon); // (W, H)
  const seasonal = new Float32Array(W * horizon); // (W, H)
  origins.forEach((o, w) => {
    const history = y.slice(0, o);
    const f = forecaster(history, o);
    if (f === null || typeof f !== "object" || f.length !== horizon) {
      const got = f === null || typeof f !== "object" ? String(f) : `${f.length} value(s)`;
      throw new DataError(
        `rollingOriginBacktest: forecaster must return ${horizon} values at origin ${o}, got ${got}`,
      );
    }
    model.set(f, w * horizon);
    actuals.set(y.subarray(o, o + horizon), w * horizon);
    naive.set(naiveForecast(history, horizon), w * horizon);
    seasonal.set(seasonalNaiveForecast(history, horizon, m), w * horizon);
  });
  const score = (f: Float32Array): Scores => ({
    mae: mae(actuals, f),
    rmse: rmse(actuals, f),
    smape: smape(actuals, f),
    mase: mae(actuals, f) / scale,
  });
  return {
    origins,
    actuals,
    forecasts: { model, naive, seasonalNaive: seasonal },
    scores: { model: score(model), naive: score(naive), seasonalNaive: score(seasonal) },
  };
}
