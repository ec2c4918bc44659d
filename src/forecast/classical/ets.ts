// Exponential smoothing state-space models (ETS, Hyndman et al. 2008), fitted by maximum likelihood
// with our Nelder–Mead, with automatic model selection by AICc as R's forecast::ets does it.
// N = series length, m = season length, H = forecast horizon.
//
// API (stable; browser-safe):
//   fitEts(y, { period, model: "MAdM" | "ETS(M,Ad,M)" | "ZZZ"-style, restarts?, ic? }) -> EtsFit   (Z letters: select)
//     restarts: 0 (default) is forecast::ets exactly; 2 restarts Nelder–Mead from each optimum (better fits)
//   autoEts(y, { period, ic?: "aicc" | "aic" | "bic" })                        -> EtsFit   best of the admissible set
//   etsModel(y, type, params, period)                                           -> EtsFit   fixed parameters, no fitting
//   EtsFit: { spec: "ETS(M,Ad,M)", type, period, n, params, loglik, aic, aicc, bic, sigma2, nParams,
//             fitted: Float64Array (one-step forecasts), residuals: Float64Array (y - fitted),
//             innovations: Float64Array (e_t: y - f for additive error, (y - f)/f for multiplicative),
//             candidates (autoEts: every model tried with its AICc),
//             forecast(h, { seed?, paths? }) -> EtsForecast }
//   EtsForecast: { mean: Float64Array (H), method: "analytic" | "simulation",
//                  lower(level): Float64Array, upper(level): Float64Array  (level in percent, e.g. 80, 95) }
//
// Conventions follow forecast::ets: the admissible set is ANN AAN AAdN ANA AAA AAdA MNN MAN MAdN MNA MAA
// MAdA MNM MAM MAdM (no additive error with multiplicative season, no multiplicative trend); models with
// multiplicative error or season need strictly positive data; seasonal models need 2 <= m <= 24.
// Parameters live in the "usual" bounds (1e-4 <= alpha <= 0.9999, 1e-4 <= beta <= alpha,
// 1e-4 <= gamma <= 1 - alpha, 0.8 <= phi <= 0.98) and must also be admissible (a stable state space).
// beta and gamma are the error-correction coefficients (b_t = phi b_{t-1} + beta e_t for additive
// error), the same parametrization as forecast::ets and statsmodels' ETSModel. loglik is the full
// Gaussian log-likelihood with sigma concentrated out, as statsmodels reports it:
//   loglik = -N/2 (log(2 pi SSE/N) + 1) - sum log|f_t| (the last term for multiplicative error only),
// and AICc counts the smoothing parameters, the initial states (level, trend, m - 1 seasonal) and sigma.
// R's ets reports -2 loglik without the constant N (log(2 pi / N) + 1): the same model ranking.
// Intervals: analytic for the linear models (class 1: additive error, additive components) and for
// multiplicative error with additive components (class 2), by the formulas of Hyndman et al. (2008,
// ch. 6); by simulating paths with a seeded generator for multiplicative seasonality (class 3).

import { nelderMead } from "./optim.js";
import {
  NormalRng,
  decompose,
  leastSquares,
  lineFit,
  qnorm,
  quantileSorted,
  rootsInUnitDisk,
} from "./stats.js";

export type EtsErrorType = "A" | "M";
export type EtsTrendType = "N" | "A" | "Ad";
export type EtsSeasonType = "N" | "A" | "M";

export interface EtsType {
  error: EtsErrorType;
  trend: EtsTrendType;
  season: EtsSeasonType;
}

export interface EtsParams {
  alpha: number;
  /** Trend smoothing (0 without a trend). */
  beta: number;
  /** Season smoothing (0 without a season). */
  gamma: number;
  /** Damping (1 unless damped). */
  phi: number;
  /** Initial level l_0. */
  level: number;
  /** Initial trend b_0 (0 without a trend). */
  trend: number;
  /** Initial seasonal states s_{-m+1}, ..., s_0, oldest first (empty without a season). */
  season: number[];
}

