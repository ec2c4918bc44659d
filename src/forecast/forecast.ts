// Using a trained checkpoint: forecast the steps after a series, and backtest it on the test part that
// the checkpoint's split held out, beside the naive and seasonal-naive baselines on the same windows.

import { MAX_WRITABLE_TIME, dateStepper, formatDate, inferStep } from "../data/dates.js";
import { type BacktestResult, rollingOriginBacktest } from "../data/metrics.js";
import type { Series } from "../data/series.js";
import { type ForecastCheckpoint, buildModel, checkpointScaler } from "./checkpoint.js";
import { column } from "./data.js";
import { CheckpointError, ForecastError } from "./errors.js";
import { checkBandForecasts, checkScores } from "./finite.js";
import type { ForecastNet } from "./model.js";
import { type PipelineSpec, forecastAt, scaleSeries } from "./pipeline.js";
import { buildHybrid, hybridForecastAt, type IntervalBand } from "./hybrid/checkpoint.js";
import type { HybridNet } from "./hybrid/model.js";
import { type ArimaMetaJSON, arimaForecastAt, type EtsMetaJSON, etsForecastAt } from "./hybrid/fallback.js";

/** A checkpoint ready to use: its network and the numbers that map series to model and back. */
export interface Forecaster {
  checkpoint: ForecastCheckpoint;
  /** The LSTM (null for a hybrid checkpoint). */
  model: ForecastNet | null;
  /** The hybrid ensemble (null for an LSTM checkpoint). */
  hybrid: HybridNet | null;
  /** The saved ETS model (from `--model auto` or the short-series fallback), else null. */
  ets: EtsMetaJSON | null;
  /** The saved seasonal ARIMA model (from `--model auto`), else null. */
  arima: ArimaMetaJSON | null;
  spec: PipelineSpec;
}

export function forecasterFrom(checkpoint: ForecastCheckpoint, source = "checkpoint"): Forecaster {
  const panel = checkpoint.meta.data.panel;
  if (panel !== undefined) {
    // one scaler per series: which one is the caller's choice (panel.ts seriesCheckpoint, --series)
    throw new CheckpointError(
      `${source} holds one model of ${panel.series.length} series (ids in ${JSON.stringify(panel.id_column)}), each with its own scaling: pick one series (seriesCheckpoint, or --series ID on the command line)`,
    );
  }
  const hybrid = checkpoint.meta.hybrid !== undefined ? buildHybrid(checkpoint, source) : null;
  const ets = checkpoint.meta.ets ?? null;
  const arima = checkpoint.meta.arima ?? null;
  const model = hybrid === null && ets === null && arima === null ? buildModel(checkpoint, source) : null;
  const d = checkpoint.meta.data;
  const spec: PipelineSpec = {
    scaler: checkpointScaler(checkpoint),
    targetIndex: d.target_index,
    lookback: d.lookback,
    horizon: d.horizon,
    windowNorm: d.window_norm,
  };
  return { checkpoint, model, hybrid, ets, arima, spec };
}

/**
 * Checks that a series has the checkpoint's columns in its order (select them with `seriesSpecOf`) and
 * the same date step; the message lists both sides.
 */
export function checkSeriesFits(f: Forecaster, series: Series, source = "the CSV"): void {
  const want = f.checkpoint.meta.data.columns;
  if (series.columns.length !== want.length || series.columns.some((c, i) => c !== want[i])) {
    throw new CheckpointError(
      `the checkpoint's model reads columns ${want.join(", ")} but ${source} gave ${series.columns.join(", ")}`,
    );
  }
}

/** The options that select the checkpoint's columns from a CSV, as `prepareSeries` takes them. */
export function seriesSpecOf(ckpt: ForecastCheckpoint): {
  target: string;
  features: string[];
  dateColumn: string | false | undefined;
} {
  const d = ckpt.meta.data;
  return { target: d.target, features: [...d.columns], dateColumn: d.date_column ?? undefined };
}

export interface ForecastOutput {
  /** The forecast values, in the target's units. */
  values: Float32Array;
  /** Their dates, written as the series writes them, or null without dates. */
  dates: string[] | null;
  /** How many steps came from feeding forecasts back (0 when steps <= the trained horizon). */
  recursiveSteps: number;
  /** 80 % and 95 % prediction intervals (hybrid models; null for the LSTM). */
  intervals: IntervalBand[] | null;
}

/**
 * Forecasts `steps` values after the end of `series` (default: the trained horizon). More steps than
 * the horizon are reached by appending each forecast block to the history and forecasting again, which
 * only a univariate model can do (others would need future values of their other inputs).
 */
