// Harmonic regression with ARIMA errors: the partner combine.ts averages with the hybrid where the hybrid
// learns a long Fourier season (yearly in daily data, weekly in hourly data). Exponential smoothing
// cannot hold such a season (forecast::ets takes at most 24 steps), so ETS there models only the short
// one; a regression on the same Fourier terms with autocorrelated errors (Hyndman & Athanasopoulos,
// "Forecasting: Principles and Practice", dynamic harmonic regression) holds both the long season and
// the weather-like persistence around it.
//
// The model, for the series y at times t (the hybrid's time axis: steps since the epoch or row numbers):
//   y_t = b_0 + Σ_j b_j f_j(t) + u_t,   f = the Fourier terms sin/cos(2πk t / P), k = 1..K
//   u ~ ARIMA(p, d, q), chosen by autoArima (classical/arima.ts) on the regression's residuals.
// Fitted in two stages: d from KPSS (ndiffs) on the residuals of an ordinary least-squares fit of the
// largest K; then for each K, b by least squares on the series and the terms differenced d times (with a
// drift column when d ≥ 1; b_0 then makes u's mean zero over the fit rows) — what forecast::Arima does
// with regressors, which differences them with the series — and the ARIMA on u by autoArima with that
// d. K runs from 1 to the hybrid's harmonics of each period (the same K for all) and is the one with the
// lowest AICc, counting the 2K regression coefficients beside the ARIMA's parameters. (On Seattle's
// daily temperature, b from the undifferenced series fits worse: AICc 2824 against 2813.)
//
// Forecasts from an origin o: u up to o from the stored b, the ARIMA's forecast of u with its stored
// parameters, plus the regression at the forecast times. The intervals are the ARIMA's (the regression
// coefficients taken as known).

import {
  type ArimaOrder,
  type ArimaParams,
  ArimaError,
  arimaForecast,
  arimaRowsNeeded,
  arimaSpec,
  type autoArima,
  autoArimaSteps,
  ndiffs,
  difference,
  runToEnd,
} from "../classical/arima.js";
import { leastSquares } from "../classical/stats.js";
import { CheckpointError, ForecastError } from "../errors.js";
import type { HybridForecast } from "./checkpoint.js";
import type { FourierTerm } from "./model.js";
import { emptyForecast } from "./fallback.js";
import { fourierFeatures } from "./ops.js";

/** The `combine.arima` entry of a hybrid checkpoint: a fitted harmonic regression with ARIMA errors. */
export interface HarmonicArimaJSON {
  /** e.g. "Fourier(365.25, K=2) + ARIMA(2,0,1) with non-zero mean errors". */
  spec: string;
  /** The regression's Fourier terms (periods in steps); empty: the ARIMA alone. */
  terms: FourierTerm[];
  /** b_0, then one coefficient per Fourier column in fourierFeatures' order. */
  coef: number[];
  order: ArimaOrder;
  params: ArimaParams;
  sigma2: number;
  /** Fitted to the logarithms of the series: its forecasts and bounds are their exponentials. */
  log?: boolean;
}

/** The regression b_0 + Σ b_j f_j(t) at each of `times`. */
function regression(meta: Pick<HarmonicArimaJSON, "terms" | "coef">, times: ArrayLike<number>): Float64Array {
  const C = meta.coef.length - 1;
  const f = fourierFeatures(times, meta.terms); // (T, C)
  const out = new Float64Array(times.length);
  for (let t = 0; t < times.length; t++) {
    let s = meta.coef[0];
    for (let j = 0; j < C; j++) s += meta.coef[1 + j] * f[t * C + j];
    out[t] = s;
  }
  return out;
}

/** The spec string of a fitted model. */
function harmonicSpec(terms: readonly FourierTerm[], order: ArimaOrder, withConstant: boolean): string {
  const arima = arimaSpec(order, withConstant);
  if (terms.length === 0) return arima;
  const f = terms.map((t) => `Fourier(${t.period}, K=${t.harmonics})`).join(" + ");
  return `${f} + ${arima} errors`;
}

export interface FitHarmonicOptions {
  /**
   * Without Fourier terms, the season of a seasonal ARIMA (autoArima's m: D by the seasonal strength,
   * the seasonal orders by AICc); 1 or absent: non-seasonal. Ignored with terms, which hold the season.
   */
  season?: number;
  /** Fit the logarithms where rows [0, end) are all positive (the series itself otherwise). */
  log?: boolean;
}

/**
 * Fits the harmonic regression with ARIMA errors on rows [0, end) of `values`, at `times` (at least
 * `end` of them). `terms`: the periods and the most harmonics to try (K = 1.. each one's harmonics);
 * none: an ARIMA of the series (seasonal with `options.season`).
 */
export function fitHarmonicArima(
  values: ArrayLike<number>,
  times: ArrayLike<number>,
  end: number,
  terms: readonly FourierTerm[],
  options: FitHarmonicOptions = {},
): HarmonicArimaJSON {
  return runToEnd(harmonicArimaSteps(values, times, end, terms, options));
}