export interface EtsForecast {
  mean: Float64Array; // (H)
  method: "analytic" | "simulation";
  /** Lower bound of the central prediction interval at `level` percent. */
  lower(level: number): Float64Array; // (H)
  upper(level: number): Float64Array; // (H)
}

export interface EtsForecastOptions {
  /** Seed of the generator for simulated intervals. Default 42. */
  seed?: number;
  /** Simulated paths for class-3 intervals. Default 5000. */
  paths?: number;
  /** The innovation variance to use instead of the fit's sigma2 (statsmodels uses SSE / N). */
  sigma2?: number;
}

export interface EtsCandidate {
  spec: string;
  aicc: number;
  aic: number;
  bic: number;
}

export interface EtsFit {
  spec: string;
  type: EtsType;
  period: number;
  n: number;
  params: EtsParams;
  loglik: number;
  aic: number;
  aicc: number;
  bic: number;
  /** The innovation variance, SSE / (N - number of estimated parameters), as forecast::ets. */
  sigma2: number;
  /** Estimated parameters, sigma included (what AICc counts). */
  nParams: number;
  fitted: Float64Array; // (N)
  residuals: Float64Array; // (N)
  innovations: Float64Array; // (N)
  /** The final states: level, trend and the last m seasonal states oldest first. */
  finalState: { level: number; trend: number; season: number[] };
  /** Every model autoEts tried, in order, with its criteria (Infinity where it could not be fitted). */
  candidates: EtsCandidate[];
  forecast(h: number, options?: EtsForecastOptions): EtsForecast;
}

export class EtsError extends Error {
  override name = "EtsError";
}

/** "ETS(M,Ad,M)" for a model type. */
export function etsSpec(t: EtsType): string {
  return `ETS(${t.error},${t.trend},${t.season})`;
}

/** Reads "MAdM", "ETS(M,Ad,M)" or "M,Ad,M" (Z for "select", as in R's ets "ZZZ"). */
export function parseEtsModel(text: string): { error: string; trend: string; season: string } {
  const s = text.replace(/^ETS\(|\)$/g, "").replace(/[,\s]/g, "");
  const m = /^([AMZ])(N|A|Ad|Z|Zd)([NAMZ])$/.exec(s);
  if (m === null) {
    throw new EtsError(
      `an ETS model is three letters error/trend/season such as "MAdM", "ANN" or "ZZZ" (error A/M/Z, trend N/A/Ad/Z, season N/A/M/Z), got "${text}"`,
    );
  }
  return { error: m[1], trend: m[2], season: m[3] };
}

const LOWER = [1e-4, 1e-4, 1e-4, 0.8];
const UPPER = [0.9999, 0.9999, 0.9999, 0.98];
const TOL = 1e-10;
const HUGEN = 1e10;

// ---- the filter: one pass over the series with fixed parameters ----

export interface EtsFilterResult {
  /** forecast::ets's objective: N log SSE + 2 sum log|f_t| (multiplicative error). */
  lik: number;
  sse: number;
  sumLogF: number;
  innovations: Float64Array; // (N)
  fitted: Float64Array; // (N)
  level: number;
  trend: number;
  season: Float64Array; // (m) oldest first
}

/**
 * Runs the state equations over `y` from the initial states in `params`, as forecast::ets's C filter:
 * the one-step forecast f_t, the innovation, then the level, trend and season updates written with y.
 * `lik` is Infinity when a forecast is not finite.
 */
