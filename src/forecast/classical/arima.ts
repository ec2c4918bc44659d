// ARIMA(p, d, q)(P, D, Q)[m] fitted by conditional sum of squares, with the automatic order selection
// of forecast::auto.arima: D from the seasonal strength (nsdiffs), d from repeated KPSS tests on the
// seasonally differenced series, then every p ≤ maxP, q ≤ maxQ, P ≤ maxSP, Q ≤ maxSQ (with and without
// a constant where d + D ≤ 1) ranked by AICc.
//
// The model, for the series y (T), Δ(B) = (1 − B)^d (1 − B^m)^D:
//   z_t = Δ(B) y_t − c                           t ≥ d + mD; c the mean (d + D = 0) or the drift (per
//                                                step with d = 1, per season with D = 1), or 0
//   φ(B)Φ(B^m) z_t = θ(B)Θ(B^m) e_t              the seasonal factors multiplied out (expandedCoefficients)
// Conditional sum of squares (R's arima(method = "CSS")): the first d + mD + p + mP rows are conditioned
// on, residuals before them are zero, and the estimate minimizes Σ e_t² over the rest (Nelder–Mead; R
// uses BFGS on the same objective, 0.5·log(Σe²/ν)). σ² is forecast::Arima's unbiased variance,
// Σe² / (n* − (number of coefficients)), n* = n − d − mD. AICc as auto.arima computes it for a CSS fit,
// up to a constant shared by all the models of one d and D: n*·log σ² + 2k + 2k(k + 1)/(n* − k − 1),
// k = p + q + P + Q + (constant) + 1. A fit whose AR or MA polynomial (seasonal factors multiplied in)
// has a root of modulus below 1.01 is refused (auto.arima's rule): it would not be stationary or its
// residuals would explode.
//
// Forecasts run the residual recursion over the history to its end, then the ARMA recursion with
// future residuals zero, then undo Δ. The intervals use the ψ weights of φ(B)Φ(B^m)Δ(B): Var at step
// h = σ² Σ_{j<h} ψ_j². (R's predict runs a Kalman filter from a diffuse start instead; on a long
// history with an invertible MA part the two agree.)

import { nelderMead } from "./optim.js";
import { centredMovingAverage, qnorm, rootsInUnitDisk } from "./stats.js";

type Values = ArrayLike<number>;

export interface ArimaOrder {
  p: number;
  d: number;
  q: number;
  /** The seasonal part (P, D, Q)[m]; absent or m ≤ 1: none. */
  P?: number;
  D?: number;
  Q?: number;
  m?: number;
}

export interface ArimaParams {
  ar: number[]; // (p)
  ma: number[]; // (q)
  /** Seasonal AR and MA coefficients (P and Q of them); absent: none. */
  sar?: number[];
  sma?: number[];
  /**
   * The mean of z before c is taken off: the series mean (no differencing), or the drift, per step
   * (d = 1) or per season (D = 1); 0 when none.
   */
  constant: number;
}

/** The seasonal part of an order, zeros where it has none. */
function seasonalOf(o: ArimaOrder): { P: number; D: number; Q: number; m: number } {
  const m = o.m ?? 1;
  if (m <= 1) return { P: 0, D: 0, Q: 0, m: 1 };
  return { P: o.P ?? 0, D: o.D ?? 0, Q: o.Q ?? 0, m };
}

/** d + m·D + p + m·P: the rows CSS conditions on; a forecast needs more history than these. */
export function arimaRowsNeeded(o: ArimaOrder): number {
  const { P, D, m } = seasonalOf(o);
  return o.d + o.p + m * (D + P);
}

/** d + m·D: the rows differencing uses up. */
function diffRows(o: ArimaOrder): number {
  const { D, m } = seasonalOf(o);
  return o.d + m * D;
}

/** The product of two polynomials given by their coefficients, lowest power first. */
function polyMul(a: readonly number[], b: readonly number[]): number[] {
  const out = new Array<number>(a.length + b.length - 1).fill(0);
  for (let i = 0; i < a.length; i++) for (let j = 0; j < b.length; j++) out[i + j] += a[i] * b[j];
  return out;
}