/** fitHarmonicArima as steps, one per ARIMA candidate fitted (see autoArimaSteps). */
export function* harmonicArimaSteps(
  values: ArrayLike<number>,
  times: ArrayLike<number>,
  end: number,
  terms: readonly FourierTerm[],
  options: FitHarmonicOptions = {},
): Generator<void, HarmonicArimaJSON, void> {
  if (!(Number.isInteger(end) && end > 0 && end <= values.length && end <= times.length))
    throw new ForecastError(`harmonic ARIMA: cannot fit on ${end} rows of a series of ${values.length}`);
  let log = options.log === true;
  for (let t = 0; log && t < end; t++) if (!(values[t] > 0)) log = false;
  const y = Float64Array.from({ length: end }, (_, t) => (log ? Math.log(values[t]) : values[t]));
  const season = terms.length === 0 ? (options.season ?? 1) : 1;
  const tt = Float64Array.from({ length: end }, (_, t) => times[t]);
  const maxK = terms.reduce((a, t) => Math.max(a, t.harmonics), 0);
  const withK = (K: number): FourierTerm[] =>
    terms.map((t) => ({ period: t.period, harmonics: Math.min(K, t.harmonics) }));
  const fitRegression = (ts: FourierTerm[], dd = 0) => {
    const C = 2 * ts.reduce((a, t) => a + t.harmonics, 0);
    const f = fourierFeatures(tt, ts);
    const cols = [new Float64Array(end).fill(1)];
    for (let j = 0; j < C; j++) cols.push(Float64Array.from({ length: end }, (_, t) => f[t * C + j]));
    let coef: number[];
    if (dd === 0) coef = Array.from(leastSquares(cols, y));
    else {
      // the regression of the differenced series on the differenced terms (a drift beside them)
      const dif = (a: Float64Array) => difference(a, dd).subarray(dd);
      const dc = [new Float64Array(end - dd).fill(1), ...cols.slice(1).map(dif)];
      const b = leastSquares(dc, dif(y));
      let m = 0;
      for (let t = 0; t < end; t++) {
        let s = 0;
        for (let j = 0; j < C; j++) s += b[1 + j] * f[t * C + j];
        m += y[t] - s;
      }
      coef = [m / end, ...Array.from(b.subarray(1))];
    }
    const reg = regression({ terms: ts, coef }, tt);
    return { coef, u: Float64Array.from(y, (v, t) => v - reg[t]) };
  };
  // d once, from the most complete regression's residuals, so the AICc of every K compares like with like
  // (with a season, autoArima takes D and then d itself)
  const d = season > 1 ? undefined : ndiffs(fitRegression(withK(maxK)).u);
  let best: { meta: HarmonicArimaJSON; aicc: number } | null = null;
  let why = "";
  for (let K = maxK === 0 ? 0 : 1; K <= maxK; K++) {
    const ts = K === 0 ? [] : withK(K);
    const { coef, u } = fitRegression(ts, d ?? 0);
    let fit: ReturnType<typeof autoArima>;
    try {
      fit = yield* autoArimaSteps(u, season > 1 ? { m: season } : { d });
    } catch (e) {
      if (!(e instanceof ArimaError)) throw e;
      why = e.message;
      continue;
    }
    // AICc with the regression's coefficients counted (b_0 is the ARIMA's mean or vanishes with d ≥ 1)
    const { p, q } = fit.order;
    const k =
      p + q + (fit.order.P ?? 0) + (fit.order.Q ?? 0) + (fit.withConstant ? 1 : 0) + 1 + (coef.length - 1);
    const n = end - fit.order.d - (fit.order.m ?? 1) * (fit.order.D ?? 0);
    const aicc = n * Math.log(fit.sigma2) + 2 * k + (2 * k * (k + 1)) / Math.max(1, n - k - 1);
    if (best === null || aicc < best.aicc) {
      best = {
        aicc,
        meta: {
          spec: harmonicSpec(ts, fit.order, fit.withConstant),
          terms: ts,
          coef,
          order: fit.order,
          params: fit.params,
          sigma2: fit.sigma2,
        },
      };
    }
  }
  if (best === null)
    throw new ForecastError(
      `${terms.length > 0 ? "harmonic " : ""}ARIMA: none could be fitted on ${end} rows (${why})`,
    );
  return log ? { ...best.meta, spec: `${best.meta.spec} of logs`, log: true } : best.meta;
}

/**
 * Forecasts (N, H) and 80 / 95 % intervals from each origin, with the stored parameters: the residuals
 * of rows [0, origin) run through the ARIMA. `times` must reach every origin + H.
 */