export function etsFilter(
  y: ArrayLike<number>,
  type: EtsType,
  params: EtsParams,
  period: number,
  out?: { innovations: Float64Array; fitted: Float64Array },
): EtsFilterResult {
  const n = y.length;
  const seasonal = type.season !== "N";
  const m = seasonal ? period : 1;
  const hasTrend = type.trend !== "N";
  const phi = type.trend === "Ad" ? params.phi : 1;
  const { alpha, beta, gamma } = params;
  const e = out?.innovations ?? new Float64Array(n); // (N)
  const fit = out?.fitted ?? new Float64Array(n); // (N)
  const s = new Float64Array(m); // (m) ring buffer; s[p] is s_{t-m}
  if (seasonal) for (let j = 0; j < m; j++) s[j] = params.season[j];
  let p = 0;
  let l = params.level;
  let b = hasTrend ? params.trend : 0;
  let sse = 0;
  let sumLogF = 0;
  const addSeason = type.season === "A";
  const multError = type.error === "M";
  for (let t = 0; t < n; t++) {
    const phib = hasTrend ? phi * b : 0;
    const q = l + phib;
    const sOld = seasonal ? s[p] : 0;
    const f = seasonal ? (addSeason ? q + sOld : q * sOld) : q;
    if (!Number.isFinite(f)) {
      return {
        lik: Number.POSITIVE_INFINITY,
        sse: Number.NaN,
        sumLogF: Number.NaN,
        innovations: e,
        fitted: fit,
        level: l,
        trend: b,
        season: s,
      };
    }
    const yt = y[t];
    fit[t] = f;
    e[t] = multError ? (yt - f) / f : yt - f;
    sse += e[t] * e[t];
    if (multError) sumLogF += Math.log(Math.abs(f));
    // level
    const pt = seasonal ? (addSeason ? yt - sOld : Math.abs(sOld) < TOL ? HUGEN : yt / sOld) : yt;
    const lNew = q + alpha * (pt - q);
    // trend
    if (hasTrend) b = phib + (beta / alpha) * (lNew - l - phib);
    // season
    if (seasonal) {
      const st = addSeason ? yt - q : Math.abs(q) < TOL ? HUGEN : yt / q;
      s[p] = sOld + gamma * (st - sOld);
      p = p + 1 === m ? 0 : p + 1;
    }
    l = lNew;
  }
  const season = new Float64Array(m); // (m) oldest first
  for (let j = 0; j < m; j++) season[j] = s[(p + j) % m];
  const lik = n * Math.log(sse) + (multError ? 2 * sumLogF : 0);
  return {
    lik: Number.isNaN(lik) ? Number.POSITIVE_INFINITY : lik,
    sse,
    sumLogF,
    innovations: e,
    fitted: fit,
    level: l,
    trend: b,
    season: seasonal ? season : new Float64Array(0),
  };
}

/** The point forecasts h = 1..H from a state (the recursion f_{t+h|t}). */
function pointForecast(
  type: EtsType,
  phi: number,
  level: number,
  trend: number,
  season: ArrayLike<number>,
  h: number,
): Float64Array {
  const out = new Float64Array(h); // (H)
  const damp = type.trend === "Ad" ? phi : 1;
  let phiSum = 0;
  let pw = 1;
  for (let i = 0; i < h; i++) {
    pw *= damp;
    phiSum += pw;
    let f = type.trend === "N" ? level : level + phiSum * trend;
    if (type.season === "A") f += season[i % season.length];
    else if (type.season === "M") f *= season[i % season.length];
    out[i] = f;
  }
  return out;
}

// ---- admissibility (forecast::ets's "both" bounds) ----

function usualOk(type: EtsType, alpha: number, beta: number, gamma: number, phi: number): boolean {
  if (alpha < LOWER[0] || alpha > UPPER[0]) return false;
  if (type.trend !== "N" && (beta < LOWER[1] || beta > alpha || beta > UPPER[1])) return false;
  if (type.trend === "Ad" && (phi < LOWER[3] || phi > UPPER[3])) return false;
  if (type.season !== "N" && (gamma < LOWER[2] || gamma > 1 - alpha || gamma > UPPER[2])) return false;
  return true;
}