/** (1 − a_1 B − …)(1 − A_1 B^m − …) as the coefficients a*_i of 1 − Σ a*_i B^i (sign −1; +1 for MA). */
function expandPoly(a: readonly number[], A: readonly number[], m: number, sign: 1 | -1): number[] {
  // full polynomials with leading 1: c(B) = 1 + sign Σ a_i B^i
  const c1 = [1, ...a.map((v) => sign * v)];
  const c2 = new Array<number>(m * A.length + 1).fill(0);
  c2[0] = 1;
  A.forEach((v, j) => {
    c2[(j + 1) * m] = sign * v;
  });
  return polyMul(c1, c2)
    .slice(1)
    .map((v) => sign * v);
}

/** The model's AR and MA polynomials with the seasonal factors multiplied in. */
export function expandedCoefficients(order: ArimaOrder, params: ArimaParams): { ar: number[]; ma: number[] } {
  const { m } = seasonalOf(order);
  return {
    ar: expandPoly(params.ar, m > 1 ? (params.sar ?? []) : [], m, -1),
    ma: expandPoly(params.ma, m > 1 ? (params.sma ?? []) : [], m, 1),
  };
}

/** Δ(B) = (1 − B)^d (1 − B^m)^D as its coefficients δ_0 = 1, δ_1, … */
function diffPolynomial(order: ArimaOrder): number[] {
  const { D, m } = seasonalOf(order);
  let c = [1];
  for (let k = 0; k < order.d; k++) c = polyMul(c, [1, -1]);
  if (m > 1) for (let k = 0; k < D; k++) c = polyMul(c, [1, ...new Array<number>(m - 1).fill(0), -1]);
  return c;
}

export interface ArimaForecast {
  mean: Float64Array; // (h)
  lower(level: number): Float64Array; // level in percent, e.g. 80
  upper(level: number): Float64Array;
}

export interface ArimaFit {
  order: ArimaOrder;
  /** Whether c was estimated (a mean for d = 0, a drift for d = 1). */
  withConstant: boolean;
  params: ArimaParams;
  sigma2: number;
  /** ν = n − d − p: the residuals the sum of squares runs over. */
  nobs: number;
  aicc: number;
  /** As forecast::Arima prints it, e.g. "ARIMA(1,1,2) with drift". */
  spec: string;
  forecast(h: number): ArimaForecast;
}

export class ArimaError extends Error {
  override name = "ArimaError";
}

/** The name of a model, as forecast::Arima prints it, e.g. "ARIMA(0,1,1)(0,1,1)[12]". */
export function arimaSpec(order: ArimaOrder, withConstant: boolean): string {
  const { P, D, Q, m } = seasonalOf(order);
  const base = `ARIMA(${order.p},${order.d},${order.q})${m > 1 ? `(${P},${D},${Q})[${m}]` : ""}`;
  if (!withConstant) return base;
  return `${base} with ${diffRows(order) === 0 ? "non-zero mean" : "drift"}`;
}

/**
 * (1 − B)^d (1 − B^m)^D y: entries t < d + m·D are NaN, so indices stay those of y. `order` may be the
 * number d alone.
 */
export function difference(y: Values, order: number | ArimaOrder): Float64Array {
  const o: ArimaOrder = typeof order === "number" ? { p: 0, d: order, q: 0 } : order;
  const delta = diffPolynomial(o);
  const nd = delta.length - 1;
  const w = new Float64Array(y.length);
  for (let t = 0; t < y.length; t++) {
    if (t < nd) {
      w[t] = Number.NaN;
      continue;
    }
    let v = 0;
    for (let i = 0; i <= nd; i++) if (delta[i] !== 0) v += delta[i] * y[t - i];
    w[t] = v;
  }
  return w;
}

/**
 * The CSS residuals of y under the model (T; zero before d + m·D + p + m·P) and their sum of squares
 * over the ν rows from there on. `w` may be passed in, difference(y, order), when many parameter sets
 * are tried.
 */