export function forecastSeries(f: Forecaster, series: Series, steps?: number): ForecastOutput {
  checkSeriesFits(f, series);
  const { lookback: L, horizon: H } = f.spec;
  const n = steps ?? H;
  if (!Number.isInteger(n) || n < 1)
    throw new ForecastError(`the number of steps must be a positive integer, got ${n}`);
  const [T, F] = series.shape;
  if (T < L) {
    throw new ForecastError(
      `series too short: the model reads the last ${L} rows (its lookback) but the series has ${T}`,
    );
  }
  if (n > H && F > 1) {
    const others = series.columns.filter((_, i) => i !== f.spec.targetIndex);
    throw new ForecastError(
      `this model forecasts ${H} step(s) at once and reads ${F} columns; going beyond ${H} steps would need future values of ${others.join(", ")}, which it does not forecast. Ask for ${H} steps or fewer (or train a univariate model, or one with a longer horizon)`,
    );
  }
  // The dates first: a horizon that runs past what the date format can write is refused before any work.
  const times = forecastTimes(f, series, n);
  if (f.hybrid !== null || f.ets !== null || f.arima !== null)
    return withDates(f, series, times, hybridSeries(f, series, n));
  // Work on the last L rows only, growing them with forecasts when needed.
  let hist = Float32Array.from(series.data.subarray((T - L) * F, T * F)); // (L', F)
  const out = new Float32Array(n);
  let done = 0;
  while (done < n) {
    const rows = hist.length / F;
    const scaled = scaleSeries(f.spec, { data: hist, shape: [rows, F] });
    const y = forecastAt(f.model!, f.spec, scaled, [rows]); // (1, H)
    const take = Math.min(H, n - done);
    out.set(y.subarray(0, take), done);
    done += take;
    if (done < n) {
      const grown = new Float32Array(hist.length + H); // univariate here: F = 1
      grown.set(hist);
      grown.set(y, hist.length);
      hist = grown.subarray(grown.length - L);
    }
  }
  return withDates(f, series, times, {
    values: out,
    dates: null,
    recursiveSteps: Math.max(0, n - H),
    intervals: null,
  });
}

/** Hybrid or ETS forecasts with intervals from each origin (null for the LSTM). */
function withIntervalsAt(
  f: Forecaster,
  values: ArrayLike<number>,
  dates: readonly number[] | null,
  origins: readonly number[],
): ReturnType<typeof hybridForecastAt> | null {
  const H = f.spec.horizon;
  if (f.hybrid !== null) {
    const fc = hybridForecastAt(f.hybrid, f.checkpoint.meta.hybrid!, values, dates, origins);
    checkBandForecasts(fc, "the hybrid model", H, origins);
    return fc;
  }
  if (f.ets !== null) {
    const fc = etsForecastAt(f.ets, values, origins, H);
    checkBandForecasts(fc, f.ets.spec, H, origins);
    return fc;
  }
  if (f.arima !== null) {
    const fc = arimaForecastAt(f.arima, values, origins, H);
    checkBandForecasts(fc, f.arima.spec, H, origins);
    return fc;
  }
  return null;
}

/**
 * Rows of history the hybrid's (or ETS's) forecasts may read in all, summed over the blocks fed back:
 * each block of H steps re-runs the model over the whole series (about a microsecond a row, per member).
 */
export const FEEDBACK_ROW_BUDGET = 2_000_000;

/** The most steps a forecast from T rows can make in blocks of H within FEEDBACK_ROW_BUDGET. */
function feedbackLimit(T: number, H: number, members: number): number {
  // block b (from 0) reads T + b·H rows: B blocks read B·T + H·B(B-1)/2 rows, times the members
  const rows = (B: number) => members * (B * T + (H * B * (B - 1)) / 2);
  let lo = 1; // fits (one block always runs)
  let hi = 2;
  while (rows(hi) <= FEEDBACK_ROW_BUDGET) hi *= 2;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (rows(mid) <= FEEDBACK_ROW_BUDGET) lo = mid;
    else hi = mid;
  }
  return lo * H;
}