/** Whether the parameters give a stable (forecastable) model, by forecast::ets's admissibility tests. */
export function etsAdmissible(
  type: EtsType,
  alpha: number,
  beta: number,
  gamma: number,
  phi: number,
  m: number,
): boolean {
  const ph = type.trend === "Ad" ? phi : 1;
  if (ph < 0 || ph > 1 + 1e-8) return false;
  if (type.season === "N") {
    if (alpha < 1 - 1 / ph || alpha > 1 + 1 / ph) return false;
    if (type.trend !== "N" && (beta < alpha * (ph - 1) || beta > (1 + ph) * (2 - alpha))) return false;
    return true;
  }
  if (m <= 1) return true;
  const bt = type.trend === "N" ? 0 : beta;
  if (gamma < Math.max(1 - 1 / ph - alpha, 0) || gamma > 1 + 1 / ph - alpha) return false;
  if (alpha < 1 - 1 / ph - (gamma * (1 - m + ph + ph * m)) / (2 * ph * m)) return false;
  if (bt < -(1 - ph) * (gamma / m + alpha)) return false;
  // The characteristic polynomial's roots must lie in the unit disk.
  const poly: number[] = [ph * (1 - alpha - gamma), alpha + bt - alpha * ph + gamma - 1];
  for (let i = 0; i < m - 2; i++) poly.push(alpha + bt - alpha * ph);
  poly.push(alpha + bt - ph, 1);
  return rootsInUnitDisk(poly);
}

// ---- initial states (forecast::ets's heuristic, the optimizer's starting point) ----

function initialStates(
  y: ArrayLike<number>,
  type: EtsType,
  m: number,
): { level: number; trend: number; season: number[] } {
  const n = y.length;
  let season: number[] = [];
  let ysa: Float64Array;
  if (type.season !== "N") {
    // The seasonal component over the whole series: classical decomposition, or for fewer than three
    // seasons a line plus one Fourier pair with the rest taken as season (forecast::ets's initstate).
    let seasonal: Float64Array; // (N)
    const x = Float64Array.from(y); // (N)
    if (n < 3 * m) {
      const t = Float64Array.from({ length: n }, (_, i) => i + 1);
      const one = new Float64Array(n).fill(1);
      const sin = Float64Array.from({ length: n }, (_, i) => Math.sin((2 * Math.PI * (i + 1)) / m));
      const cos = Float64Array.from({ length: n }, (_, i) => Math.cos((2 * Math.PI * (i + 1)) / m));
      const c = leastSquares(m === 2 ? [one, t, sin] : [one, t, sin, cos], x);
      seasonal = Float64Array.from({ length: n }, (_, i) =>
        type.season === "A" ? x[i] - c[0] - c[1] * (i + 1) : x[i] / (c[0] + c[1] * (i + 1)),
      );
    } else {
      seasonal = decompose(x, m, type.season === "A" ? "additive" : "multiplicative").seasonal;
    }
    season = Array.from(seasonal.subarray(1, m));
    // season now holds figure[2..m] in R's terms; R's states are its reverse (most recent first).
    season.reverse();
    if (type.season === "M") {
      season = season.map((v) => Math.max(v, 1e-2));
      const sum = season.reduce((a, v) => a + v, 0);
      if (sum > m) {
        const denom = season.reduce((a, v) => a + v + 1e-2, 0);
        season = season.map((v) => v / denom);
      }
      ysa = Float64Array.from(x, (v, i) => v / Math.max(seasonal[i], 1e-2));
    } else {
      ysa = Float64Array.from(x, (v, i) => v - seasonal[i]);
    }
  } else {
    ysa = Float64Array.from(y);
  }
  const mm = type.season === "N" ? 1 : m;
  const maxn = Math.min(Math.max(10, 2 * mm), ysa.length);
  let level: number;
  let trend = 0;
  if (type.trend === "N") {
    level = 0;
    for (let i = 0; i < maxn; i++) level += ysa[i] / maxn;
  } else {
    const fit = lineFit(
      Float64Array.from({ length: maxn }, (_, i) => i + 1),
      ysa.subarray(0, maxn),
    );
    level = fit.intercept;
    trend = fit.slope;
    if (Math.abs(level + trend) < 1e-8) {
      level *= 1 + 1e-3;
      trend *= 1 - 1e-3;
    }
  }
  // R's order: s_0 (most recent) ... s_{m-2}; the last one is implied by the normalization.
  return { level, trend, season };
}