export function arimaResiduals(
  y: Values,
  order: ArimaOrder,
  params: ArimaParams,
  w: Float64Array = difference(y, order),
): { e: Float64Array; ssq: number; nobs: number } {
  const { ar, ma } = expandedCoefficients(order, params);
  const { constant } = params;
  // the non-zero lags only: a seasonal polynomial is mostly zeros
  const arLags = ar.flatMap((v, i) => (v !== 0 ? [i] : []));
  const maLags = ma.flatMap((v, j) => (v !== 0 ? [j] : []));
  const n = w.length;
  const start = diffRows(order) + ar.length;
  const e = new Float64Array(n);
  let ssq = 0;
  for (let t = start; t < n; t++) {
    let v = w[t] - constant;
    for (const i of arLags) v -= ar[i] * (w[t - i - 1] - constant);
    for (const j of maLags) if (t - j - 1 >= start) v -= ma[j] * e[t - j - 1];
    e[t] = v;
    ssq += v * v;
  }
  return { e, ssq, nobs: Math.max(0, n - start) };
}

/** Whether 1 − φ_1 z − … (ar) or 1 + θ_1 z + … (ma) has every root of modulus at least `min`. */
function rootsOutside(coefficients: readonly number[], sign: 1 | -1, min = 1.01): boolean {
  if (coefficients.length === 0) return true;
  // roots of c(z) outside |z| ≥ min  ⇔  roots of its reversal inside |z| < 1/min
  const rev = [...coefficients.map((c) => sign * c).reverse(), 1];
  return rootsInUnitDisk(rev, 1 / min - 1);
}

function aiccOf(sigma2: number, nobs: number, k: number): number {
  return nobs * Math.log(sigma2) + 2 * k + (2 * k * (k + 1)) / Math.max(1, nobs - k - 1);
}

export interface FitArimaOptions {
  /**
   * Estimate c (a mean without differencing, a drift with d + D = 1). Default: true where d + D ≤ 1.
   * Never with d + D ≥ 2.
   */
  constant?: boolean;
}

/** ARIMA(p, d, q)(P, D, Q)[m] by conditional sum of squares. Throws ArimaError where it cannot be fitted. */
export function fitArima(y: Values, order: ArimaOrder, options: FitArimaOptions = {}): ArimaFit {
  for (const [k, v] of Object.entries(order)) {
    if (v !== undefined && !(Number.isInteger(v) && v >= 0))
      throw new ArimaError(`ARIMA order ${k}: expected an integer ≥ 0, got ${v}`);
  }
  const { p, q } = order;
  const { P, Q, m } = seasonalOf(order);
  const nd = diffRows(order);
  const integration = order.d + seasonalOf(order).D;
  const withConstant = (options.constant ?? integration <= 1) && integration <= 1;
  const n = y.length;
  const np = p + q + P + Q;
  const k = np + (withConstant ? 1 : 0) + 1;
  const cond = nd + p + m * P;
  if (n - cond <= k + 1) {
    throw new ArimaError(`${arimaSpec(order, withConstant)} needs more than ${cond + k + 1} rows, got ${n}`);
  }
  for (let t = 0; t < n; t++) {
    if (!Number.isFinite(y[t])) throw new ArimaError(`ARIMA: row ${t} is ${y[t]}, expected a finite number`);
  }
  const w = difference(y, order);
  let mean = 0;
  for (let t = nd; t < n; t++) mean += w[t] / (n - nd);
  let sd = 0;
  for (let t = nd; t < n; t++) sd += (w[t] - mean) ** 2 / (n - nd);
  sd = Math.sqrt(sd);
  const unpack = (x: ArrayLike<number>): ArimaParams => {
    const out: ArimaParams = {
      ar: Array.from({ length: p }, (_, i) => x[i]),
      ma: Array.from({ length: q }, (_, j) => x[p + j]),
      constant: withConstant ? x[np] : 0,
    };
    if (m > 1 && P + Q > 0) {
      out.sar = Array.from({ length: P }, (_, i) => x[p + q + i]);
      out.sma = Array.from({ length: Q }, (_, j) => x[p + q + P + j]);
    }
    return out;
  };
  const objective = (x: Float64Array): number => {
    const r = arimaResiduals(y, order, unpack(x), w);
    return 0.5 * Math.log(r.ssq / r.nobs);
  };
  const x0 = new Float64Array(np + (withConstant ? 1 : 0));
  if (withConstant) x0[np] = mean;
  const steps = Array.from(x0, (_, i) => (i < np ? 0.1 : Math.max(0.1 * sd, 1e-8)));
  let best = { x: x0, value: objective(x0) };
  if (!Number.isFinite(best.value)) throw new ArimaError("ARIMA: the series is constant after differencing");
  if (x0.length > 0) {
    // a restart from the optimum, as ETS's fits do: Nelder–Mead stops early on ridges
    for (let r = 0; r < 3; r++) {
      const res = nelderMead(objective, best.x, { maxEval: 4000, steps });
      const improved = res.value < best.value - 1e-10;
      if (res.value <= best.value) best = { x: Float64Array.from(res.x), value: res.value };
      if (!improved) break;
    }
  }
  const params = unpack(best.x);
  const ex = expandedCoefficients(order, params);
  if (!rootsOutside(ex.ar, -1) || !rootsOutside(ex.ma, 1)) {
    throw new ArimaError(
      `${arimaSpec(order, withConstant)}: the fit has a root near or inside the unit circle (not stationary or not invertible)`,
    );
  }
  const r = arimaResiduals(y, order, params, w);
  // forecast::Arima's unbiased variance: Σe² / (n − d − m·D − (number of coefficients))
  const nstar = n - nd;
  const sigma2 = r.ssq / (nstar - (k - 1));
  return makeFit(y, order, withConstant, params, sigma2, r.nobs, aiccOf(sigma2, nstar, k));
}