/** The hybrid's (or ETS's) forecast of n steps: the whole series feeds its smoothing; blocks past H fed back. */
function hybridSeries(f: Forecaster, series: Series, n: number): ForecastOutput {
  const H = f.spec.horizon;
  const most = feedbackLimit(series.shape[0], H, f.hybrid?.config.members ?? 1);
  if (n > most) {
    throw new ForecastError(
      `a forecast of ${n} steps from this ${f.hybrid !== null ? "hybrid" : f.ets !== null ? "ETS" : "ARIMA"} model would feed ${Math.ceil(n / H)} blocks of ${H} forecasts back, each re-running it over the whole series of ${series.shape[0]}+ rows. Ask for ${most} steps or fewer`,
    );
  }
  let values = column(series, f.spec.targetIndex);
  const out = new Float32Array(n);
  const bands = [0, 1].map(() => ({ lower: new Float32Array(n), upper: new Float32Array(n) }));
  let levels: number[] = [];
  // the distances from the point to each bound at the last trained step, for steps past the horizon
  let last: { lo: number; hi: number }[] = [];
  let done = 0;
  while (done < n) {
    const fc = withIntervalsAt(f, values, series.dates, [values.length])!;
    levels = fc.bands.map((b) => b.level);
    if (done === 0)
      last = fc.bands.map((b) => ({
        lo: fc.point[H - 1] - b.lower[H - 1],
        hi: b.upper[H - 1] - fc.point[H - 1],
      }));
    const take = Math.min(H, n - done);
    for (let h = 0; h < take; h++) {
      const k = done + h;
      out[k] = fc.point[h];
      fc.bands.forEach((b, i) => {
        // past the trained horizon: the last trained step's band, widened by the square root of the distance
        const widen = Math.sqrt((k + 1) / H);
        bands[i].lower[k] = done === 0 ? b.lower[h] : fc.point[h] - last[i].lo * widen;
        bands[i].upper[k] = done === 0 ? b.upper[h] : fc.point[h] + last[i].hi * widen;
      });
    }
    done += take;
    if (done < n) {
      const grown = new Float32Array(values.length + H);
      grown.set(values);
      grown.set(fc.point, values.length);
      values = grown;
    }
  }
  return {
    values: out,
    dates: null,
    recursiveSteps: Math.max(0, n - H),
    intervals: bands.map((b, i) => ({ level: levels[i], lower: b.lower, upper: b.upper })),
  };
}

/**
 * The times of the n forecast steps, continued from the series' dates (null without dates). A horizon that
 * runs past what the date format can write is refused, with the largest horizon that fits.
 */
function forecastTimes(f: Forecaster, series: Series, n: number): number[] | null {
  if (series.dates === null || series.dates.length === 0) return null;
  const step = f.checkpoint.meta.data.date_step ?? undefined;
  if (step === undefined && series.dates.length < 2) return null;
  const next = dateStepper(series.dates, step ?? inferStep(series.dates));
  const last = series.dates[series.dates.length - 1];
  const fits = (k: number) => next(last, k) <= MAX_WRITABLE_TIME;
  if (!fits(n)) {
    let lo = 0; // fits
    let hi = n; // does not
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (fits(mid)) lo = mid;
      else hi = mid;
    }
    const fmt = series.dateFormat ?? f.checkpoint.meta.data.date_format ?? undefined;
    throw new ForecastError(
      `a forecast of ${n} steps after ${formatDate(last, fmt)} would run past 9999-12-31, the last date the series' format can write (years have 4 digits). ${lo === 0 ? "No step fits" : `Ask for ${lo} steps or fewer`}`,
    );
  }
  return Array.from({ length: n }, (_, k) => next(last, k + 1));
}

/** The forecast with its dates. */
function withDates(
  f: Forecaster,
  series: Series,
  times: number[] | null,
  fc: ForecastOutput,
): ForecastOutput {
  let dates: string[] | null = null;
  if (times !== null) {
    const fmt = series.dateFormat ?? f.checkpoint.meta.data.date_format ?? undefined;
    dates = times.map((t) => formatDate(t, fmt));
  }
  return { ...fc, dates };
}

export interface EvaluateOptions {
  /** Season length for seasonal naive and MASE. */
  season: number;
  /** Origins advance by this many steps. Default 1. */
  stride?: number;
  /**
   * Score the first `horizon` steps only (<= the trained horizon). Default: the trained horizon, or
   * the test part's length where that is shorter (a short series' test part can be: `horizonCut`).
   */
  horizon?: number;
}

export interface Evaluation extends BacktestResult {
  /** First row of the test part in this series. */
  testStart: number;
  horizon: number;
  /** Whether `horizon` is the test part's length because it is shorter than the trained horizon. */
  horizonCut: boolean;
  season: number;
  stride: number;
  /** The dates of the origins, when the series has dates. */
  originDates: string[] | null;
  /** Share of held-out points inside each prediction interval (hybrid models; null for the LSTM). */
  coverage: { level: number; coverage: number }[] | null;
}

