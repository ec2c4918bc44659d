// Forecast combination: the hybrid's forecast averaged with ETS's. Combining a few different models is
// the most reliable gain in forecasting (Bates & Granger 1969; the M competitions, where equal-weight
// combinations of exponential smoothing models beat almost every single method): the hybrid and ETS
// err in different places, so their mean errs less than either on most series, and never much more
// than the worse of the two.
//
// How it is fitted (N = validation windows, H = horizon):
//   1. ETS is selected and fitted on the training rows, as the hybrid's members are trained on them.
//      With `logs` (off by default; bench:forecast's column "hybrid+ETS of logs") and a positive series
//      (the hybrid multiplicative), ETS models the logarithms and its forecasts are their exponentials:
//      growth compounds, as in the hybrid, and the point forecast is the median. On the bench:forecast
//      panel that lowers the combination's mean MASE under both protocols, most on exponential growth
//      (Johnson & Johnson), but raises CO2's rolling score and lowers its interval coverage.
//   2. Both forecast every validation origin; the combination is weight · hybrid + (1 − weight) · ETS.
//   3. The intervals are normalized split-conformal (Lei et al. 2018, "locally weighted" scores) on the
//      combination's own validation residuals e (log ratios for a multiplicative series): each step h
//      has a scale σ_h, the mean |e| at that step (made non-decreasing in h: errors grow further ahead);
//      the scores e / σ_h of all steps are pooled, and the band at step h is σ_h times their 2.5, 10,
//      90 and 97.5 % quantiles (with the (n + 1) correction). Pooling gives N·H scores instead of N per
//      step, so a short validation part no longer makes the 80 % band the residuals' full range.
//   4. ETS (with two Nelder–Mead restarts, see FitEtsOptions) is refitted on the training and validation
//      rows (everything before the test part): that is the ETS the checkpoint keeps, and that forecasts
//      at every later origin with its filter run on.

import type { EtsMetaJSON } from "./fallback.js";
import { etsForecastAt, fitEtsMeta } from "./fallback.js";
import { hybridInputs, rowTimes } from "./model.js";
import {
  ensembleForward,
  type HybridHooks,
  type HybridIntervals,
  type HybridOptions,
  type HybridSeriesInfo,
  type HybridTrainResult,
  maskedWindows,
  INTERVAL_QUANTILES,
  maseScale,
  trainHybrid,
} from "./train.js";
import type { SeasonMode } from "./es.js";

/** Nelder–Mead restarts of the ETS partner: better optima than forecast::ets's single run. */
export const COMBINE_ETS_RESTARTS = 2;

/** Empirical quantile with the (n + 1) finite-sample correction of split conformal prediction. */
function quantileOf(sorted: number[], p: number): number {
  const n = sorted.length;
  if (n === 0) return 0;
  const pos = p < 0.5 ? Math.floor(p * (n + 1)) - 1 : Math.ceil(p * (n + 1)) - 1;
  return sorted[Math.max(0, Math.min(n - 1, pos))];
}

/**
 * Normalized split-conformal residual quantiles (see the top of this file): (H, 4) at 2.5, 10, 90,
 * 97.5 % and the residuals per step, from forecasts and targets (N, H) with a mask.
 */
export function pooledQuantiles(
  mode: SeasonMode,
  pred: Float32Array, // (N, H)
  target: Float32Array, // (N, H)
  mask: Float32Array, // (N, H)
  H: number,
): { quantiles: number[][]; counts: number[] } {
  const N = pred.length / H;
  const err = (i: number) =>
    mode === "multiplicative" ? Math.log(target[i] / pred[i]) : target[i] - pred[i];
  const sigma = new Float64Array(H);
  const counts: number[] = [];
  for (let h = 0; h < H; h++) {
    let s = 0;
    let n = 0;
    for (let w = 0; w < N; w++) {
      const i = w * H + h;
      const e = err(i);
      if (mask[i] === 0 || !Number.isFinite(e)) continue;
      s += Math.abs(e);
      n++;
    }
    counts.push(n);
    // a step without residuals takes the step before's scale
    sigma[h] = n > 0 ? s / n : h > 0 ? sigma[h - 1] : 0;
    if (h > 0) sigma[h] = Math.max(sigma[h], sigma[h - 1]);
  }
  const scores: number[] = [];
  for (let w = 0; w < N; w++) {
    for (let h = 0; h < H; h++) {
      const i = w * H + h;
      const e = err(i);
      if (mask[i] === 0 || !Number.isFinite(e) || sigma[h] === 0) continue;
      scores.push(e / sigma[h]);
    }
  }
  scores.sort((a, b) => a - b);
  const q = INTERVAL_QUANTILES.map((p) => quantileOf(scores, p));
  return { quantiles: Array.from(sigma, (sg) => q.map((v) => v * sg)), counts };
}

