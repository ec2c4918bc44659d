// Small autograd ops the hybrid needs beside the generic ones: `take` (PyTorch's torch.take: gather by
// flat index, backward scatter-add), the pinball (quantile) loss with a mask for targets past the end of
// a part, and Fourier features of absolute time. Each backward sits below its forward.
//
// N = windows, H = horizon, T = time steps, K = harmonics per period.

import { result, type Tensor } from "../../core/tensor.js";
import { ForecastError } from "../errors.js";

/** out[i] = src.flat[idx[i]] shaped `shape` (torch.take); the backward adds each gradient back at idx. */
export function take(src: Tensor, idx: Int32Array, shape: readonly number[]): Tensor {
  const n = idx.length;
  let numel = 1;
  for (const d of shape) numel *= d;
  if (numel !== n)
    throw new ForecastError(`take: shape [${shape.join(", ")}] holds ${numel} values, got ${n} indices`);
  const s = src.data;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const j = idx[i];
    if (!(j >= 0 && j < s.length)) {
      throw new ForecastError(`take: index ${j} is out of bounds for a tensor of ${s.length} values`);
    }
    out[i] = s[j];
  }
  return result(out, shape, [src], "TakeBackward", (g) => {
    const d = new Float32Array(s.length);
    for (let i = 0; i < n; i++) d[idx[i]] += g[i];
    return [d];
  });
}

/**
 * Pinball loss of quantile τ, averaged over the weighted elements:
 *   Σ w · ρ_τ(y - ŷ) / Σ w,   ρ_τ(e) = τ e for e >= 0, (τ - 1) e for e < 0.
 * τ = 0.5 gives half the mean absolute error. `weight` (0 or 1 per element) masks targets that are
 * not observed; null weighs all equally. At e = 0 the subgradient is taken as 0, as L1Loss does.
 */
export function pinballLoss(
  pred: Tensor, // (N, H)
  target: Float32Array, // (N, H)
  tau: number,
  weight: Float32Array | null = null, // (N, H)
): Tensor {
  if (!(tau > 0 && tau < 1))
    throw new ForecastError(`pinballLoss: the quantile must be in (0, 1), got ${tau}`);
  const n = pred.numel;
  if (target.length !== n || (weight !== null && weight.length !== n)) {
    throw new ForecastError(
      `pinballLoss: prediction has ${n} values but target ${target.length}${weight ? ` and weight ${weight.length}` : ""}`,
    );
  }
  const p = pred.data;
  let sw = 0;
  let s = 0;
  for (let i = 0; i < n; i++) {
    const w = weight === null ? 1 : weight[i];
    if (w === 0) continue;
    const e = target[i] - p[i];
    s += w * (e >= 0 ? tau * e : (tau - 1) * e);
    sw += w;
  }
  const denom = sw > 0 ? sw : 1;
  return result(Float32Array.of(s / denom), [], [pred], "PinballLossBackward", (g) => {
    const d = new Float32Array(n);
    const k = g[0] / denom;
    for (let i = 0; i < n; i++) {
      const w = weight === null ? 1 : weight[i];
      if (w === 0) continue;
      const e = target[i] - p[i];
      // d ρ(y - ŷ) / dŷ = -τ for e > 0, 1 - τ for e < 0
      d[i] = e > 0 ? -tau * w * k : e < 0 ? (1 - tau) * w * k : 0;
    }
    return [d];
  });
}

/**
 * Fourier terms of absolute times: for each period P and k = 1..K, sin(2πk t / P) and cos(2πk t / P).
 * Returns (T, 2·K·periods) in the order [sin_1, cos_1, ..., sin_K, cos_K] per period.
 */
export function fourierFeatures(
  times: ArrayLike<number>, // (T) in the periods' unit (days for daily data)
  periods: readonly { period: number; harmonics: number }[],
): Float32Array {
  const T = times.length;
  const C = periods.reduce((a, p) => a + 2 * p.harmonics, 0);
  const out = new Float32Array(T * C); // (T, C)
  for (let t = 0; t < T; t++) {
    let c = 0;
    for (const { period, harmonics } of periods) {
      // reduce the phase in float64 before the trigonometry, so large absolute times keep precision
      const phase = (((times[t] % period) + period) % period) / period;
      for (let k = 1; k <= harmonics; k++) {
        const a = 2 * Math.PI * k * phase;
        out[t * C + c++] = Math.sin(a);
        out[t * C + c++] = Math.cos(a);
      }
    }
  }
  return out;
}