function startingSmoothing(type: EtsType, m: number): number[] {
  const out: number[] = [];
  let alpha = LOWER[0] + (0.2 * (UPPER[0] - LOWER[0])) / m;
  if (alpha > 1 || alpha < 0) alpha = LOWER[0] + 2e-3;
  out.push(alpha);
  if (type.trend !== "N") {
    const up = Math.min(UPPER[1], alpha);
    let beta = LOWER[1] + 0.1 * (up - LOWER[1]);
    if (beta < 0 || beta > alpha) beta = alpha - 1e-3;
    out.push(beta);
  }
  if (type.season !== "N") {
    const up = Math.min(UPPER[2], 1 - alpha);
    let gamma = LOWER[2] + 0.05 * (up - LOWER[2]);
    if (gamma < 0 || gamma > 1 - alpha) gamma = 1 - alpha - 1e-3;
    out.push(gamma);
  }
  if (type.trend === "Ad") {
    let phi = LOWER[3] + 0.99 * (UPPER[3] - LOWER[3]);
    if (phi < 0 || phi > 1) phi = UPPER[3] - 1e-3;
    out.push(phi);
  }
  return out;
}

/** Unpacks the optimizer's vector [alpha, beta?, gamma?, phi?, l0, b0?, s_0..s_{m-2}] into parameters. */
function unpack(type: EtsType, m: number, x: ArrayLike<number>): EtsParams {
  let k = 0;
  const alpha = x[k++];
  const beta = type.trend !== "N" ? x[k++] : 0;
  const gamma = type.season !== "N" ? x[k++] : 0;
  const phi = type.trend === "Ad" ? x[k++] : 1;
  const level = x[k++];
  const trend = type.trend !== "N" ? x[k++] : 0;
  let season: number[] = [];
  if (type.season !== "N") {
    const recentFirst: number[] = [];
    let sum = 0;
    for (let j = 0; j < m - 1; j++) {
      recentFirst.push(x[k + j]);
      sum += x[k + j];
    }
    recentFirst.push((type.season === "M" ? m : 0) - sum);
    season = recentFirst.reverse();
  }
  return { alpha, beta, gamma, phi, level, trend, season };
}

function countParams(type: EtsType, m: number): number {
  let k = 2; // alpha, l0
  if (type.trend !== "N") k += 2;
  if (type.trend === "Ad") k += 1;
  if (type.season !== "N") k += m; // gamma and m - 1 free seasonal states
  return k;
}

// ---- fits ----

function checkSeries(y: ArrayLike<number>, what = "ETS"): void {
  for (let i = 0; i < y.length; i++) {
    if (!Number.isFinite(y[i]))
      throw new EtsError(`${what}: the series must be finite numbers, got ${y[i]} at index ${i}`);
  }
}

function checkType(type: EtsType, period: number, positive: boolean): void {
  if (type.error === "A" && type.season === "M") {
    throw new EtsError(
      `${etsSpec(type)} is not allowed (additive error with multiplicative season is unstable, as in forecast::ets)`,
    );
  }
  if (!positive && (type.error === "M" || type.season === "M")) {
    throw new EtsError(
      `${etsSpec(type)} needs strictly positive data (multiplicative components); the series has values <= 0`,
    );
  }
  if (type.season !== "N" && (period < 2 || period > 24)) {
    throw new EtsError(`a seasonal ETS model needs a period between 2 and 24, got ${period}`);
  }
}

/** A fit with the given parameters, no optimization (the model the other fits end in). */
export function etsModel(y: ArrayLike<number>, type: EtsType, params: EtsParams, period = 1): EtsFit {
  checkSeries(y);
  const m = type.season === "N" ? 1 : period;
  if (type.season !== "N" && params.season.length !== m) {
    throw new EtsError(`the initial season must have ${m} values (the period), got ${params.season.length}`);
  }
  const n = y.length;
  const r = etsFilter(y, type, params, m);
  const k = countParams(type, m) + 1;
  const loglik = -0.5 * n * (Math.log((2 * Math.PI * r.sse) / n) + 1) - (type.error === "M" ? r.sumLogF : 0);
  const aic = -2 * loglik + 2 * k;
  const aicc = n - k - 1 > 0 ? aic + (2 * k * (k + 1)) / (n - k - 1) : Number.POSITIVE_INFINITY;
  const bic = -2 * loglik + Math.log(n) * k;
  const residuals = Float64Array.from(y, (v, i) => v - r.fitted[i]);
  const sigma2 = r.sse / (n - (k - 1));
  const finalState = { level: r.level, trend: r.trend, season: Array.from(r.season) };
  const fit: EtsFit = {
    spec: etsSpec(type),
    type,
    period: m,
    n,
    params,
    loglik,
    aic,
    aicc,
    bic,
    sigma2,
    nParams: k,
    fitted: r.fitted,
    residuals,
    innovations: r.innovations,
    finalState,
    candidates: [],
    forecast: (h, options) => etsForecast(fit, h, options),
  };
  return fit;
}

