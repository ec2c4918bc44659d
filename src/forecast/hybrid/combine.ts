// Forecast combination: the hybrid's forecast averaged with a classical partner's. Combining a few
// different models is the most reliable gain in forecasting (Bates & Granger 1969; the M competitions,
// where equal-weight combinations of exponential smoothing models beat almost every single method): the
// hybrid and a classical model err in different places, so their mean errs less than either on most
// series, and never much more than the worse of the two.
//
// The partner (`train --combine`, CombineKind):
//   "ets"    ETS selected by AICc (forecast::ets's choice, with restarts) on the series.
//   "ets-logs"  the same on the logarithms where the series is positive (the hybrid multiplicative): its
//            forecasts are their exponentials, so growth compounds, as in the hybrid, and the point
//            forecast is the median.
//   "arima"  a harmonic regression on the hybrid's learned Fourier terms with ARIMA errors (harmonic.ts):
//            the long season (yearly in daily data) that ETS, at most 24 steps, cannot hold; without
//            learned terms, a seasonal ARIMA with the hybrid's season. Of the logarithms where the
//            hybrid is multiplicative.
//   "ets-arima"  both of the last two, each fitted as above: the combination is the mean of three
//            forecasts, the hybrid's, ETS's and ARIMA's (the hybrid's weight 1/3, the partners' mean
//            2/3). The classical pair is the combination forecasters compare with (Hyndman's "comb" of
//            ETS, ARIMA and more); on the bench:forecast panel it lowers the mean MASE of the monthly
//            and quarterly series under both protocols against either partner alone.
//   "auto"   (the default) "arima" where the hybrid learns a Fourier season (there ETS, holding only the
//            week, makes the combination worse), else "ets-arima".
//
// How it is fitted (N = validation windows, H = horizon):
//   1. The partner is fitted on the training rows, as the hybrid's members are trained on them.
//   2. Both forecast every validation origin; the combination is weight · hybrid + (1 − weight) · partner
//      (two partners: their mean).
//   3. The intervals are normalized split-conformal (Lei et al. 2018, "locally weighted" scores) on the
//      combination's own validation residuals e (log ratios for a multiplicative series): each step h
//      has a scale σ_h, the mean |e| at that step (made non-decreasing in h: errors grow further ahead);
//      the scores e / σ_h of all steps are pooled, and the band at step h is σ_h times their 2.5, 10,
//      90 and 97.5 % quantiles (with the (n + 1) correction). Pooling gives N·H scores instead of N per
//      step, so a short validation part no longer makes the 80 % band the residuals' full range.
//   4. The partner is refitted on the training and validation rows (everything before the test part):
//      that is the one the checkpoint keeps, and that forecasts at every later origin with its
//      parameters kept and its filter (ETS) or residual recursion (ARIMA) run on.