/** The `combine` entry of a hybrid checkpoint's metadata. */
export interface HybridCombineJSON {
  /** ETS fitted on the rows before the test part. */
  ets: EtsMetaJSON;
  /** The hybrid's weight; ETS has 1 − weight. */
  weight: number;
  /** Split-conformal residual quantiles of the combination (the hybrid's own stay in `intervals`). */
  intervals: HybridIntervals;
  /** The combination's MASE on the validation windows (the ETS there fitted on the training rows). */
  val_mase: number | null;
  /** ETS alone on the same windows, for the record. */
  ets_val_mase: number | null;
}

/** A trained hybrid and, unless `combine` is "none", its combination with ETS. */
export interface CombinedTrainResult extends HybridTrainResult {
  combine: HybridCombineJSON | null;
}

/** Trains the hybrid (train.ts) and, with `options.combine` "ets", fits and calibrates its ETS partner. */
export async function trainHybridCombined(
  series: HybridSeriesInfo,
  options: HybridOptions,
  hooks: HybridHooks = {},
): Promise<CombinedTrainResult> {
  const r = await trainHybrid(series, options, hooks);
  if (options.combine === "none" || r.interrupted) return { ...r, combine: null };
  const t0 = performance.now();
  const c = combineWithEts(r, series);
  return { ...r, combine: c, seconds: r.seconds + (performance.now() - t0) / 1000 };
}

/**
 * Fits the ETS partner of a trained hybrid and calibrates the combination on the validation windows.
 * `logs`: the partner is ETS of the logarithms when the hybrid is multiplicative (see the top of this file).
 */
export function combineWithEts(
  r: HybridTrainResult,
  series: HybridSeriesInfo,
  weight = 0.5,
  logsWanted = false,
): HybridCombineJSON {
  const c = r.config;
  const H = c.horizon;
  const T = series.values.length;
  const { train, val } = r.split;
  const period = Math.max(1, c.season);
  // ETS of the logs only where the hybrid is multiplicative (the series positive)
  const logs = logsWanted && c.mode === "multiplicative";
  const inp = hybridInputs(c, series.values, rowTimes(c, series.dates, T, H));
  const va = maskedWindows(inp.y, val.start, val.end, c.lookback, H);
  const os = va.origins.filter((o) => o >= 4);
  let intervals = r.intervals;
  let valMase: number | null = null;
  let etsValMase: number | null = null;
  // after a refit the network has seen the validation rows: its residuals there would flatter it
  if (os.length > 0 && !r.refit) {
    const { meta: early } = fitEtsMeta(
      series.values.subarray(0, train.end),
      period,
      COMBINE_ETS_RESTARTS,
      logs,
    );
    const skip = va.origins.length - os.length;
    const sub = (a: Float32Array) => a.subarray(skip * H);
    const target = sub(va.target);
    const mask = sub(va.mask);
    const hyb = ensembleForward(r.net, inp, os, val.end); // (N, H) working units
    const { offset, scale } = c.scale;
    const ets = Float32Array.from(
      etsForecastAt(early, series.values, os, H).point,
      (v) => (v - offset) / scale,
    );
    const comb = hyb.map((h, i) => weight * h + (1 - weight) * ets[i]);
    const sc = maseScale(inp.y, train.end, c.season);
    const mae = (p: Float32Array) => {
      let s = 0;
      let n = 0;
      for (let i = 0; i < p.length; i++) {
        if (mask[i] === 0) continue;
        s += Math.abs(p[i] - target[i]);
        n++;
      }
      return n > 0 ? s / n / sc : null;
    };
    valMase = mae(comb);
    etsValMase = mae(ets);
    const pooled = pooledQuantiles(c.mode, comb, target, mask, H);
    if (pooled.counts.reduce((a, b) => a + b, 0) >= 20) intervals = { ...pooled, source: "validation" };
  }
  const { meta } = fitEtsMeta(series.values.subarray(0, val.end), period, COMBINE_ETS_RESTARTS, logs);
  return { ets: meta, weight, intervals, val_mase: valMase, ets_val_mase: etsValMase };
}
