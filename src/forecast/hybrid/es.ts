// The exponential-smoothing half of the hybrid (Smyl's ES-RNN): a Holt-Winters level and seasonality
// recursion whose smoothing coefficients and initial seasonality are learned by gradient descent
// together with the network. A kernel pair on typed arrays (float64 inside), then one adapter that
// lifts it into the autograd graph.
//
// T = time steps, m = season length (0: no seasonality).
//
// multiplicative (positive series)            additive
//   l_0     = z_0 / s_0                          l_0     = z_0 - s_0
//   l_t     = α z_t / s_t + (1-α) l_{t-1}        l_t     = α (z_t - s_t) + (1-α) l_{t-1}
//   s_{t+m} = γ z_t / l_t + (1-γ) s_t            s_{t+m} = γ (z_t - l_t) + (1-γ) s_t
// with s_0..s_{m-1} the initial seasonality. Without seasonality s ≡ 1 (multiplicative) or 0
// (additive) and the level is simple exponential smoothing.
//
// The season array has T + m entries: s_{t+m} for t < T is known at time t, so the seasonality of the
// next m steps after the last observation is s_T .. s_{T+m-1}.

import { resultMulti, type Tensor } from "../../core/tensor.js";
import { ForecastError } from "../errors.js";

export type SeasonMode = "multiplicative" | "additive";

/** Forward recursion: fills level (T) and season (T + m). */
export function esForward(
  z: Float32Array, // (T)
  alpha: number,
  gamma: number,
  s0: Float32Array, // (m)
  mode: SeasonMode,
  level: Float64Array, // (T)       out
  season: Float64Array, // (T + m)  out
): void {
  const T = z.length;
  const m = s0.length;
  const mult = mode === "multiplicative";
  const none = mult ? 1 : 0;
  for (let i = 0; i < m; i++) season[i] = s0[i];
  for (let t = 0; t < T; t++) {
    const st = m > 0 ? season[t] : none;
    const u = mult ? z[t] / st : z[t] - st;
    level[t] = t === 0 ? u : alpha * u + (1 - alpha) * level[t - 1];
    if (m > 0) {
      const v = mult ? z[t] / level[t] : z[t] - level[t];
      season[t + m] = gamma * v + (1 - gamma) * st;
    }
  }
}

/**
 * Backward of `esForward`: from dLevel (T) and dSeason (T + m) to dz (T), dAlpha, dGamma and ds0 (m).
 * Runs the recursion in reverse; each quantity's gradient is complete once every later use is done.
 */
export function esBackward(
  z: Float32Array, // (T)
  alpha: number,
  gamma: number,
  mode: SeasonMode,
  level: Float64Array, // (T)       from the forward
  season: Float64Array, // (T + m)  from the forward
  dLevel: Float32Array | null, // (T)
  dSeason: Float32Array | null, // (T + m)
  dz: Float32Array, // (T)  out
  ds0: Float32Array, // (m) out
): { dAlpha: number; dGamma: number } {
  const T = z.length;
  const m = ds0.length;
  const mult = mode === "multiplicative";
  const dl = new Float64Array(T);
  const ds = new Float64Array(T + m);
  if (dLevel !== null) for (let t = 0; t < T; t++) dl[t] = dLevel[t];
  if (dSeason !== null) for (let t = 0; t < T + m; t++) ds[t] = dSeason[t];
  let dAlpha = 0;
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
    // l_t = α u_t + (1-α) l_{t-1}   (l_0 = u_0)
    const u = mult ? z[t] / st : z[t] - st;
    let du: number;
    if (t > 0) {
      dAlpha += dl[t] * (u - level[t - 1]);
      du = alpha * dl[t];
      dl[t - 1] += (1 - alpha) * dl[t];
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
  return { dAlpha, dGamma };
}

/**
 * The recursion as an autograd op: z (T), alpha (), gamma () and s0 (m) -> [level (T), season (T+m)].
 * Pass an empty s0 (shape [0]) for no seasonality; gamma is then unused.
 */
export function holtWinters(z: Tensor, alpha: Tensor, gamma: Tensor, s0: Tensor, mode: SeasonMode): Tensor[] {
  if (z.ndim !== 1 || z.numel < 1)
    throw new ForecastError(`holtWinters: z must be 1-D and non-empty, got shape [${z.shape.join(", ")}]`);
  if (alpha.numel !== 1 || gamma.numel !== 1)
    throw new ForecastError("holtWinters: alpha and gamma must hold one value each");
  if (s0.ndim !== 1)
    throw new ForecastError(`holtWinters: s0 must be 1-D, got shape [${s0.shape.join(", ")}]`);
  const T = z.numel;
  const m = s0.numel;
  const a = alpha.data[0];
  const g = gamma.data[0];
  const level = new Float64Array(T);
  const season = new Float64Array(T + m);
  esForward(z.data, a, g, s0.data, mode, level, season);
  return resultMulti(
    [Float32Array.from(level), Float32Array.from(season)],
    [[T], [T + m]],
    [z, alpha, gamma, s0],
    "HoltWintersBackward",
    ([dLevel, dSeason]) => {
      const dz = new Float32Array(T);
      const ds0 = new Float32Array(m);
      const { dAlpha, dGamma } = esBackward(z.data, a, g, mode, level, season, dLevel, dSeason, dz, ds0);
      return [dz, Float32Array.of(dAlpha), Float32Array.of(dGamma), ds0];
    },
  );
}