function makeFit(
  y: Values,
  order: ArimaOrder,
  withConstant: boolean,
  params: ArimaParams,
  sigma2: number,
  nobs: number,
  aicc: number,
): ArimaFit {
  return {
    order,
    withConstant,
    params,
    sigma2,
    nobs,
    aicc,
    spec: arimaSpec(order, withConstant),
    forecast: (h) => arimaForecast(y, order, params, sigma2, h),
  };
}

/** The ψ weights ψ_0 … ψ_{h−1} of φ(B)Φ(B^m)Δ(B) x = θ(B)Θ(B^m) e, Δ(B) = (1 − B)^d (1 − B^m)^D. */
export function psiWeights(order: ArimaOrder, params: ArimaParams, h: number): Float64Array {
  const ex = expandedCoefficients(order, params);
  // φ*(B) = φ(B)Φ(B^m)Δ(B), as coefficients of 1 + φ*_1 B + … (the signs as written)
  const phi = polyMul([1, ...ex.ar.map((v) => -v)], diffPolynomial(order));
  const psi = new Float64Array(h);
  for (let j = 0; j < h; j++) {
    let v = j === 0 ? 1 : j <= ex.ma.length ? ex.ma[j - 1] : 0;
    for (let i = 1; i < phi.length && i <= j; i++) v -= phi[i] * psi[j - i];
    psi[j] = v;
  }
  return psi;
}