export function harmonicForecastAt(
  meta: HarmonicArimaJSON,
  values: ArrayLike<number>,
  times: ArrayLike<number>,
  origins: readonly number[],
  H: number,
): HybridForecast {
  const last = origins.reduce((a, o) => Math.max(a, o), 0);
  if (times.length < last + H)
    throw new ForecastError(`harmonic ARIMA: ${times.length} times for forecasts up to row ${last + H}`);
  const reg = regression(meta, times);
  const n0 = Math.min(values.length, last);
  const y = (t: number) => (meta.log ? Math.log(values[t]) : values[t]);
  const u = Float64Array.from({ length: n0 }, (_, t) => y(t) - reg[t]);
  if (meta.log) {
    const bad = u.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0)
      throw new ForecastError(`${meta.spec} needs a positive series, but row ${bad} is ${values[bad]}`);
  }
  const back = (v: number) => (meta.log ? Math.exp(v) : v);
  const { point, bands } = emptyForecast(origins.length, H);
  const need = arimaRowsNeeded(meta.order);
  origins.forEach((o, n) => {
    if (!(Number.isInteger(o) && o > need && o <= values.length))
      throw new ForecastError(
        `harmonic ARIMA needs more than ${need} rows before an origin; origin ${o} of ${values.length} rows`,
      );
    const fc = arimaForecast(u.subarray(0, o), meta.order, meta.params, meta.sigma2, H);
    for (let h = 0; h < H; h++) point[n * H + h] = back(fc.mean[h] + reg[o + h]);
    for (const b of bands) {
      const lo = fc.lower(b.level * 100);
      const hi = fc.upper(b.level * 100);
      for (let h = 0; h < H; h++) {
        b.lower[n * H + h] = back(lo[h] + reg[o + h]);
        b.upper[n * H + h] = back(hi[h] + reg[o + h]);
      }
    }
  });
  return { point, bands };
}

const isFiniteNum = (x: unknown): x is number => typeof x === "number" && Number.isFinite(x);

/** Checks a `combine.arima` entry; the message names what is wrong. */
export function checkHarmonicMeta(j: unknown, source: string): HarmonicArimaJSON {
  const bad = (msg: string) =>
    new CheckpointError(`${source}: the checkpoint is damaged: recurrent.hybrid.combine.arima ${msg}`);
  if (j === null || typeof j !== "object") throw bad("is not an object");
  const a = j as HarmonicArimaJSON;
  if (typeof a.spec !== "string") throw bad("has no spec");
  if (
    !Array.isArray(a.terms) ||
    !a.terms.every(
      (t) =>
        t !== null &&
        typeof t === "object" &&
        isFiniteNum(t.period) &&
        t.period > 1 &&
        Number.isInteger(t.harmonics) &&
        t.harmonics >= 1 &&
        t.harmonics <= 50,
    )
  )
    throw bad("terms should be a list of {period > 1, harmonics 1..50}");
  const C = 2 * a.terms.reduce((s, t) => s + t.harmonics, 0);
  if (!Array.isArray(a.coef) || a.coef.length !== C + 1 || !a.coef.every(isFiniteNum))
    throw bad(`coef should be ${C + 1} finite numbers (an intercept and one per Fourier column)`);
  const o = a.order;
  const small = (x: unknown, max: number) =>
    Number.isInteger(x) && (x as number) >= 0 && (x as number) <= max;
  const opt = (x: unknown, max: number) => x === undefined || small(x, max);
  if (
    o === null ||
    typeof o !== "object" ||
    !small(o.p, 10) ||
    !small(o.d, 2) ||
    !small(o.q, 10) ||
    !opt(o.P, 2) ||
    !opt(o.D, 1) ||
    !opt(o.Q, 2) ||
    !(o.m === undefined || (small(o.m, 366) && o.m >= 1))
  )
    throw bad(
      "order should be {p: 0..10, d: 0..2, q: 0..10}, with a season {P: 0..2, D: 0..1, Q: 0..2, m: 1..366}",
    );
  const P = (o.m ?? 1) > 1 ? (o.P ?? 0) : 0;
  const Q = (o.m ?? 1) > 1 ? (o.Q ?? 0) : 0;
  const pr = a.params;
  if (
    pr === null ||
    typeof pr !== "object" ||
    !Array.isArray(pr.ar) ||
    pr.ar.length !== o.p ||
    !pr.ar.every(isFiniteNum) ||
    !Array.isArray(pr.ma) ||
    pr.ma.length !== o.q ||
    !pr.ma.every(isFiniteNum) ||
    !isFiniteNum(pr.constant) ||
    !(
      (P === 0 && pr.sar === undefined) ||
      (Array.isArray(pr.sar) && pr.sar.length === P && pr.sar.every(isFiniteNum))
    ) ||
    !(
      (Q === 0 && pr.sma === undefined) ||
      (Array.isArray(pr.sma) && pr.sma.length === Q && pr.sma.every(isFiniteNum))
    )
  )
    throw bad(
      `params should be {ar: ${o.p} numbers, ma: ${o.q} numbers${P + Q > 0 ? `, sar: ${P} numbers, sma: ${Q} numbers` : ""}, constant: a number}`,
    );
  if (!(isFiniteNum(a.sigma2) && a.sigma2 >= 0)) throw bad("sigma2 should be a finite number >= 0");
  if (a.log !== undefined && typeof a.log !== "boolean") throw bad("log should be true or false");
  return a;
}
