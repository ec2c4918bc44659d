// ARIMA(p, d, q) fitted by conditional sum of squares, with the automatic order selection of
// forecast::auto.arima reduced to what a partner forecaster needs: d from repeated KPSS tests, then
// every p ≤ maxP, q ≤ maxQ (with and without a constant where d ≤ 1) ranked by AICc.
//
// The model, for the series y (T):
//   z_t = (1 − B)^d y_t − c                      t ≥ d; c the mean (d = 0) or the drift (d = 1), or 0
//   z_t = φ_1 z_{t−1} + … + φ_p z_{t−p} + e_t + θ_1 e_{t−1} + … + θ_q e_{t−q}
// Conditional sum of squares (R's arima(method = "CSS")): the first d + p rows are conditioned on,
// residuals before them are zero, and the estimate minimizes Σ e_t² over t ≥ d + p (Nelder–Mead; R
// uses BFGS on the same objective, 0.5·log(Σe²/ν)). σ² is forecast::Arima's unbiased variance,
// Σe² / (n* − p − q − (constant)), n* = n − d. AICc as auto.arima computes it for a CSS fit, up to a
// constant shared by all the models of one d: n*·log σ² + 2k + 2k(k + 1)/(n* − k − 1),
// k = p + q + (constant) + 1. A fit whose AR or MA polynomial
// has a root of modulus below 1.01 is refused (auto.arima's rule): it would not be stationary or its
// residuals would explode.
//
// Forecasts run the residual recursion over the history to its end, then the ARMA recursion with
// future residuals zero, then integrate d times. The intervals use the ψ weights of
// φ(B)(1 − B)^d: Var at step h = σ² Σ_{j<h} ψ_j². (R's predict runs a Kalman filter from a diffuse
// start instead; on a long history with an invertible MA part the two agree.)

import { nelderMead } from "./optim.js";
import { qnorm, rootsInUnitDisk } from "./stats.js";

type Values = ArrayLike<number>;

export interface ArimaOrder {
  p: number;
  d: number;
  q: number;
}

