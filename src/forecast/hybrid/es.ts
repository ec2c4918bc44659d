// The exponential-smoothing half of the hybrid (Smyl's ES-RNN): a Holt-Winters level and seasonality
// recursion whose smoothing coefficients and initial seasonality are learned by gradient descent
// together with the network. A kernel pair on typed arrays (float64 inside), then one adapter that
// lifts it into the autograd graph.
//
// T = time steps, m = season length (0: no seasonality).
//
// multiplicative (positive series)                     additive
//   u_t     = z_t / s_t                                    u_t     = z_t - s_t
//   l_t     = α u_t + (1-α)(l_{t-1} + b_{t-1})             (the same)
//   b_t     = β (l_t - l_{t-1}) + (1-β) b_{t-1}            (the same)
//   s_{t+m} = γ z_t / l_t + (1-γ) s_t                      s_{t+m} = γ (z_t - l_t) + (1-γ) s_t
// with l_0 = u_0, b_0 the initial trend and s_0..s_{m-1} the initial seasonality. Without a trend
// b ≡ 0 (β unused); without seasonality s ≡ 1 (multiplicative) or 0 (additive) (γ unused).
//
// The season array has T + m entries: s_{t+m} for t < T is known at time t, so the seasonality of the
// next m steps after the last observation is s_T .. s_{T+m-1}.

import { resultMulti, type Tensor } from "../../core/tensor.js";
import { ForecastError } from "../errors.js";

export type SeasonMode = "multiplicative" | "additive";

/** Smoothing coefficients and starting values (plain numbers for the kernels). */
export interface EsCoefs {
  alpha: number;
  beta: number;
  gamma: number;
  /** Whether the trend b is on. */
  trend: boolean;
}

/** Forward recursion: fills level (T), trend (T) and season (T + m). */
export function esForward(
  z: Float32Array, // (T)
  k: EsCoefs,
  s0: Float32Array, // (m)
  b0: number,
  mode: SeasonMode,
  level: Float64Array, // (T)       out
  trend: Float64Array, // (T)       out
  season: Float64Array, // (T + m)  out
): void {
  const T = z.length;
  const m = s0.length;
  const { alpha, beta, gamma } = k;
  const mult = mode === "multiplicative";
  const none = mult ? 1 : 0;
  for (let i = 0; i < m; i++) season[i] = s0[i];
  for (let t = 0; t < T; t++) {
    const st = m > 0 ? season[t] : none;
    const u = mult ? z[t] / st : z[t] - st;
    if (t === 0) {
      level[0] = u;
      trend[0] = k.trend ? b0 : 0;
    } else {
      level[t] = alpha * u + (1 - alpha) * (level[t - 1] + trend[t - 1]);
      trend[t] = k.trend ? beta * (level[t] - level[t - 1]) + (1 - beta) * trend[t - 1] : 0;
    }
    if (m > 0) {
      const v = mult ? z[t] / level[t] : z[t] - level[t];
      season[t + m] = gamma * v + (1 - gamma) * st;
    }
  }
}

/**
 * Backward of `esForward`: from dLevel (T), dTrend (T) and dSeason (T + m) to dz (T), ds0 (m) and the
 * scalars. Runs the recursion in reverse; each quantity's gradient is complete once its later uses are.
 */
