// The standard Theta method (Assimakopoulos & Nikolopoulos 2000, in Hyndman & Billah's form), as
// forecast::thetaf and statsmodels' ThetaModel compute it: a test for seasonality at the 90 % level,
// classical multiplicative decomposition when seasonal, simple exponential smoothing of the adjusted
// series plus half the slope of its least-squares line, then the season put back.
// N = series length, m = season length, H = horizon.

import { fitEts } from "./ets.js";
import { acf, decompose, lineFit, qnorm } from "./stats.js";

export interface ThetaFit {
  n: number;
  period: number;
  /** Whether the seasonality test passed and the series was seasonally adjusted. */
  seasonal: boolean;
  /** The multiplicative seasonal figure by position from the first observation (ones when not seasonal). */
  figure: Float64Array; // (m)
  /** SES smoothing coefficient and the final SES level of the adjusted series. */
  alpha: number;
  level: number;
  /** Half the slope of the adjusted series' least-squares line (theta = 2). */
  drift: number;
  sigma2: number;
  forecast(h: number): {
    mean: Float64Array;
    lower(level: number): Float64Array;
    upper(level: number): Float64Array;
  };
}

/** The seasonality test of forecast::thetaf and statsmodels' ThetaModel (lag-m autocorrelation, 90 %). */
export function thetaSeasonalTest(y: ArrayLike<number>, m: number): boolean {
  const n = y.length;
  if (m <= 1 || n <= 2 * m) return false;
  let constant = true;
  for (let i = 1; i < n; i++) if (y[i] !== y[0]) constant = false;
  if (constant) return false;
  const r = acf(y, m);
  let s = 0;
  for (let k = 0; k < m - 1; k++) s += r[k] * r[k];
  const stat = Math.sqrt((1 + 2 * s) / n);
  return Math.abs(r[m - 1]) / stat > qnorm(0.95);
}

export function fitTheta(y: ArrayLike<number>, options: { period?: number } = {}): ThetaFit {
  const n = y.length;
  const m = options.period ?? 1;
  if (n < 4) throw new Error(`Theta needs at least 4 observations, got ${n}`);
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(y[i]))
      throw new Error(`Theta: the series must be finite numbers, got ${y[i]} at index ${i}`);
  }
  let seasonal = thetaSeasonalTest(y, m);
  let figure: Float64Array = new Float64Array(Math.max(m, 1)).fill(1);
  let x: Float64Array = Float64Array.from(y);
  if (seasonal) {
    let positive = true;
    for (let i = 0; i < n; i++) if (!(y[i] > 0)) positive = false;
    const d = positive ? decompose(y, m, "multiplicative") : null;
    if (d === null || d.figure.some((v) => Math.abs(v) < 1e-4)) {
      seasonal = false;
    } else {
      figure = d.figure;
      x = Float64Array.from(y, (v, i) => v / figure[i % m]);
    }
  }
  const ses = fitEts(x, { model: "ANN" });
  const alpha = Math.max(1e-10, ses.params.alpha);
  const t = Float64Array.from({ length: n }, (_, i) => i);
  const drift = lineFit(t, x).slope / 2;
  const level = ses.finalState.level;
  const sigma2 = ses.sigma2;
  const period = m;
  return {
    n,
    period,
    seasonal,
    figure,
    alpha,
    level,
    drift,
    sigma2,
    forecast(h: number) {
      if (!Number.isInteger(h) || h < 1) throw new Error(`the horizon must be a positive integer, got ${h}`);
      const mean = new Float64Array(h); // (H)
      const adj = (1 - (1 - alpha) ** n) / alpha;
      for (let i = 0; i < h; i++) {
        mean[i] = level + drift * (i + adj);
        if (seasonal) mean[i] *= figure[(n + i) % period];
      }
      const band = (lv: number, sign: number): Float64Array => {
        if (!(lv > 0 && lv < 100))
          throw new Error(`an interval level is a percentage between 0 and 100, got ${lv}`);
        const z = qnorm(0.5 + lv / 200);
        return Float64Array.from(mean, (v, i) => v + sign * z * Math.sqrt(sigma2 * (1 + i * alpha * alpha)));
      };
      return { mean, lower: (lv) => band(lv, -1), upper: (lv) => band(lv, 1) };
    },
  };
}