/** Fits one ETS model type by maximum likelihood (forecast::ets's etsmodel). Null when it cannot be fitted. */
function smoothingCount(type: EtsType): number {
  return 1 + (type.trend !== "N" ? 1 : 0) + (type.season !== "N" ? 1 : 0) + (type.trend === "Ad" ? 1 : 0);
}

function fitType(y: ArrayLike<number>, type: EtsType, period: number, restarts: number): EtsFit | null {
  const m = type.season === "N" ? 1 : period;
  const n = y.length;
  const init = initialStates(y, type, m);
  const x0 = [...startingSmoothing(type, m), init.level];
  if (type.trend !== "N") x0.push(init.trend);
  x0.push(...init.season);
  if (x0.length >= n - 1) return null;
  const buffers = { innovations: new Float64Array(n), fitted: new Float64Array(n) };
  const objective = (x: Float64Array): number => {
    const p = unpack(type, m, x);
    if (!usualOk(type, p.alpha, p.beta, p.gamma, p.phi)) return Number.POSITIVE_INFINITY;
    if (!etsAdmissible(type, p.alpha, p.beta, p.gamma, p.phi, m)) return Number.POSITIVE_INFINITY;
    if (type.season === "M") for (const v of p.season) if (v < 0) return Number.POSITIVE_INFINITY;
    const lik = etsFilter(y, type, p, m, buffers).lik;
    if (Number.isNaN(lik)) return Number.POSITIVE_INFINITY;
    return lik < -1e10 ? -1e10 : lik;
  };
  if (!Number.isFinite(objective(Float64Array.from(x0)))) return null;
  let res = nelderMead(objective, x0, { maxEval: 2000 });
  if (!Number.isFinite(res.value)) return null;
  for (let r = 0; r < restarts; r++) {
    // A restart from the optimum with a simplex scaled to each parameter (R's first simplex takes
    // one step for all, 0.1·max|x|, which is mostly outside the bounds of the smoothing parameters).
    const ns = smoothingCount(type);
    const steps = Array.from(res.x, (v, i) => (i < ns ? 0.05 : Math.max(0.1 * Math.abs(v), 1e-3)));
    const next = nelderMead(objective, res.x, { maxEval: 2000, steps });
    if (next.value < res.value) res = next;
    else break;
  }
  return etsModel(y, type, unpack(type, m, res.x), m);
}

export interface FitEtsOptions {
  /** Season length (1 for none). Default 1. */
  period?: number;
  /** "MAdM", "ETS(M,Ad,M)", "ZZZ" (any Z is selected), ... Default "ZZZ". */
  model?: string;
  /**
   * Nelder–Mead restarts after forecast::ets's own run, each from the optimum with a simplex scaled
   * to the parameters; 0 (the default) is forecast::ets exactly.
   */
  restarts?: number;
  /** Information criterion for selection. Default "aicc". */
  ic?: "aicc" | "aic" | "bic";
}