export function esBackward(
  z: Float32Array, // (T)
  k: EsCoefs,
  mode: SeasonMode,
  level: Float64Array, // (T)       from the forward
  trend: Float64Array, // (T)       from the forward
  season: Float64Array, // (T + m)  from the forward
  dLevel: Float32Array | null, // (T)
  dTrend: Float32Array | null, // (T)
  dSeason: Float32Array | null, // (T + m)
  dz: Float32Array, // (T)  out
  ds0: Float32Array, // (m) out
): { dAlpha: number; dBeta: number; dGamma: number; db0: number } {
  const T = z.length;
  const m = ds0.length;
  const { alpha, beta, gamma } = k;
  const mult = mode === "multiplicative";
  const dl = new Float64Array(T);
  const db = new Float64Array(T);
  const ds = new Float64Array(T + m);
  if (dLevel !== null) for (let t = 0; t < T; t++) dl[t] = dLevel[t];
  if (dTrend !== null && k.trend) for (let t = 0; t < T; t++) db[t] = dTrend[t];
  if (dSeason !== null) for (let t = 0; t < T + m; t++) ds[t] = dSeason[t];
  let dAlpha = 0;
  let dBeta = 0;
  let dGamma = 0;
  const none = mult ? 1 : 0;
  for (let t = T - 1; t >= 0; t--) {
    const st = m > 0 ? season[t] : none;
    const lt = level[t];
    let dzt = 0;
    if (m > 0) {
      // s_{t+m} = γ v_t + (1-γ) s_t
      const g = ds[t + m];
      const v = mult ? z[t] / lt : z[t] - lt;
      dGamma += g * (v - st);
      const dv = gamma * g;
      ds[t] += (1 - gamma) * g;
      if (mult) {
        dzt += dv / lt;
        dl[t] -= (dv * z[t]) / (lt * lt);
      } else {
        dzt += dv;
        dl[t] -= dv;
      }
    }
    const u = mult ? z[t] / st : z[t] - st;
    let du: number;
    if (t > 0) {
      // b_t = β (l_t - l_{t-1}) + (1-β) b_{t-1}
      if (k.trend) {
        const g = db[t];
        dBeta += g * (lt - level[t - 1] - trend[t - 1]);
        dl[t] += beta * g;
        dl[t - 1] -= beta * g;
        db[t - 1] += (1 - beta) * g;
      }
      // l_t = α u_t + (1-α)(l_{t-1} + b_{t-1})
      const g = dl[t];
      dAlpha += g * (u - level[t - 1] - trend[t - 1]);
      du = alpha * g;
      dl[t - 1] += (1 - alpha) * g;
      if (k.trend) db[t - 1] += (1 - alpha) * g;
    } else {
      du = dl[t];
    }
    if (mult) {
      dzt += du / st;
      if (m > 0) ds[t] -= (du * z[t]) / (st * st);
    } else {
      dzt += du;
      if (m > 0) ds[t] -= du;
    }
    dz[t] = dzt;
  }
  for (let i = 0; i < m; i++) ds0[i] = ds[i];
  return { dAlpha, dBeta, dGamma, db0: k.trend ? db[0] : 0 };
}

/**
 * The recursion as an autograd op: z (T), alpha, beta, gamma, b0 (one value each) and s0 (m) ->
 * [level (T), trend (T), season (T + m)]. An empty s0 (shape [0]) means no seasonality; `trend` false
 * means no trend (beta and b0 then get no gradient).
 */
export function holtWinters(
  z: Tensor,
  coefs: { alpha: Tensor; beta: Tensor; gamma: Tensor; b0: Tensor },
  s0: Tensor,
  mode: SeasonMode,
  trend: boolean,
): Tensor[] {
  const { alpha, beta, gamma, b0 } = coefs;
  if (z.ndim !== 1 || z.numel < 1)
    throw new ForecastError(`holtWinters: z must be 1-D and non-empty, got shape [${z.shape.join(", ")}]`);
  for (const [name, v] of [
    ["alpha", alpha],
    ["beta", beta],
    ["gamma", gamma],
    ["b0", b0],
  ] as const) {
    if (v.numel !== 1) throw new ForecastError(`holtWinters: ${name} must hold one value, got ${v.numel}`);
  }
  if (s0.ndim !== 1)
    throw new ForecastError(`holtWinters: s0 must be 1-D, got shape [${s0.shape.join(", ")}]`);
  const T = z.numel;
  const m = s0.numel;
  const k: EsCoefs = { alpha: alpha.data[0], beta: beta.data[0], gamma: gamma.data[0], trend };
  const level = new Float64Array(T);
  const tr = new Float64Array(T);
  const season = new Float64Array(T + m);
  esForward(z.data, k, s0.data, b0.data[0], mode, level, tr, season);
  return resultMulti(
    [Float32Array.from(level), Float32Array.from(tr), Float32Array.from(season)],
    [[T], [T], [T + m]],
    [z, alpha, beta, gamma, b0, s0],
    "HoltWintersBackward",
    ([dLevel, dTrend, dSeason]) => {
      const dz = new Float32Array(T);
      const ds0 = new Float32Array(m);
      const g = esBackward(z.data, k, mode, level, tr, season, dLevel, dTrend, dSeason, dz, ds0);
      return [
        dz,
        Float32Array.of(g.dAlpha),
        Float32Array.of(g.dBeta),
        Float32Array.of(g.dGamma),
        Float32Array.of(g.db0),
        ds0,
      ];
    },
  );
}