/** Forecasts h steps after the end of y with fixed parameters (see the top of this file). */
export function arimaForecast(
  y: Values,
  order: ArimaOrder,
  params: ArimaParams,
  sigma2: number,
  h: number,
): ArimaForecast {
  const ex = expandedCoefficients(order, params);
  const p = ex.ar.length;
  const q = ex.ma.length;
  const nd = diffRows(order);
  const n = y.length;
  if (n < nd + p + 1)
    throw new ArimaError(
      `${arimaSpec(order, params.constant !== 0)} forecasts need more than ${nd + p} rows, got ${n}`,
    );
  const w = difference(y, order);
  const { e } = arimaResiduals(y, order, params, w);
  // z over the history and the future: z_t = w_t − c
  const z = new Float64Array(n + h);
  for (let t = nd; t < n; t++) z[t] = w[t] - params.constant;
  const ee = new Float64Array(n + h);
  ee.set(e);
  for (let t = n; t < n + h; t++) {
    let v = 0;
    for (let i = 0; i < p; i++) if (ex.ar[i] !== 0) v += ex.ar[i] * z[t - i - 1];
    for (let j = 0; j < q; j++) if (ex.ma[j] !== 0 && t - j - 1 >= 0) v += ex.ma[j] * ee[t - j - 1];
    z[t] = v;
  }
  // undo the differencing: Δ(B) y_t = w_t, so y_t = w_t − Σ_{i ≥ 1} δ_i y_{t−i}
  const delta = diffPolynomial(order);
  const yy = new Float64Array(n + h);
  for (let t = 0; t < n; t++) yy[t] = y[t];
  for (let t = n; t < n + h; t++) {
    let v = z[t] + params.constant;
    for (let i = 1; i < delta.length; i++) if (delta[i] !== 0) v -= delta[i] * yy[t - i];
    yy[t] = v;
  }
  const mean = yy.slice(n);
  const psi = psiWeights(order, params, h);
  const sd = new Float64Array(h);
  let s = 0;
  for (let k = 0; k < h; k++) {
    s += psi[k] * psi[k];
    sd[k] = Math.sqrt(sigma2 * s);
  }
  const band = (level: number, sign: 1 | -1) => {
    const z = qnorm(0.5 + level / 200);
    return Float64Array.from(mean, (m, k) => m + sign * z * sd[k]);
  };
  return { mean, lower: (l) => band(l, -1), upper: (l) => band(l, 1) };
}

/**
 * The KPSS statistic for level stationarity (urca's ur.kpss, type "mu", with the lag forecast::ndiffs
 * passes it: ⌊3√n / 13⌋ Bartlett-weighted autocovariances in the long-run variance).
 */
export function kpssStatistic(x: Values): number {
  const n = x.length;
  let mean = 0;
  for (let t = 0; t < n; t++) mean += x[t] / n;
  const e = Float64Array.from(x, (v) => v - mean);
  let s = 0;
  let eta = 0;
  for (let t = 0; t < n; t++) {
    s += e[t];
    eta += s * s;
  }
  eta /= n * n;
  const lags = Math.trunc((3 * Math.sqrt(n)) / 13);
  let lrv = 0;
  for (let t = 0; t < n; t++) lrv += e[t] * e[t];
  for (let l = 1; l <= lags; l++) {
    let c = 0;
    for (let t = l; t < n; t++) c += e[t] * e[t - l];
    lrv += 2 * (1 - l / (lags + 1)) * c;
  }
  return eta / (lrv / n);
}

/** The KPSS critical value at 5 % (Kwiatkowski et al. 1992, level stationarity). */
export const KPSS_CRITICAL_5 = 0.463;

/**
 * The number of differences KPSS asks for (forecast::ndiffs with test "kpss", α = 0.05), at most maxD:
 * difference while the statistic exceeds the 5 % critical value (ndiffs interpolates a p-value in the
 * table of critical values and differences when it is below α, the same thing).
 */
export function ndiffs(y: Values, maxD = 2): number {
  let x = Float64Array.from(y);
  let d = 0;
  while (d < maxD) {
    let constant = true;
    for (let t = 1; t < x.length; t++) if (x[t] !== x[0]) constant = false;
    if (constant || x.length < 4) break;
    if (kpssStatistic(x) <= KPSS_CRITICAL_5) break;
    x = difference(x, 1).slice(1);
    d++;
  }
  return d;
}

/**
 * The strength of the seasonality, max(0, 1 − Var(R) / Var(S + R)) (Wang, Smith & Hyndman 2006), as
 * forecast::nsdiffs measures it, with S + R the series less its centred moving average over a season
 * and S, instead of STL's loess, the mean of S + R at the same position in the seasons within three of
 * this one (seven seasons, as STL lets a seasonal pattern evolve). On the shipped classic series it takes
 * the decision R's nsdiffs takes on every one. 0 where the series is shorter than two seasons.
 */