/** The model types forecast::ets tries for "ZZZ" (restrict = TRUE, no multiplicative trend). */
export function etsCandidates(
  period: number,
  positive: boolean,
  pattern = "ZZZ",
  n = Number.POSITIVE_INFINITY,
): EtsType[] {
  const want = parseEtsModel(pattern);
  const out: EtsType[] = [];
  const errors: EtsErrorType[] = want.error === "Z" ? ["A", "M"] : [want.error as EtsErrorType];
  const trends: EtsTrendType[] =
    want.trend === "Z" ? ["N", "A", "Ad"] : want.trend === "Zd" ? ["Ad"] : [want.trend as EtsTrendType];
  const seasons: EtsSeasonType[] = want.season === "Z" ? ["N", "A", "M"] : [want.season as EtsSeasonType];
  // forecast::ets's loop order: error, trend (none, additive), season, damped before undamped.
  const order: EtsTrendType[][] = [["N"], ["Ad", "A"]];
  for (const error of errors) {
    for (const group of order) {
      for (const season of seasons) {
        for (const trend of group) {
          if (!trends.includes(trend)) continue;
          if (want.error === "Z" || want.season === "Z") {
            if (error === "A" && season === "M") continue;
            if (!positive && (error === "M" || season === "M")) continue;
            if (season !== "N" && (period < 2 || period > 24 || n <= period)) continue;
          }
          out.push({ error, trend, season });
        }
      }
    }
  }
  return out;
}

/**
 * Fits ETS to `y` (forecast::ets): one model, or with Z letters every admissible model, keeping the best
 * by AICc. Throws when no model can be fitted (a series too short for every candidate).
 */
export function fitEts(y: ArrayLike<number>, options: FitEtsOptions = {}): EtsFit {
  checkSeries(y);
  const period = options.period ?? 1;
  if (!Number.isInteger(period) || period < 1)
    throw new EtsError(`the period must be a positive integer, got ${period}`);
  const n = y.length;
  if (n < 4) throw new EtsError(`ETS needs at least 4 observations, got ${n}`);
  let positive = true;
  for (let i = 0; i < n; i++) if (!(y[i] > 0)) positive = false;
  const pattern = options.model ?? "ZZZ";
  let constant = true;
  for (let i = 1; i < n; i++) if (y[i] !== y[0]) constant = false;
  if (constant && options.model === undefined) {
    // forecast::ets: a constant series gets simple exponential smoothing with alpha 0.99999.
    const type: EtsType = { error: "A", trend: "N", season: "N" };
    const fit = etsModel(y, type, {
      alpha: 0.99999,
      beta: 0,
      gamma: 0,
      phi: 1,
      level: y[0],
      trend: 0,
      season: [],
    });
    fit.candidates = [{ spec: fit.spec, aicc: fit.aicc, aic: fit.aic, bic: fit.bic }];
    return fit;
  }
  const types = etsCandidates(period, positive, pattern, n);
  if (types.length === 1) checkType(types[0], period, positive);
  const ic = options.ic ?? "aicc";
  let best: EtsFit | null = null;
  const candidates: EtsCandidate[] = [];
  for (const type of types) {
    const fit = fitType(y, type, period, options.restarts ?? 0);
    if (fit === null) {
      candidates.push({
        spec: etsSpec(type),
        aicc: Number.POSITIVE_INFINITY,
        aic: Number.POSITIVE_INFINITY,
        bic: Number.POSITIVE_INFINITY,
      });
      continue;
    }
    candidates.push({ spec: fit.spec, aicc: fit.aicc, aic: fit.aic, bic: fit.bic });
    if (best === null || fit[ic] < best[ic]) best = fit;
  }
  if (best === null) {
    throw new EtsError(
      `no ETS model could be fitted to ${n} observation(s) with period ${period} (tried ${candidates.map((c) => c.spec).join(", ")}); a longer series is needed`,
    );
  }
  best.candidates = candidates;
  return best;
}

/** fitEts over the whole admissible set ("ZZZ"), selected by AICc. */
export function autoEts(y: ArrayLike<number>, options: Omit<FitEtsOptions, "model"> = {}): EtsFit {
  return fitEts(y, { ...options, model: "ZZZ" });
}

// ---- forecasts and intervals ----

function intervalLevel(level: number): number {
  if (!(level > 0 && level < 100))
    throw new EtsError(`an interval level is a percentage between 0 and 100, got ${level}`);
  return level;
}