export interface ArimaParams {
  ar: number[]; // (p)
  ma: number[]; // (q)
  /** The mean of z before c is taken off: the series mean (d = 0) or drift per step (d = 1); 0 when none. */
  constant: number;
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

/** The name of a model, as forecast::Arima prints it. */
export function arimaSpec(order: ArimaOrder, withConstant: boolean): string {
  const base = `ARIMA(${order.p},${order.d},${order.q})`;
  if (!withConstant) return base;
  return `${base} with ${order.d === 0 ? "non-zero mean" : "drift"}`;
}

/** (1 − B)^d y: entries t < d are NaN, so indices stay those of y. */
export function difference(y: Values, d: number): Float64Array {
  const w = Float64Array.from(y);
  for (let k = 0; k < d; k++) {
    for (let t = w.length - 1; t > k; t--) w[t] -= w[t - 1];
    w[k] = Number.NaN;
  }
  return w;
}

/**
 * The CSS residuals of y under the model (T; zero before d + p) and their sum of squares over the ν
 * rows from d + p on. `w` may be passed in, (1 − B)^d y, when many parameter sets are tried.
 */
export function arimaResiduals(
  y: Values,
  order: ArimaOrder,
  params: ArimaParams,
  w: Float64Array = difference(y, order.d),
): { e: Float64Array; ssq: number; nobs: number } {
  const { p, d, q } = order;
  const { ar, ma, constant } = params;
  const n = w.length;
  const start = d + p;
  const e = new Float64Array(n);
  let ssq = 0;
  for (let t = start; t < n; t++) {
    let v = w[t] - constant;
    for (let i = 0; i < p; i++) v -= ar[i] * (w[t - i - 1] - constant);
    const mq = Math.min(q, t - start);
    for (let j = 0; j < mq; j++) v -= ma[j] * e[t - j - 1];
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
  /** Estimate c (a mean for d = 0, a drift for d = 1). Default: true for d ≤ 1. Never for d ≥ 2. */
  constant?: boolean;
}

/** ARIMA(p, d, q) by conditional sum of squares. Throws ArimaError where it cannot be fitted. */
export function fitArima(y: Values, order: ArimaOrder, options: FitArimaOptions = {}): ArimaFit {
  const { p, d, q } = order;
  for (const [k, v] of Object.entries(order)) {
    if (!(Number.isInteger(v) && v >= 0))
      throw new ArimaError(`ARIMA order ${k}: expected an integer ≥ 0, got ${v}`);
  }
  const withConstant = (options.constant ?? d <= 1) && d <= 1;
  const n = y.length;
  const k = p + q + (withConstant ? 1 : 0) + 1;
  if (n - d - p <= k + 1) {
    throw new ArimaError(`ARIMA(${p},${d},${q}) needs more than ${d + p + k + 1} rows, got ${n}`);
  }
  for (let t = 0; t < n; t++) {
    if (!Number.isFinite(y[t])) throw new ArimaError(`ARIMA: row ${t} is ${y[t]}, expected a finite number`);
  }
  const w = difference(y, d);
  let mean = 0;
  for (let t = d; t < n; t++) mean += w[t] / (n - d);
  let sd = 0;
  for (let t = d; t < n; t++) sd += (w[t] - mean) ** 2 / (n - d);
  sd = Math.sqrt(sd);
  const unpack = (x: ArrayLike<number>): ArimaParams => ({
    ar: Array.from({ length: p }, (_, i) => x[i]),
    ma: Array.from({ length: q }, (_, j) => x[p + j]),
    constant: withConstant ? x[p + q] : 0,
  });
  const objective = (x: Float64Array): number => {
    const r = arimaResiduals(y, order, unpack(x), w);
    return 0.5 * Math.log(r.ssq / r.nobs);
  };
  const x0 = new Float64Array(p + q + (withConstant ? 1 : 0));
  if (withConstant) x0[p + q] = mean;
  const steps = Array.from(x0, (_, i) => (i < p + q ? 0.1 : Math.max(0.1 * sd, 1e-8)));
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
  if (!rootsOutside(params.ar, -1) || !rootsOutside(params.ma, 1)) {
    throw new ArimaError(
      `${arimaSpec(order, withConstant)}: the fit has a root near or inside the unit circle (not stationary or not invertible)`,
    );
  }
  const r = arimaResiduals(y, order, params, w);
  // forecast::Arima's unbiased variance: Σe² / (n − d − (number of coefficients))
  const nstar = n - d;
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

/** The ψ weights ψ_0 … ψ_{h−1} of φ(B)(1 − B)^d x = θ(B) e. */
export function psiWeights(order: ArimaOrder, params: ArimaParams, h: number): Float64Array {
  // φ*(B) = φ(B)(1 − B)^d, as coefficients of 1 − φ*_1 B − …
  let phi = [1, ...params.ar.map((a) => -a)];
  for (let k = 0; k < order.d; k++) {
    const next = new Array<number>(phi.length + 1).fill(0);
    for (let i = 0; i < phi.length; i++) {
      next[i] += phi[i];
      next[i + 1] -= phi[i];
    }
    phi = next;
  }
  const psi = new Float64Array(h);
  for (let j = 0; j < h; j++) {
    let v = j === 0 ? 1 : j <= params.ma.length ? params.ma[j - 1] : 0;
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
  const { p, d, q } = order;
  const n = y.length;
  if (n < d + p + 1)
    throw new ArimaError(`ARIMA(${p},${d},${q}) forecasts need more than ${d + p} rows, got ${n}`);
  const w = difference(y, d);
  const { e } = arimaResiduals(y, order, params, w);
  // z over the history and the future: z_t = w_t − c
  const z = new Float64Array(n + h);
  for (let t = d; t < n; t++) z[t] = w[t] - params.constant;
  const ee = new Float64Array(n + h);
  ee.set(e);
  for (let t = n; t < n + h; t++) {
    let v = 0;
    for (let i = 0; i < p; i++) v += params.ar[i] * z[t - i - 1];
    for (let j = 0; j < q; j++) if (t - j - 1 >= 0) v += params.ma[j] * ee[t - j - 1];
    z[t] = v;
  }
  // integrate: the last d levels of each difference order, then cumulative sums
  const mean = new Float64Array(h);
  for (let k = 0; k < h; k++) mean[k] = z[n + k] + params.constant;
  for (let level = d - 1; level >= 0; level--) {
    // the last value of (1 − B)^level y
    const last = difference(y, level)[n - 1];
    let acc = last;
    for (let k = 0; k < h; k++) {
      acc += mean[k];
      mean[k] = acc;
    }
  }
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

export interface AutoArimaOptions {
  maxP?: number; // default 3
  maxQ?: number; // default 3
  /** Differences: default from KPSS (ndiffs). */
  d?: number;
}

/**
 * auto.arima's choice among non-seasonal models, by exhaustive search: d from ndiffs, then every
 * p ≤ maxP, q ≤ maxQ with p + q ≤ 5, with and without a constant for d ≤ 1, the lowest AICc.
 */
export function autoArima(y: Values, options: AutoArimaOptions = {}): ArimaFit {
  const d = options.d ?? ndiffs(y);
  const maxP = options.maxP ?? 3;
  const maxQ = options.maxQ ?? 3;
  let best: ArimaFit | null = null;
  const errors: string[] = [];
  for (let p = 0; p <= maxP; p++) {
    for (let q = 0; q <= maxQ; q++) {
      if (p + q > 5) continue;
      for (const constant of d <= 1 ? [true, false] : [false]) {
        try {
          const f = fitArima(y, { p, d, q }, { constant });
          if (best === null || f.aicc < best.aicc) best = f;
        } catch (e) {
          if (!(e instanceof ArimaError)) throw e;
          errors.push(e.message);
        }
      }
    }
  }
  if (best === null) throw new ArimaError(`no ARIMA model could be fitted: ${errors[0] ?? "no candidates"}`);
  return best;
}