export function seasonalStrength(y: Values, m: number): number {
  if (m < 2 || y.length < 2 * m) return 0;
  const trend = centredMovingAverage(y, m);
  const n = y.length;
  const r: number[] = [];
  const sr: number[] = [];
  for (let t = 0; t < n; t++) {
    if (Number.isNaN(trend[t])) continue;
    let sum = 0;
    let count = 0;
    for (let k = -3; k <= 3; k++) {
      const u = t + k * m;
      if (u < 0 || u >= n || Number.isNaN(trend[u])) continue;
      sum += y[u] - trend[u];
      count++;
    }
    const detrended = y[t] - trend[t];
    sr.push(detrended);
    r.push(detrended - sum / count);
  }
  const variance = (a: number[]) => {
    const mu = a.reduce((x, v) => x + v, 0) / a.length;
    return a.reduce((x, v) => x + (v - mu) ** 2, 0) / (a.length - 1);
  };
  const vsr = variance(sr);
  return vsr > 0 ? Math.max(0, 1 - variance(r) / vsr) : 0;
}

/** The seasonal strength above which forecast::nsdiffs takes a seasonal difference. */
export const SEASONAL_STRENGTH_THRESHOLD = 0.64;

/** Seasonal differences (0 or 1, forecast::nsdiffs's default max.D) by the seasonal strength. */
export function nsdiffs(y: Values, m: number): number {
  return seasonalStrength(y, m) > SEASONAL_STRENGTH_THRESHOLD ? 1 : 0;
}

export interface AutoArimaOptions {
  maxP?: number; // default 3, 2 with a season
  maxQ?: number; // default 3, 2 with a season
  /** Differences: default from KPSS (ndiffs), on the seasonally differenced series where D = 1. */
  d?: number;
  /** The season m; 1 or absent: a non-seasonal model. */
  m?: number;
  /** Seasonal differences: default from the seasonal strength (nsdiffs). */
  D?: number;
  /** Seasonal orders: P and Q up to these (default 1). */
  maxSP?: number;
  maxSQ?: number;
  /**
   * Search stepwise (Hyndman & Khandakar 2008, R's default) instead of every candidate: from the best of
   * four starting models, move to any neighbour (an order ±1, two at once, the constant switched) that
   * lowers the AICc, until none does. About a third of the fits; it may stop at a local optimum. Default:
   * stepwise on series longer than STEPWISE_MIN_ROWS, exhaustive on shorter ones.
   */
  stepwise?: boolean;
}

/**
 * Rows above which autoArima searches stepwise by default. The exhaustive search fits 36–72 candidates,
 * the stepwise one 12–25 (measured on the ten shipped series, where it finds the same model on eight and
 * a local optimum on two); on a year of hourly data (6000+ rows) each fit takes about 0.2 s, and the
 * exhaustive harmonic ARIMA search took 22 s. Every shipped series is shorter, so their fits stay exhaustive.
 */
export const STEPWISE_MIN_ROWS = 2000;

/**
 * auto.arima's choice: D from nsdiffs and d from ndiffs (on the seasonally differenced series), then
 * among p ≤ maxP, q ≤ maxQ with p + q ≤ 5 (and with a season m, P ≤ maxSP, Q ≤ maxSQ), with and
 * without a constant where d + D ≤ 1, the lowest AICc: every candidate, or stepwise on long series
 * (`stepwise`). R searches stepwise up to P, Q ≤ 2 by default; a season of at least two years of data is
 * required, else it is left out.
 */
export function autoArima(y: Values, options: AutoArimaOptions = {}): ArimaFit {
  return runToEnd(autoArimaSteps(y, options));
}

/**
 * autoArima as steps: the generator yields after each candidate's fit and returns the choice, so that a
 * caller can give the event loop a turn between fits (a search on a long series takes seconds) and stop.
 */