/**
 * Finds the first test row of the checkpoint's split in `series`: by the stored date when both have
 * dates (so a longer, updated file works), otherwise by row number.
 */
export function testStartIn(ckpt: ForecastCheckpoint, series: Series): number {
  const s = ckpt.meta.split;
  const nTest = s.test_range[1] - s.test_range[0];
  if (nTest === 0) {
    throw new ForecastError(
      "the checkpoint's split has no test part (it was trained with test 0), so there is nothing held out to evaluate on",
    );
  }
  if (s.test_start_date !== null && series.dates !== null) {
    const fmt = series.dateFormat ?? undefined;
    const i = series.dates.findIndex((d) => formatDate(d, fmt) === s.test_start_date);
    if (i < 0) {
      throw new ForecastError(
        `the checkpoint's test part starts at ${s.test_start_date}, a date this CSV does not have (it runs from ${formatDate(series.dates[0], fmt)} to ${formatDate(series.dates[series.dates.length - 1], fmt)})`,
      );
    }
    return i;
  }
  const start = s.test_range[0];
  if (series.shape[0] !== s.rows) {
    throw new ForecastError(
      `the checkpoint was trained on ${s.rows} rows with the test part from row ${start}, but this series has ${series.shape[0]} rows and no dates to line them up by`,
    );
  }
  return start;
}

/** Rolling-origin backtest of the checkpoint on its test part, beside naive and seasonal naive. */
export function evaluateForecaster(f: Forecaster, series: Series, options: EvaluateOptions): Evaluation {
  checkSeriesFits(f, series);
  const given = options.horizon;
  if (given !== undefined && (!Number.isInteger(given) || given < 1 || given > f.spec.horizon)) {
    throw new ForecastError(
      `the evaluation horizon must be an integer in [1, ${f.spec.horizon}] (the trained horizon), got ${given}`,
    );
  }
  const stride = options.stride ?? 1;
  const m = options.season;
  const testStart = testStartIn(f.checkpoint, series);
  const T = series.shape[0];
  // a test part shorter than the trained horizon (a short series' 15 %) is scored over its own length
  // from its first row, the last-horizon-held-out protocol; a horizon asked for is kept as asked
  const horizonCut = given === undefined && testStart + f.spec.horizon > T && T > testStart;
  const H = given ?? (horizonCut ? T - testStart : f.spec.horizon);
  if (testStart + H > T) {
    throw new ForecastError(
      `the test part (rows ${testStart} to ${T}) is shorter than the horizon ${H}: nothing to evaluate${T > testStart ? ` (ask for a horizon of ${T - testStart} or less)` : ""}`,
    );
  }
  if (testStart < f.spec.lookback) {
    throw new ForecastError(
      `the test part starts at row ${testStart}, before the model's lookback of ${f.spec.lookback} rows is available`,
    );
  }
  const origins: number[] = [];
  for (let o = testStart; o + H <= T; o += stride) origins.push(o);
  let all: Float32Array; // (W, Htrained)
  let coverage: Evaluation["coverage"] = null;
  const Ht = f.spec.horizon;
  const target = column(series, f.spec.targetIndex);
  const fc = withIntervalsAt(f, target, series.dates, origins);
  if (fc !== null) {
    all = fc.point;
    coverage = fc.bands.map((b) => {
      let inside = 0;
      origins.forEach((o, w) => {
        for (let h = 0; h < H; h++) {
          const y = target[o + h];
          if (y >= b.lower[w * Ht + h] && y <= b.upper[w * Ht + h]) inside++;
        }
      });
      return { level: b.level, coverage: inside / (origins.length * H) };
    });
  } else {
    all = forecastAt(f.model!, f.spec, scaleSeries(f.spec, series), origins);
  }
  const byOrigin = new Map<number, Float32Array>();
  origins.forEach((o, w) => {
    byOrigin.set(o, all.slice(w * Ht, w * Ht + H));
  });
  const r = rollingOriginBacktest({
    series: target,
    testStart,
    horizon: H,
    m,
    stride,
    forecaster: (_history, origin) => {
      const y = byOrigin.get(origin);
      if (y === undefined) throw new ForecastError(`internal: no forecast for origin ${origin}`);
      return y;
    },
  });
  checkScores({
    "the model": r.scores.model,
    naive: r.scores.naive,
    "seasonal naive": r.scores.seasonalNaive,
  });
  const fmt = series.dateFormat ?? undefined;
  return {
    ...r,
    testStart,
    horizon: H,
    horizonCut,
    season: m,
    stride,
    originDates: series.dates === null ? null : r.origins.map((o) => formatDate(series.dates![o], fmt)),
    coverage,
  };
}