/** The h-step forecasts of a fit with prediction intervals. */
export function etsForecast(fit: EtsFit, h: number, options: EtsForecastOptions = {}): EtsForecast {
  if (!Number.isInteger(h) || h < 1) throw new EtsError(`the horizon must be a positive integer, got ${h}`);
  const { type, params, finalState } = fit;
  const sigma2 = options.sigma2 ?? fit.sigma2;
  const m = fit.period;
  const mean = pointForecast(type, params.phi, finalState.level, finalState.trend, finalState.season, h);
  const linear = type.season !== "M";
  if (linear) {
    // c_j = alpha + beta (phi + ... + phi^j) + gamma [j mod m = 0]
    const c = new Float64Array(h); // (H) c[j] for j = 1..H-1
    const damp = type.trend === "Ad" ? params.phi : 1;
    let phiSum = 0;
    let pw = 1;
    for (let j = 1; j < h; j++) {
      pw *= damp;
      phiSum += pw;
      c[j] =
        params.alpha +
        (type.trend !== "N" ? params.beta * phiSum : 0) +
        (type.season === "A" && j % m === 0 ? params.gamma : 0);
    }
    const variance = new Float64Array(h); // (H)
    if (type.error === "A") {
      let acc = 0;
      for (let i = 0; i < h; i++) {
        if (i > 0) acc += c[i] * c[i];
        variance[i] = sigma2 * (1 + acc);
      }
    } else {
      // theta_j = mu_j^2 + sigma2 sum_{i=1}^{j-1} c_i^2 theta_{j-i}; var = (1 + sigma2) theta - mu^2
      const theta = new Float64Array(h); // (H)
      for (let j = 0; j < h; j++) {
        let s = 0;
        for (let i = 1; i <= j; i++) s += c[i] * c[i] * theta[j - i];
        theta[j] = mean[j] * mean[j] + sigma2 * s;
        variance[j] = (1 + sigma2) * theta[j] - mean[j] * mean[j];
      }
    }
    const bound = (level: number, sign: number): Float64Array => {
      const z = qnorm(0.5 + intervalLevel(level) / 200);
      return Float64Array.from(mean, (v, i) => v + sign * z * Math.sqrt(variance[i]));
    };
    return {
      mean,
      method: "analytic",
      lower: (level) => bound(level, -1),
      upper: (level) => bound(level, 1),
    };
  }
  // Class 3: simulate future paths from the final state.
  const paths = options.paths ?? 5000;
  const rng = new NormalRng(options.seed ?? 42);
  const sigma = Math.sqrt(sigma2);
  const sims: Float64Array[] = Array.from({ length: h }, () => new Float64Array(paths)); // H × (paths)
  const sState = new Float64Array(m); // (m)
  for (let k = 0; k < paths; k++) {
    let l = finalState.level;
    let b = finalState.trend;
    for (let j = 0; j < m; j++) sState[j] = finalState.season[j];
    let p = 0;
    const phi = type.trend === "Ad" ? params.phi : 1;
    for (let i = 0; i < h; i++) {
      const phib = type.trend !== "N" ? phi * b : 0;
      const q = l + phib;
      const sOld = sState[p];
      const f = q * sOld;
      const eps = sigma * rng.normal();
      const yt = type.error === "M" ? f * (1 + eps) : f + eps;
      sims[i][k] = yt;
      const lNew = q + params.alpha * (yt / sOld - q);
      if (type.trend !== "N") b = phib + (params.beta / params.alpha) * (lNew - l - phib);
      sState[p] = sOld + params.gamma * (yt / q - sOld);
      p = p + 1 === m ? 0 : p + 1;
      l = lNew;
    }
  }
  for (const s of sims) s.sort();
  const bound = (level: number, lowerSide: boolean): Float64Array => {
    const a = intervalLevel(level) / 100;
    const prob = lowerSide ? (1 - a) / 2 : (1 + a) / 2;
    return Float64Array.from(sims, (s) => quantileSorted(s, prob));
  };
  return {
    mean,
    method: "simulation",
    lower: (level) => bound(level, true),
    upper: (level) => bound(level, false),
  };
}