export function* autoArimaSteps(y: Values, options: AutoArimaOptions = {}): Generator<void, ArimaFit, void> {
  const m0 = options.m ?? 1;
  const m = m0 >= 2 && y.length >= 2 * m0 + 2 ? m0 : 1;
  const D = m > 1 ? (options.D ?? nsdiffs(y, m)) : 0;
  const d = options.d ?? ndiffs(D > 0 ? difference(y, { p: 0, d: 0, q: 0, D, m }).subarray(m * D) : y);
  const maxP = options.maxP ?? (m > 1 ? 2 : 3);
  const maxQ = options.maxQ ?? (m > 1 ? 2 : 3);
  const maxSP = m > 1 ? (options.maxSP ?? 1) : 0;
  const maxSQ = m > 1 ? (options.maxSQ ?? 1) : 0;
  let best: ArimaFit | null = null;
  const errors: string[] = [];
  const tried = new Set<string>();
  // fits a candidate once, keeping the best: SKIPPED (out of bounds or fitted before), FITTED or BETTER
  const SKIPPED = 0;
  const BETTER = 2;
  const tryFit = (p: number, q: number, P: number, Q: number, constant: boolean): number => {
    if (p < 0 || q < 0 || P < 0 || Q < 0 || p > maxP || q > maxQ || P > maxSP || Q > maxSQ) return SKIPPED;
    if (p + q > 5 || (constant && d + D > 1)) return SKIPPED;
    const key = `${p},${q},${P},${Q},${+constant}`;
    if (tried.has(key)) return SKIPPED;
    tried.add(key);
    const order: ArimaOrder = m > 1 ? { p, d, q, P, D, Q, m } : { p, d, q };
    try {
      const f = fitArima(y, order, { constant });
      if (best === null || f.aicc < best.aicc) {
        best = f;
        return BETTER;
      }
    } catch (e) {
      if (!(e instanceof ArimaError)) throw e;
      errors.push(e.message);
    }
    return 1;
  };
  if (options.stepwise ?? y.length > STEPWISE_MIN_ROWS) {
    const c0 = d + D <= 1;
    const seasonal = m > 1 ? 1 : 0;
    const starts: [number, number, number, number, boolean][] = [
      [2, 2, seasonal, seasonal, c0],
      [0, 0, 0, 0, c0],
      [1, 0, seasonal, 0, c0],
      [0, 1, 0, seasonal, c0],
    ];
    if (c0) starts.push([0, 0, 0, 0, false]);
    for (const [p, q, P, Q, c] of starts) if (tryFit(p, q, P, Q, c) !== SKIPPED) yield;
    // neighbours of the best so far: the seasonal orders, then the others, then the constant
    const steps = [
      [-1, 0],
      [1, 0],
      [0, -1],
      [0, 1],
      [-1, -1],
      [-1, 1],
      [1, -1],
      [1, 1],
    ];
    const moves: [number, number, number, number][] = [
      ...(m > 1 ? steps.map(([a, b]): [number, number, number, number] => [0, 0, a, b]) : []),
      ...steps.map(([a, b]): [number, number, number, number] => [a, b, 0, 0]),
    ];
    let moved = best !== null;
    while (moved) {
      moved = false;
      const b = best as ArimaFit | null;
      if (b === null) break;
      const o = b.order;
      const at = [o.p, o.q, o.P ?? 0, o.Q ?? 0] as const;
      for (const [dp, dq, dP, dQ] of moves) {
        const r = tryFit(at[0] + dp, at[1] + dq, at[2] + dP, at[3] + dQ, b.withConstant);
        if (r !== SKIPPED) yield;
        if (r === BETTER) {
          moved = true;
          break;
        }
      }
      if (!moved) {
        const r = tryFit(at[0], at[1], at[2], at[3], !b.withConstant);
        if (r !== SKIPPED) yield;
        moved = r === BETTER;
      }
    }
  } else {
    for (let p = 0; p <= maxP; p++) {
      for (let q = 0; q <= maxQ; q++) {
        for (let P = 0; P <= maxSP; P++) {
          for (let Q = 0; Q <= maxSQ; Q++) {
            for (const constant of d + D <= 1 ? [true, false] : [false]) {
              if (tryFit(p, q, P, Q, constant) !== SKIPPED) yield;
            }
          }
        }
      }
    }
  }
  if (best === null) throw new ArimaError(`no ARIMA model could be fitted: ${errors[0] ?? "no candidates"}`);
  return best;
}

/** Runs a generator of steps to its end and returns its value (the synchronous way to take them). */
export function runToEnd<T>(steps: Generator<void, T, void>): T {
  let r = steps.next();
  while (!r.done) r = steps.next();
  return r.value;
}