import type { EtsMetaJSON } from "./fallback.js";
import { etsForecastAt, fitEtsMeta } from "./fallback.js";
import { ForecastError } from "../errors.js";
import { ArimaError, arimaRowsNeeded, runToEnd } from "../classical/arima.js";
import { type HarmonicArimaJSON, harmonicArimaSteps, harmonicForecastAt } from "./harmonic.js";
import { type HybridConfig, hybridInputs, rowTimes } from "./model.js";
import {
  type CombineKind,
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
  yieldToEventLoop,
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

/**
 * The `combine` entry of a hybrid checkpoint's metadata: `ets`, `arima` or both (the partner is then
 * their mean).
 */
export interface HybridCombineJSON {
  /** ETS fitted on the rows before the test part. */
  ets?: EtsMetaJSON;
  /** A harmonic regression with ARIMA errors (or a plain seasonal ARIMA) fitted on them. */
  arima?: HarmonicArimaJSON;
  /** The hybrid's weight; the partner has 1 − weight. */
  weight: number;
  /** Split-conformal residual quantiles of the combination (the hybrid's own stay in `intervals`). */
  intervals: HybridIntervals;
  /** The combination's MASE on the validation windows (the partner there fitted on the training rows). */
  val_mase: number | null;
  /** The partner alone (two: their mean) on the same windows, for the record (files written before
   * "arima" partners called it ets_val_mase). */
  partner_val_mase?: number | null;
}

/**
 * The partner's name, e.g. "ETS(A,N,A)", "Fourier(365.25, K=2) + ARIMA(1,1,2) errors" or, for two,
 * "ETS(A,A,A) of logs and ARIMA(0,1,1)(0,1,1)[12] of logs".
 */
export function partnerSpec(c: Pick<HybridCombineJSON, "ets" | "arima">): string {
  const names = [c.ets?.spec, c.arima?.spec].filter((n) => n !== undefined);
  return names.length > 0 ? names.join(" and ") : "nothing";
}

/**
 * The partner's point forecasts (N, H) in the series' units from each origin, with its stored
 * parameters: the mean of ETS's and ARIMA's where the combination holds both.
 */
export function partnerPointAt(
  c: Pick<HybridCombineJSON, "ets" | "arima">,
  config: HybridConfig,
  values: ArrayLike<number>,
  dates: readonly number[] | null,
  origins: readonly number[],
): Float32Array {
  const H = config.horizon;
  const parts: Float32Array[] = [];
  if (c.arima !== undefined) {
    const times = rowTimes(config, dates, values.length, H);
    parts.push(harmonicForecastAt(c.arima, values, times, origins, H).point);
  }
  if (c.ets !== undefined) parts.push(etsForecastAt(c.ets, values, origins, H).point);
  if (parts.length === 0) throw new ForecastError("the combination has no partner (neither ets nor arima)");
  if (parts.length === 1) return parts[0];
  return parts[0].map((v, i) => (v + parts[1][i]) / 2);
}

/** A trained hybrid and, unless `combine` is "none", its combination with a partner. */
export interface CombinedTrainResult extends HybridTrainResult {
  combine: HybridCombineJSON | null;
}

/** Trains the hybrid (train.ts) and, unless `options.combine` is "none", fits and calibrates its partner. */
export async function trainHybridCombined(
  series: HybridSeriesInfo,
  options: HybridOptions,
  hooks: HybridHooks = {},
): Promise<CombinedTrainResult> {
  const r = await trainHybrid(series, options, hooks);
  if (options.combine === "none" || r.interrupted) return { ...r, combine: null };
  const t0 = performance.now();
  const kind = partnerKind(r.config, options.combine);
  const logs = r.config.mode === "multiplicative" ? " of the logarithms" : "";
  const arimaName =
    r.config.learnedTerms.length > 0
      ? `a harmonic regression with ARIMA errors (Fourier period ${r.config.learnedTerms.map((t) => t.period).join("/")})${logs}`
      : `${r.config.season > 1 ? `a seasonal ARIMA (season ${r.config.season})` : "an ARIMA"}${logs}`;
  hooks.onPartner?.(
    kind === "arima"
      ? arimaName
      : kind === "ets-arima"
        ? `ETS${logs} and ${arimaName}`
        : kind === "ets-logs"
          ? "ETS of the logarithms"
          : "ETS",
  );
  // a step per candidate fit, the event loop between them: a stop asked for (Ctrl-C) is seen within a
  // fit, and the hybrid is kept alone, as when training is stopped
  const steps = combineSteps(r, series, options.combine, undefined, hooks.onPartnerNote);
  let step = steps.next();
  while (!step.done) {
    await yieldToEventLoop();
    if (hooks.shouldStop?.()) return { ...r, interrupted: true, combine: null };
    step = steps.next();
  }
  return { ...r, combine: step.value, seconds: r.seconds + (performance.now() - t0) / 1000 };
}

/** The partner a kind names for this hybrid ("auto" resolved, "ets-logs" only for a positive series). */
export function partnerKind(
  config: HybridConfig,
  kind: Exclude<CombineKind, "none">,
): "ets" | "ets-logs" | "arima" | "ets-arima" {
  if (kind === "auto") return config.learnedTerms.length > 0 ? "arima" : "ets-arima";
  if (kind === "ets-logs") return config.mode === "multiplicative" ? "ets-logs" : "ets";
  return kind;
}

/**
 * Fits the partner of a trained hybrid and calibrates the combination on the validation windows
 * (see the top of this file). The hybrid's weight defaults to an equal share (1/3 beside two partners).
 */
export function combineWith(
  r: HybridTrainResult,
  series: HybridSeriesInfo,
  kind: Exclude<CombineKind, "none"> = "auto",
  weight?: number,
): HybridCombineJSON {
  return runToEnd(combineSteps(r, series, kind, weight));
}

/**
 * combineWith as steps, one per ARIMA candidate fitted (ETS's fit is one step), so a caller can stop.
 * An ARIMA that cannot be fitted (e.g. a series that its differences make exactly zero) is left out, ETS
 * taking its place, and `onNote` says so.
 */
export function* combineSteps(
  r: HybridTrainResult,
  series: HybridSeriesInfo,
  kind: Exclude<CombineKind, "none"> = "auto",
  weight?: number,
  onNote?: (text: string) => void,
): Generator<void, HybridCombineJSON, void> {
  const c = r.config;
  const H = c.horizon;
  const T = series.values.length;
  const { train, val } = r.split;
  const period = Math.max(1, c.season);
  let which = partnerKind(c, kind);
  const times = rowTimes(c, series.dates, T, H);
  const log = c.mode === "multiplicative";
  // the ARIMA fitted on rows [0, end); where none can be, the early fit's (the partners stay those
  // calibrated), else null and ETS alone from then on
  function* fitArima(
    end: number,
    early: HarmonicArimaJSON | undefined,
  ): Generator<void, HarmonicArimaJSON | null, void> {
    try {
      return yield* harmonicArimaSteps(series.values, times, end, c.learnedTerms, { season: c.season, log });
    } catch (e) {
      if (!(e instanceof ForecastError || e instanceof ArimaError)) throw e;
      if (early !== undefined) {
        onNote?.(`${e.message}; keeping the ARIMA fitted on the training rows`);
        return early;
      }
      which = partnerKind(c, "ets-logs");
      onNote?.(`${e.message}; averaging with ETS${which === "ets-logs" ? " of the logarithms" : ""} alone`);
      return null;
    }
  }
  function* fitPartner(
    end: number,
    early: HarmonicArimaJSON | undefined,
  ): Generator<void, Pick<HybridCombineJSON, "ets" | "arima">, void> {
    const out: Pick<HybridCombineJSON, "ets" | "arima"> = {};
    if (which === "arima" || which === "ets-arima") {
      const a = yield* fitArima(end, early);
      if (a !== null) out.arima = a;
    }
    if (which !== "arima") {
      const logs = which === "ets-logs" || (which === "ets-arima" && log);
      out.ets = fitEtsMeta(series.values.subarray(0, end), period, COMBINE_ETS_RESTARTS, logs).meta;
      yield;
    }
    return out;
  }
  const inp = hybridInputs(c, series.values, times);
  const va = maskedWindows(inp.y, val.start, val.end, c.lookback, H);
  let intervals = r.intervals;
  let valMase: number | null = null;
  let partnerValMase: number | null = null;
  // after a refit the network has seen the validation rows: its residuals there would flatter it
  const early = va.origins.length > 0 && !r.refit ? yield* fitPartner(train.end, undefined) : null;
  // the hybrid's equal share among the partners (those of the early fit, which the final one keeps)
  const shareOf = (p: Pick<HybridCombineJSON, "ets" | "arima">) =>
    weight ?? (p.ets !== undefined && p.arima !== undefined ? 1 / 3 : 0.5);
  // the origins the partner can forecast from: ETS needs 4 rows, an ARIMA its conditioning rows and one
  const minOrigin = Math.max(
    early?.ets !== undefined ? 4 : 0,
    early?.arima !== undefined ? arimaRowsNeeded(early.arima.order) + 1 : 0,
  );
  const os = va.origins.filter((o) => o >= minOrigin);
  if (early !== null && os.length > 0) {
    const skip = va.origins.length - os.length;
    const sub = (a: Float32Array) => a.subarray(skip * H);
    const target = sub(va.target);
    const mask = sub(va.mask);
    const hyb = ensembleForward(r.net, inp, os, val.end); // (N, H) working units
    const { offset, scale } = c.scale;
    const partner = Float32Array.from(
      partnerPointAt(early, c, series.values.subarray(0, val.end), series.dates, os),
      (v) => (v - offset) / scale,
    );
    const w = shareOf(early);
    const comb = hyb.map((h, i) => w * h + (1 - w) * partner[i]);
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
    partnerValMase = mae(partner);
    const pooled = pooledQuantiles(c.mode, comb, target, mask, H);
    if (pooled.counts.reduce((a, b) => a + b, 0) >= 20) intervals = { ...pooled, source: "validation" };
  }
  const partner = yield* fitPartner(val.end, early?.arima);
  return {
    ...partner,
    weight: shareOf(partner),
    intervals,
    val_mase: valMase,
    partner_val_mase: partnerValMase,
  };
}

/**
 * The combination with ETS (`logs`: of the logarithms where the hybrid is multiplicative), as
 * bench/forecast-weights.ts compares weights on it.
 */
export function combineWithEts(
  r: HybridTrainResult,
  series: HybridSeriesInfo,
  weight = 0.5,
  logs = false,
): HybridCombineJSON {
  return combineWith(r, series, logs ? "ets-logs" : "ets", weight);
}
